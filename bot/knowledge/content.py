"""The spa's own content: its files, their saved versions, edits, export and import.

The spa owns three files of data/kb, edited by an owner on the staff page (/staff/content):
- spa.yml: the spa's details, front-desk answers, policies and its price list (`prices`);
- first_visit.yml: the first-visit answers;
- topics.yml: the answers to the common questions.
Everything else in data/kb is safety content or the assistant's vocabulary (conditions, red flags,
crisis lines, the emergency message, techniques...): it stays in version control with its sources
and is always read from data/kb. In spa.yml, `country` picks the emergency number and the crisis
lines, so it is read-only here too.

Every save is a new version in `content_versions`: the three files' texts, who, when and a short
summary. The first save also records data/kb's files as version 1 ("defaults"); until then
version 1 is data/kb itself. An edit is applied to the YAML text with ruamel.yaml's round trip (so
comments and layout survive), the whole knowledge base is validated by the loader's own schema,
and the knowledge-base rows are rewritten in the same transaction as the version is stored: every
Rasa replica and action server answers from it on its next message. Undo is a restore, which is
itself a new version, so nothing is ever lost.
"""
from __future__ import annotations

import difflib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.knowledge import models
from bot.knowledge.db import KB_DIR, get_engine
from bot.knowledge.loader import (
    KnowledgeBase,
    KnowledgeBaseError,
    parse_yaml,
    read_knowledge_base_texts,
    read_texts,
    saved_content,
    write_knowledge_base,
)
from bot.knowledge.prices import parse_amount

SPA_FILE, FIRST_VISIT_FILE, TOPICS_FILE = "spa.yml", "first_visit.yml", "topics.yml"
SPA_FILES = (SPA_FILE, FIRST_VISIT_FILE, TOPICS_FILE)
# Where each editable answer lives: file -> section.
ANSWER_SECTIONS = {TOPICS_FILE: "topics", FIRST_VISIT_FILE: "etiquette"}
READ_ONLY_SPA_FIELDS = ("country",)
DEFAULTS_AUTHOR, DEFAULTS_SUMMARY = "data/kb", "Defaults (data/kb)"
MAX_FILE_BYTES = 512 * 1024
FOLD_WIDTH = 92  # the width of data/kb's folded texts, so an edited answer looks like the others


class ContentError(ValueError):
    """Why an edit, an import or a restore was not saved, in words for the owner."""


class Conflict(ContentError):
    """Someone saved another version since this form was opened."""


class NoChange(ContentError):
    """The edit leaves the content as it is: no new version."""


@dataclass(frozen=True)
class Version:
    """One version of the spa's files; `saved` is False for data/kb before the first save."""

    number: int
    created_at: Optional[datetime]
    author: str
    summary: str
    files: Dict[str, str] = field(repr=False)
    restored_from: Optional[int] = None
    saved: bool = True


# --- versions -------------------------------------------------------------------------------

def default_files(kb_dir: Path = KB_DIR) -> Dict[str, str]:
    """The spa's files as data/kb holds them, byte for byte."""
    texts = read_texts(kb_dir)
    return {name: texts[name] for name in SPA_FILES}


def _defaults(kb_dir: Path) -> Version:
    return Version(1, None, DEFAULTS_AUTHOR, DEFAULTS_SUMMARY, default_files(kb_dir), saved=False)


def _version(row: models.ContentVersion) -> Version:
    return Version(row.number, row.created_at, row.author, row.summary, dict(row.files), row.restored_from)


def current(url: Optional[str] = None, kb_dir: Path = KB_DIR) -> Version:
    """The version the assistant answers from."""
    with Session(get_engine(url), future=True) as session:
        newest = saved_content(session)
        return _version(newest) if newest is not None else _defaults(kb_dir)


def versions(url: Optional[str] = None, kb_dir: Path = KB_DIR) -> List[Version]:
    """Every version, newest first (data/kb alone while nothing was saved)."""
    with Session(get_engine(url), future=True) as session:
        rows = session.execute(
            select(models.ContentVersion).order_by(models.ContentVersion.number.desc())).scalars().all()
        return [_version(row) for row in rows] or [_defaults(kb_dir)]


def version(number: int, url: Optional[str] = None, kb_dir: Path = KB_DIR) -> Optional[Version]:
    """One version by its number, or None."""
    with Session(get_engine(url), future=True) as session:
        row = session.get(models.ContentVersion, number)
        if row is not None:
            return _version(row)
        if number == 1 and saved_content(session) is None:
            return _defaults(kb_dir)
        return None


def validate(files: Mapping[str, str], kb_dir: Path = KB_DIR) -> KnowledgeBase:
    """The whole knowledge base with these spa files and data/kb's safety files, checked by the
    loader; raises KnowledgeBaseError naming the file, the entry and the field."""
    texts = read_texts(kb_dir)
    return read_knowledge_base_texts({**texts, **{name: files[name] for name in SPA_FILES if name in files}}, kb_dir)


def save(files: Mapping[str, str], author: str, summary: str, base: Optional[int] = None,
         url: Optional[str] = None, kb_dir: Path = KB_DIR, restored_from: Optional[int] = None) -> Version:
    """Store the files as a new version and rewrite the knowledge-base rows, in one transaction.

    `base` is the version the owner was looking at: if another was saved since, nothing is saved
    (Conflict), so nobody overwrites a change they have not seen.
    """
    try:
        with Session(get_engine(url), future=True) as session, session.begin():
            newest = saved_content(session)
            now_at = newest.number if newest is not None else 1
            if base is not None and base != now_at:
                raise Conflict(f"Version {now_at} was saved after you opened this page, so nothing was saved. "
                               "Check the page as it is now, then make your change again.")
            before = dict(newest.files) if newest is not None else default_files(kb_dir)
            after = {name: _normalise(files.get(name, before[name])) for name in SPA_FILES}
            if after == before:
                raise NoChange("Nothing changed, so no new version was saved.")
            check_read_only(before, after)
            kb = validate(after, kb_dir)
            created = datetime.utcnow()
            if newest is None:
                session.add(models.ContentVersion(number=1, created_at=created, author=DEFAULTS_AUTHOR,
                                                  summary=DEFAULTS_SUMMARY, files=before))
            row = models.ContentVersion(number=now_at + 1, created_at=created, author=author,
                                        summary=summary[:300], restored_from=restored_from, files=after)
            session.add(row)
            write_knowledge_base(kb, session)
            saved = _version(row)
    except IntegrityError as error:  # another owner saved the same version number a moment earlier
        raise Conflict("Another change was saved at the same moment, so nothing was saved. "
                       "Reload the page and make your change again.") from error
    return saved


def restore(number: int, author: str, base: Optional[int] = None, url: Optional[str] = None,
            kb_dir: Path = KB_DIR) -> Version:
    """Bring back an earlier version's files as a new version (an undo that can itself be undone)."""
    earlier = version(number, url, kb_dir)
    if earlier is None:
        raise ContentError(f"There is no version {number}.")
    return save(earlier.files, author, f"Restored version {number}", base, url, kb_dir, restored_from=number)


def check_read_only(before: Mapping[str, str], after: Mapping[str, str]) -> None:
    """Fields of the spa's files that carry safety (the country picks the crisis lines) stay as they are."""
    old = (parse_yaml(before[SPA_FILE]) or {}).get("spa") or {}
    new = parse_yaml(after[SPA_FILE]) or {}
    new = new.get("spa") if isinstance(new, dict) else None
    if not isinstance(old, dict) or not isinstance(new, dict):
        return  # the loader says what is wrong with the file
    for name in READ_ONLY_SPA_FIELDS:
        if str(new.get(name)) != str(old.get(name)):
            raise KnowledgeBaseError(
                Path(SPA_FILE), "spa", f"field '{name}' cannot be changed here: it picks the emergency number and "
                f"crisis lines, which are safety content kept in data/kb under version control", name)


# --- edits ----------------------------------------------------------------------------------

def _yaml() -> YAML:
    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = 4096  # never re-wrap what the spa wrote; edited texts are folded below
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def _load(text: str) -> Any:
    return _yaml().load(text)


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _normalise(text: str) -> str:
    """Line endings as data/kb has them (forms and uploads may send CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(text: str) -> str:
    """A typed answer: no trailing spaces on its lines, no blank lines around it."""
    lines = [line.rstrip() for line in _normalise(text or "").split("\n")]
    return "\n".join(lines).strip("\n").strip()


def _fold_positions(text: str, width: int = FOLD_WIDTH) -> List[int]:
    """Where a folded YAML text breaks its lines: at single spaces, before `width` is reached."""
    positions, line_start = [], 0
    last_space = -1
    for index, char in enumerate(text):
        if char == " " and 0 < index < len(text) - 1 and text[index - 1] != " " and text[index + 1] != " ":
            last_space = index
        if index - line_start >= width and last_space > line_start:
            positions.append(last_space)
            line_start = last_space + 1
    return positions


def _styled(old: Any, text: str) -> Any:
    """The new text in the style of the old one: several lines stay a literal block, long texts are
    folded like the rest of data/kb, and quoted values stay quoted."""
    if not text:
        return DoubleQuotedScalarString("")  # as data/kb writes a front-desk answer left empty
    if "\n" in text:
        return LiteralScalarString(text)
    if isinstance(old, FoldedScalarString) or isinstance(old, LiteralScalarString) or len(text) > 72:
        folded = FoldedScalarString(" ".join(text.split()))
        folded.fold_pos = _fold_positions(str(folded))  # type: ignore[attr-defined]
        return folded
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    return text


def _set_text(container: Any, key: str, text: str) -> None:
    """Set a text so that the loader reads back what was meant (a plain `yes` would read as true,
    for one): when the styled text does not come back as itself, it is written double-quoted."""
    styled = _styled(container.get(key), text)
    if (parse_yaml(_dump(CommentedMap([(key, styled)]))) or {}).get(key) != str(styled):
        styled = DoubleQuotedScalarString(text)
    container[key] = styled


def edit_spa_details(files: Mapping[str, str], values: Mapping[str, str]) -> Dict[str, str]:
    """spa.yml with these fields of the `spa` section changed (read-only fields are left alone)."""
    data = _load(files[SPA_FILE])
    spa = data["spa"]
    for name, value in values.items():
        if name not in READ_ONLY_SPA_FIELDS and name in spa and clean_text(value) != str(spa[name] or ""):
            _set_text(spa, name, clean_text(value))
    return {**files, SPA_FILE: _dump(data)}


def edit_prices(files: Mapping[str, str], rows: Sequence[Mapping[str, str]],
                settings: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """spa.yml with the price list replaced by `rows` ({service, minutes, price} as typed; blank
    rows dropped). Values that are not numbers are written as typed, for the loader to name."""
    data = _load(files[SPA_FILE])
    for name, value in (settings or {}).items():
        if name in data["spa"] and clean_text(value) != str(data["spa"][name] or ""):
            _set_text(data["spa"], name, clean_text(value))
    old = data.get("prices")
    flow = True  # one line per price, as data/kb writes them
    if isinstance(old, CommentedSeq) and old and isinstance(old[0], CommentedMap):
        flow = bool(old[0].fa.flow_style())
    new = CommentedSeq()
    for row in rows:
        typed = {name: " ".join(str(row.get(name) or "").split()) for name in ("service", "minutes", "price")}
        if not any(typed.values()):
            continue
        entry = CommentedMap([("service", typed["service"]), ("minutes", _number(typed["minutes"], whole=True)),
                              ("price", _number(typed["price"]))])
        if flow:
            entry.fa.set_flow_style()
        new.append(entry)
    if isinstance(old, CommentedSeq):
        old.clear()
        old.extend(new)
    else:
        data["prices"] = new
    return {**files, SPA_FILE: _dump(data)}


def _number(typed: str, whole: bool = False) -> Any:
    if whole:
        return int(typed) if typed.isdigit() else typed
    try:
        amount = parse_amount(typed)
    except ValueError:
        return typed
    return int(amount) if "." not in amount else float(amount)


def edit_answer(files: Mapping[str, str], file_name: str, entry_id: str, text: str) -> Dict[str, str]:
    """The file with one FAQ or first-visit entry's `answer` changed; KeyError for an unknown entry."""
    data = _load(files[file_name])
    for entry in data.get(ANSWER_SECTIONS[file_name]) or []:
        if str(entry.get("id")) == entry_id:
            _set_text(entry, "answer", clean_text(text))
            return {**files, file_name: _dump(data)}
    raise KeyError(entry_id)


# --- what changed ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffLine:
    kind: str  # "hunk", "same", "added", "removed"
    text: str
    old_number: Optional[int] = None
    new_number: Optional[int] = None


@dataclass(frozen=True)
class FileDiff:
    name: str
    lines: Tuple[DiffLine, ...]
    added: int
    removed: int


def diff(before: Mapping[str, str], after: Mapping[str, str], context: int = 2) -> List[FileDiff]:
    """What changed between two versions, file by file (unchanged files left out), for the page to
    show line by line (the template escapes every line)."""
    found = []
    for name in SPA_FILES:
        old, new = before.get(name, "").splitlines(), after.get(name, "").splitlines()
        if old == new:
            continue
        lines: List[DiffLine] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for group in matcher.get_grouped_opcodes(context):
            first, last = group[0], group[-1]
            lines.append(DiffLine("hunk", f"Lines {first[1] + 1}-{last[2]} before, {first[3] + 1}-{last[4]} after"))
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    lines.extend(DiffLine("same", old[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2))
                    continue
                lines.extend(DiffLine("removed", old[i], i + 1, None) for i in range(i1, i2))
                lines.extend(DiffLine("added", new[j], None, j + 1) for j in range(j1, j2))
        found.append(FileDiff(name, tuple(lines), sum(ln.kind == "added" for ln in lines),
                              sum(ln.kind == "removed" for ln in lines)))
    return found


# --- export and import ----------------------------------------------------------------------

def export_zip(files: Mapping[str, str], when: Optional[datetime] = None) -> bytes:
    """The spa's files in a .zip, each exactly as the version holds it (data/kb's layout)."""
    stamp = (when or datetime(2026, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SPA_FILES:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].encode("utf-8"))
    return out.getvalue()


def read_upload(uploads: Sequence[Tuple[str, bytes]]) -> Dict[str, str]:
    """The spa's files from an upload: the YAML files themselves or a .zip of them (as exported).

    Raises ContentError naming the file when it is not one of the spa's files or not text.
    """
    files: Dict[str, str] = {}
    for name, body in uploads:
        base = Path(name or "").name
        if not base and not body:
            continue
        if base.lower().endswith(".zip"):
            for member, data in _unzip(base, body):
                _add_upload(files, member, data)
        else:
            _add_upload(files, base, body)
    if not files:
        raise ContentError("Choose the files to import: spa.yml, first_visit.yml, topics.yml, or a .zip of them.")
    return files


def _unzip(name: str, body: bytes) -> List[Tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in members) > MAX_FILE_BYTES * len(SPA_FILES):
                raise ContentError(f"{name} is too large to be the spa's content.")
            return [(Path(info.filename).name, archive.read(info)) for info in members]
    except zipfile.BadZipFile as error:
        raise ContentError(f"{name} is not a readable .zip file.") from error


def _add_upload(files: Dict[str, str], name: str, body: bytes) -> None:
    if name not in SPA_FILES:
        raise ContentError(
            f"{name} is not one of the spa's files ({', '.join(SPA_FILES)}). Safety content (conditions, red "
            "flags, crisis lines) is changed in data/kb under version control, not here.")
    if name in files:
        raise ContentError(f"{name} was uploaded twice; choose each file once.")
    if len(body) > MAX_FILE_BYTES:
        raise ContentError(f"{name} is too large ({len(body) // 1024} KB); the spa's files are far smaller.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ContentError(f"{name} is not a UTF-8 text file.") from error
    files[name] = _normalise(text.removeprefix("\ufeff"))
