"""An email to the spa for each new booking request, so nobody has to watch the staff page.

Configured by the environment; with SMTP_HOST unset nothing is sent (the staff page still lists
every request):
- SMTP_HOST, SMTP_PORT (587), SMTP_USER and SMTP_PASSWORD (log in only when SMTP_USER is set);
- SMTP_STARTTLS: on by default, off by default on ports 25 and 1025 (a local relay or a
  development server); port 465 uses TLS from the start (SMTP_SSL). With STARTTLS on, a server
  that does not offer it gets nothing, so a password never travels in clear;
- SMTP_FROM: the sender (default SMTP_USER when it is an address, else the first recipient);
- SMTP_TIMEOUT_S: seconds to wait for the mail server (10);
- BOOKING_NOTIFY_TO: recipients, comma separated (default the spa's `email` in data/kb/spa.yml);
- STAFF_PAGE_URL: the address staff open the assistant's server at (https://chat.spa.example);
  the email links to <STAFF_PAGE_URL>/staff/requests/<code>.

`notify_new_request` returns at once and sends from a worker thread, so the action server's event
loop never waits for a mail server; a failure is logged (without personal data) and never raised.
The subject carries only the reference code and the service; health details stay in the body.
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, List, Mapping, Optional, Set, Tuple, Union

from bot.booking.contact import display_contact
from bot.booking.intake import summary_lines
from bot.booking.models import BookingRequest
from bot.booking.when import describe_time

logger = logging.getLogger(__name__)

DEFAULT_PORT = 587
PLAIN_PORTS = (25, 1025)  # local relays and development servers: no STARTTLS unless asked for
SSL_PORT = 465
DEFAULT_TIMEOUT_S = 10.0
STAFF_REQUEST_PATH = "/staff/requests/"
CHANNEL_NAMES = {"web": "website chat", "kiosk": "reception kiosk", "rest": "chat",
                 "telegram": "Telegram", "twilio": "SMS", "facebook": "Messenger"}

Request = Union[BookingRequest, Mapping[str, Any]]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send the spa's booking emails."""

    host: str
    recipients: Tuple[str, ...]
    sender: str
    port: int = DEFAULT_PORT
    user: Optional[str] = None
    password: Optional[str] = None
    starttls: bool = True
    ssl: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    staff_page_url: Optional[str] = None


def smtp_settings(env: Optional[Mapping[str, str]] = None) -> Optional[SmtpSettings]:
    """The settings from the environment, or None when emails are off (no SMTP_HOST) or there is
    nobody to send them to."""
    env = os.environ if env is None else env
    host = (env.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    port = int(env.get("SMTP_PORT") or DEFAULT_PORT)
    user = (env.get("SMTP_USER") or "").strip() or None
    recipients = _addresses(env.get("BOOKING_NOTIFY_TO") or _spa_email())
    if not recipients:
        logger.warning("Booking emails are on but have no recipient: set BOOKING_NOTIFY_TO or the spa email.")
        return None
    sender = (env.get("SMTP_FROM") or "").strip() or (user if user and "@" in user else recipients[0])
    use_ssl = port == SSL_PORT
    return SmtpSettings(
        host=host, port=port, user=user, password=env.get("SMTP_PASSWORD") or None, sender=sender,
        recipients=recipients, ssl=use_ssl,
        starttls=not use_ssl and _flag(env.get("SMTP_STARTTLS"), default=port not in PLAIN_PORTS),
        timeout_s=float(env.get("SMTP_TIMEOUT_S") or DEFAULT_TIMEOUT_S),
        staff_page_url=(env.get("STAFF_PAGE_URL") or "").strip() or None,
    )


def notify_new_request(request: Request) -> None:
    """Email the spa about a request just stored, without making the caller wait. Does nothing
    when SMTP_HOST is unset; never raises."""
    try:
        if not (os.environ.get("SMTP_HOST") or "").strip():
            return
        snapshot = dict(_fields(request))  # plain values: the worker never touches the ORM object
        future = _executor().submit(_send_quietly, snapshot)
        with _lock:
            _pending.add(future)
        future.add_done_callback(_forget)
    except Exception as error:  # a notification must never break the booking itself
        logger.error("Could not queue the booking email (%s).", type(error).__name__)


def wait_for_pending(timeout: Optional[float] = None) -> bool:
    """Wait until the emails queued so far are sent or given up (tests, and an orderly shutdown);
    True when none is left."""
    with _lock:
        futures = set(_pending)
    _, not_done = wait(futures, timeout=timeout)
    return not not_done


def send_notification(request: Request, settings: SmtpSettings) -> None:
    """Send the email now, in the calling thread; raises what smtplib raises."""
    deliver(build_message(request, settings), settings)


def deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    """Hand one email to the mail server: implicit TLS on 465, STARTTLS unless turned off, log in
    only with a user; raises what smtplib raises. The clients' emails go out the same way."""
    if settings.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    with client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.user:
            client.login(settings.user, settings.password or "")
        client.send_message(message, from_addr=settings.sender, to_addrs=list(settings.recipients))


def build_message(request: Request, settings: SmtpSettings) -> EmailMessage:
    """The email: the code and service in the subject, everything staff need in the body."""
    fields = _fields(request)
    message = EmailMessage()
    message["Subject"] = f"New booking request {fields.get('code')}: {service(fields)}"
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    reply_to = _address(fields.get("email"))
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content("\n".join(body_lines(fields, settings.staff_page_url)) + "\n")
    return message


def body_lines(fields: Mapping[str, Any], staff_page_url: Optional[str] = None) -> List[str]:
    """The plain-text body: what was asked for, when, how to reach the person, then the intake."""
    channel = str(fields.get("channel") or "")
    lines = [
        f"A new booking request came in through the {CHANNEL_NAMES.get(channel, channel or 'assistant')}.",
        "",
        f"Reference: {fields.get('code')}",
        f"Service: {service(fields)}",
        f"Preferred time: {preferred_time(fields)}",
    ]
    lines += contact_lines(fields)
    created = fields.get("created_at")
    if isinstance(created, datetime):
        lines.append(f"Received: {created:%Y-%m-%d %H:%M} UTC")
    intake = summary_lines(fields.get("intake") or {})
    lines += ["", "What they told the assistant:"]
    lines += [f"- {line}" for line in intake] or ["- nothing about conditions, areas or goals"]
    link = staff_link(staff_page_url, str(fields.get("code")))
    if link:
        lines += ["", f"Open the request: {link}"]
    return lines


def service(fields: Mapping[str, Any]) -> str:
    name = fields.get("technique_name") or "Massage (no technique chosen)"
    minutes = fields.get("minutes")
    return f"{name}, {minutes} minutes" if minutes else str(name)


def preferred_time(fields: Mapping[str, Any]) -> str:
    when, words = fields.get("preferred_at"), fields.get("preferred_text")
    if isinstance(when, datetime):
        text = f"{describe_time(when, now=datetime.utcnow())} (spa time)"
        return f"{text}; they wrote \"{words}\"" if words else text
    return f"\"{words}\" (not read as a date: please confirm)" if words else "not given"


def contact_lines(fields: Mapping[str, Any]) -> List[str]:
    name, phone, email = fields.get("name"), fields.get("phone"), fields.get("email")
    lines = [f"Name: {name}"] if name else []
    if phone:
        lines.append(f"Phone: {display_contact(str(phone))}")
    if email:
        lines.append(f"Email: {email}")
    if not (phone or email):
        where = "at the reception kiosk: ask in person" if fields.get("channel") == "kiosk" else "none given"
        lines.append(f"Contact: {where}")
    return lines


def staff_link(base: Optional[str], code: str) -> Optional[str]:
    """<base>/staff/requests/<code>; a base that already ends in /staff or /staff/requests works too."""
    if not base:
        return None
    base = base.rstrip("/")
    for suffix in (STAFF_REQUEST_PATH.rstrip("/"), "/staff"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}{STAFF_REQUEST_PATH}{code}"


def _fields(request: Request) -> Mapping[str, Any]:
    return request.as_dict() if isinstance(request, BookingRequest) else request


def _send_quietly(fields: Mapping[str, Any]) -> None:
    code = fields.get("code")
    try:
        settings = smtp_settings()
        if settings is None:
            return
        send_notification(fields, settings)
        logger.info("Emailed the spa about booking request %s.", code)
    except Exception as error:  # logged by type only: smtplib errors can quote the message
        logger.error("Could not email the spa about booking request %s (%s).", code, type(error).__name__)


def _spa_email() -> str:
    try:
        from bot.knowledge import queries

        return queries.settings("spa").get("email", "")
    except Exception as error:
        logger.warning("Could not read the spa email for booking emails (%s).", type(error).__name__)
        return ""


def _addresses(text: Optional[str]) -> Tuple[str, ...]:
    return tuple(a for a in (_address(part) for part in (text or "").split(",")) if a)


def _address(text: Any) -> Optional[str]:
    address = parseaddr(str(text or "").strip())[1]
    return address if "@" in address and not any(c.isspace() for c in address) else None


def _flag(value: Optional[str], default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


_lock = threading.Lock()
_pending: Set[Future] = set()
_pool: List[ThreadPoolExecutor] = []


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="booking-email"))
        return _pool[0]


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)
