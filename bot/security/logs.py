"""Keep message text, entity values and tokens out of the logs, whatever library logs them.

A log record factory (it sees every record of every logger, before any handler) formats the
record once and removes:
- the text of the message being handled (set by the message guard in a context variable, so it
  follows the message through Rasa's processing of it), and its entity values when known;
- `token=...` in URLs, `"text": ...`, `"value": ...`, `parse_data`/`entities` dumps and SQL
  parameter dumps, which carry message content in Rasa's and SQLAlchemy's messages.
Tracebacks are formatted and redacted the same way.
"""
from __future__ import annotations

import contextvars
import logging
import re
import traceback
from contextlib import contextmanager
from typing import Iterator, List, Sequence

REDACTED = "[redacted]"
_in_flight: contextvars.ContextVar[Sequence[str]] = contextvars.ContextVar("security_redact", default=())
_PATTERNS = [
    (re.compile(r"(token=)[^&\s'\"]+", re.I), r"\1" + REDACTED),
    (re.compile(r"""(["'](?:text|value|message|user_text|Body)["']\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""),
     r"\1'" + REDACTED + "'"),
    (re.compile(r"""(user_text=)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""), r"\1'" + REDACTED + "'"),
    (re.compile(r"(\[parameters: ).*?(\]\s*(?:\(Background|$))", re.S), r"\1" + REDACTED + r"\2"),
    (re.compile(r"""(user message ')(?:[^'\\]|\\.)*(')"""), r"\1" + REDACTED + r"\2"),
]
_installed = False


@contextmanager
def redacting(*secrets: str) -> Iterator[None]:
    """Everything logged inside this block (and the tasks it starts) has `secrets` removed."""
    values = tuple(s for s in secrets if s and len(s.strip()) >= 2)
    token = _in_flight.set(tuple(_in_flight.get()) + values)
    try:
        yield
    finally:
        _in_flight.reset(token)


def add_secrets(*secrets: str) -> None:
    """Also redact these (e.g. entity values found in the message) for the rest of this context."""
    values = tuple(s for s in secrets if s and len(s.strip()) >= 2)
    if values:
        _in_flight.set(tuple(_in_flight.get()) + values)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        # the same text as Python's repr or JSON would quote it
        quoted = secret.encode("unicode_escape").decode("ascii")
        if quoted != secret:
            text = text.replace(quoted, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    secrets: List[str] = list(_in_flight.get())
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep only the template
        message = str(record.msg)
    record.msg, record.args = redact(message, secrets), ()
    if record.exc_info and record.exc_info[0] is not None:
        formatted = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = redact(formatted.rstrip("\n"), secrets)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)


def install() -> None:
    """Redact every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:  # type: ignore[no-untyped-def]
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def failure_site(error: BaseException) -> str:
    """Where an exception was raised, as `module.py:line in function` of the project's innermost
    frame (or the library's, when none is the project's): enough to find a failure in a log,
    without the exception's message, which can quote what the person wrote."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    ours = [f for f in frames if "/site-packages/" not in f.filename]
    frame = frames[-1]
    inside = ours[-1] if ours else frame
    where = f"{_short(inside.filename)}:{inside.lineno} in {inside.name}"
    if inside is not frame:
        where += f", raised in {_short(frame.filename)}:{frame.lineno}"
    return where


def _short(filename: str) -> str:
    """The file with its folder: bot/security/hooks.py -> security/hooks.py."""
    return "/".join(filename.replace("\\", "/").split("/")[-2:])
