"""The servers, people and clock for tests/e2e/test_appointments_over_http.py.

The servers are the real Rasa server and action server (tests/security/harness.py) on their own
SQLite database, seeded from a copy of data/kb in which the spa books at once
(`instant_confirmation: "yes"`). Client emails go to a local SMTP server (aiosmtpd) and client
texts to a local stand-in for Twilio's REST API (TWILIO_API_URL), so both can be read back. The
action server's own reminder loop is off: the tests run `python -m bot.booking.reminders` with the
clock they need.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from zoneinfo import ZoneInfo

import requests
import yaml
from sqlalchemy import select

from bot.booking.appointments import Appointment
from bot.knowledge.db import get_session
from bot.knowledge.loader import load
from tests.channels.fake_apis import FakeApis
from tests.channels.test_messaging import post_twilio, twilio_form, twilio_sent
from tests.conftest import KB_DIR, PROJECT_ROOT
from tests.security.harness import CHANNEL_ENV, secured_servers
from tests.servers import buttons
from tests.unit.test_booking_notify import Inbox, serve

SPA = yaml.safe_load((KB_DIR / "spa.yml").read_text())["spa"]
ZONE = ZoneInfo(SPA["timezone"])
CLOSED_DATES = {date.fromisoformat(d.strip()) for d in SPA["closed_dates"].split(",") if d.strip()}
# Longer than the spa's default 24 hours, so the first free time (on a Saturday evening that is
# Monday morning, after a holiday Tuesday) is inside it whatever day the suite runs.
NOTICE_HOURS = 72
SHOW = os.environ.get("SHOW_CONVERSATIONS") == "1"


@contextmanager
def appointment_servers(workdir: Path) -> Iterator[Dict[str, Any]]:
    """Both servers, booking at once, with the client's email and texts captured."""
    kb = workdir / "kb"
    shutil.copytree(KB_DIR, kb)
    spa_file = kb / "spa.yml"
    original = spa_file.read_text()
    changed = (original.replace('instant_confirmation: "no"', 'instant_confirmation: "yes"')
               .replace('cancellation_notice_hours: "24"', f'cancellation_notice_hours: "{NOTICE_HOURS}"'))
    assert changed.count('"yes"') > original.count('"yes"') and f'"{NOTICE_HOURS}"' in changed
    spa_file.write_text(changed)
    database = f"sqlite:///{workdir / 'spa.db'}"
    load(kb, database)
    inbox = Inbox()
    smtp = serve(inbox)
    try:
        with FakeApis() as texts:
            env = {
                "DATABASE_URL": database, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
                "SMTP_STARTTLS": "off", "TWILIO_API_URL": texts.url, "REMINDER_INTERVAL_S": "0",
                "RATE_LIMIT_ADDRESS": "100000/60", "RATE_LIMIT_CONVERSATION": "100000/60",
            }
            with secured_servers(workdir, extra_env=env) as servers:
                yield {**servers, "database": database, "inbox": inbox, "texts": texts, "env": env}
    finally:
        smtp.stop()


# --- people -------------------------------------------------------------------------------------

@dataclass
class Transcript:
    """What was said, in order, to print when SHOW_CONVERSATIONS=1."""

    title: str
    lines: List[str] = field(default_factory=list)

    def said(self, who: str, message: str) -> None:
        self.lines.append(f"{who}: {message}")

    def answered(self, who: str, messages: List[Dict[str, Any]]) -> None:
        for message in messages:
            if message.get("text"):
                self.lines.append(f"  assistant to {who}: " + message["text"].replace("\n", "\n    "))
            for button in message.get("buttons") or []:
                self.lines.append(f"    [{button['title']}]")

    def answered_sms(self, who: str, texts: List[str]) -> None:
        for text in texts:
            self.lines.append(f"  assistant to {who} (SMS): " + text.replace("\n", "\n    "))

    def note(self, text: str) -> None:
        self.lines.append(f"  ({text})")

    def show(self, capsys: Any) -> None:
        if not SHOW:
            return
        with capsys.disabled():
            print(f"\n===== {self.title} =====\n" + "\n".join(self.lines) + "\n")


class Visitor:
    """One person in the website chat (the REST protocol)."""

    def __init__(self, servers: Dict[str, Any], who: str = "person", transcript: Optional[Transcript] = None) -> None:
        self.url = f"{servers['url']}/webhooks/rest/webhook"
        self.sender = f"appointments-{uuid.uuid4().hex[:12]}"
        self.who, self.transcript = who, transcript

    def say(self, message: str) -> List[Dict[str, Any]]:
        response = requests.post(self.url, json={"sender": self.sender, "message": message}, timeout=90)
        response.raise_for_status()
        if self.transcript is not None:
            self.transcript.said(self.who, message)
            self.transcript.answered(self.who, response.json())
        return response.json()


class Texter:
    """One person writing to the spa's number by SMS (Twilio's webhook, signed)."""

    def __init__(self, servers: Dict[str, Any], number: str, who: str = "person",
                 transcript: Optional[Transcript] = None) -> None:
        self.servers, self.number, self.who, self.transcript = servers, number, who, transcript

    def say(self, message: str) -> List[str]:
        before = len(twilio_sent(self.servers["fake"], self.number))
        response = post_twilio(self.servers, twilio_form(self.number, message))
        assert response.status_code == 204, response.text
        replies = twilio_sent(self.servers["fake"], self.number)[before:]
        if self.transcript is not None:
            self.transcript.said(f"{self.who} (SMS from {self.number})", message)
            self.transcript.answered_sms(self.who, replies)
        return replies


def time_buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    """The buttons that pick a free time."""
    return [b for b in buttons(messages) if '"booking_slot"' in b["payload"] and "waitlist" not in b["payload"]]


def button(messages: List[Dict[str, Any]], title: str) -> str:
    return next(b["payload"] for b in buttons(messages) if b["title"] == title)


def slot_of(payload: str) -> str:
    """`/book_session{"booking_slot": "20261208T1500Z maria room-1"}` -> "20261208T1500Z maria room-1"."""
    return payload.split('"booking_slot": "', 1)[1].split('"', 1)[0]


def start_of(slot: str) -> datetime:
    return datetime.strptime(slot.split()[0], "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)


def to_the_times(person: Visitor, opening: str = "I'd like to book a massage") -> List[Dict[str, Any]]:
    """Past the safety checklist (nothing applies) and the service (Swedish, 60 minutes)."""
    person.say(opening)
    service = person.say("/deny")
    length = person.say(button(service, "Swedish massage"))
    return person.say(button(length, "60 minutes"))


def to_the_summary(person: Visitor, choice: str, name: str, contact: str) -> List[Dict[str, Any]]:
    """Pick a time (a button's payload or typed), then name, contact and consent."""
    person.say(choice)
    person.say(name)
    consent = person.say(contact)
    return person.say(button(consent, "Yes"))


# --- the spa's calendar and the database ------------------------------------------------------

def spa_today() -> date:
    return datetime.now(ZONE).date()


def open_day(at_least_days_ahead: int, weekdays: range = range(0, 6)) -> date:
    """The first day the spa opens (Monday to Saturday, not a closed date) at least that far ahead."""
    day = spa_today() + timedelta(days=at_least_days_ahead)
    while day.weekday() not in weekdays or day in CLOSED_DATES:
        day += timedelta(days=1)
    return day


def said(day: date) -> str:
    """A day as people write it: "Wednesday 9 December"."""
    return f"{day:%A} {day.day} {day:%B}"


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


def appointments(database: str, **where: Any) -> List[Appointment]:
    statement = select(Appointment).filter_by(**where).order_by(Appointment.starts_at, Appointment.id)
    with get_session(database) as session:
        return list(session.execute(statement).scalars())


def live(database: str) -> List[Appointment]:
    return [a for a in appointments(database) if a.status in ("held", "confirmed")]


def overlapping(appointments_: List[Appointment]) -> List[tuple]:
    """Pairs of live appointments that share a therapist or a room at the same time."""
    clashes = []
    for i, first in enumerate(appointments_):
        for second in appointments_[i + 1:]:
            if first.starts_at < second.ends_at and second.starts_at < first.ends_at and (
                    first.therapist_id == second.therapist_id or first.room_id == second.room_id):
                clashes.append((first, second))
    return clashes


def run_reminders(servers: Dict[str, Any], now: datetime) -> str:
    """One pass of `python -m bot.booking.reminders` with that clock and the servers' settings."""
    env = dict(os.environ, **CHANNEL_ENV, **servers["env"], PYTHONPATH=str(PROJECT_ROOT))
    done = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot.booking.reminders", "--once",
         "--now", now.isoformat()],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def emails_to(inbox: Inbox, address: str) -> List[EmailMessage]:
    return [m for m, to in zip(list(inbox.messages), list(inbox.recipients)) if address in to]


def texts_to(fake: FakeApis, number: str) -> List[str]:
    return twilio_sent(fake, number)

