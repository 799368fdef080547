"""The reminder the day before, kept in the appointments table: each is sent once, however many
passes or replicas look for it; a late booking, a cancelled appointment and a reminder already
sent get nothing; a moved appointment is reminded again with its new time; the loop outlives a
database error; and `python -m bot.booking.reminders --once --now ...` drives the clock."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, List

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.booking import appointment_store, reminders
from bot.booking.appointments import Appointment, Room, Therapist
from bot.knowledge.db import get_engine
from bot.knowledge.loader import load
from tests.conftest import KB_DIR, PROJECT_ROOT
from tests.unit.test_booking_notify import Inbox
from tests.unit.test_client_notify import TwilioStandIn, inbox, twilio  # noqa: F401  (fixtures)

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
CLIENT_EMAIL, CLIENT_PHONE = "dana@example.com", "+12025550143"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The knowledge base from data/kb (the spa's name, address and time zone) with two
    therapists and two rooms of its own; DATABASE_URL points at it, as in a deployment."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reminders') / 'kb.db'}"
    load(KB_DIR, url)
    with Session(get_engine(url), future=True) as session, session.begin():
        for therapist_id, name in (("test-maria", "Maria Lopez"), ("test-sam", "Sam Okafor")):
            session.merge(Therapist(id=therapist_id, name=name, techniques=["swedish"], certifications=[],
                                    active=True))
        for room_id in ("test-r1", "test-r2"):
            session.merge(Room(id=room_id, name=room_id.upper(), kind="treatment"))
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", url)
    yield url
    patch.undo()
    get_engine(url).dispose()


@pytest.fixture
def url(database: str, inbox: Inbox, twilio: TwilioStandIn) -> Iterator[str]:  # noqa: F811
    yield database
    reminders.stop_reminder_loop(timeout=10)
    with Session(get_engine(database), future=True) as session, session.begin():
        session.execute(delete(Appointment))


def booked(url: str, starts_at: datetime, created_at: datetime, therapist: str = "test-maria",
           room: str = "test-r1") -> Appointment:
    held = appointment_store.hold(
        therapist_id=therapist, room_id=room, technique="swedish", service="Swedish massage", minutes=60,
        buffer_minutes=15, starts_at=starts_at, sender_id="conversation-1", channel="web", name="Dana Reyes",
        phone=CLIENT_PHONE, email=CLIENT_EMAIL, now=created_at, url=url)
    return appointment_store.confirm(held.code, now=created_at, url=url)


def reminded_at(url: str, code: str) -> Any:
    appointment = appointment_store.get(code, url=url)
    assert appointment is not None
    return appointment.reminder_sent_at


def test_a_confirmed_appointment_is_reminded_once_by_email_and_text(
    url: str, inbox: Inbox, twilio: TwilioStandIn  # noqa: F811
) -> None:
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    assert reminders.send_due_reminders(NOW, url=url) == [appointment.code]
    assert reminders.send_due_reminders(NOW + timedelta(minutes=1), url=url) == []
    assert reminded_at(url, appointment.code) == NOW
    (email,) = inbox.messages
    (text,) = twilio.messages()
    assert inbox.recipients == [[CLIENT_EMAIL]] and text["To"] == CLIENT_PHONE
    # 11:00 UTC on 8 December is 6 am in New York, the spa's zone in data/kb/spa.yml.
    assert email["Subject"] == f"Reminder: your massage on Tuesday 8 December at 6 am ({appointment.code})"
    body = email.get_body(("plain",)).get_content()
    assert "Maria" in body and "Lopez" not in body and "48 Water Street" in body
    assert "Harbour Light Massage Studio" in text["Body"] and appointment.code in text["Body"]


def test_four_replicas_at_once_send_one_reminder(url: str, inbox: Inbox, twilio: TwilioStandIn) -> None:  # noqa: F811
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    start = threading.Barrier(4)
    results: List[List[str]] = []

    def replica(number: int) -> None:
        start.wait()
        results.append(reminders.send_due_reminders(NOW, url=f"{url}?timeout={20 + number}"))

    threads = [threading.Thread(target=replica, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [[], [], [], [appointment.code]]
    assert len(inbox.messages) == 1 and len(twilio.messages()) == 1


def test_a_booking_made_two_hours_ahead_gets_no_reminder_and_is_not_looked_at_again(
    url: str, inbox: Inbox, twilio: TwilioStandIn  # noqa: F811
) -> None:
    appointment = booked(url, NOW + timedelta(hours=1), created_at=NOW - timedelta(hours=1))
    assert reminders.send_due_reminders(NOW, url=url) == []
    assert reminded_at(url, appointment.code) == NOW  # claimed all the same
    assert appointment_store.due_reminders(NOW, timedelta(hours=24), url=url) == []
    assert inbox.messages == [] and twilio.messages() == []


def test_a_cancelled_appointment_gets_no_reminder(url: str, inbox: Inbox, twilio: TwilioStandIn) -> None:  # noqa: F811
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    appointment_store.cancel(appointment.code, now=NOW - timedelta(days=1), url=url)
    assert reminders.send_due_reminders(NOW, url=url) == []
    assert reminded_at(url, appointment.code) is None
    assert inbox.messages == [] and twilio.messages() == []


def test_an_appointment_further_ahead_waits_for_its_day(url: str, inbox: Inbox) -> None:
    appointment = booked(url, NOW + timedelta(hours=30), created_at=NOW - timedelta(days=3))
    assert reminders.send_due_reminders(NOW, url=url) == []
    assert reminders.send_due_reminders(NOW + timedelta(hours=6, minutes=1), url=url) == [appointment.code]
    assert len(inbox.messages) == 1


def test_a_moved_appointment_is_reminded_again_with_its_new_time(
    url: str, inbox: Inbox, twilio: TwilioStandIn  # noqa: F811
) -> None:
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    assert reminders.send_due_reminders(NOW, url=url) == [appointment.code]
    appointment_store.move(appointment.code, NOW + timedelta(hours=22), therapist_id="test-sam", room_id="test-r2",
                           now=NOW + timedelta(minutes=5), url=url)
    assert reminded_at(url, appointment.code) is None
    assert reminders.send_due_reminders(NOW + timedelta(minutes=6), url=url) == [appointment.code]
    first, second = inbox.messages
    assert "6 am" in first["Subject"] and "8 am" in second["Subject"]
    assert "Sam" in twilio.messages()[1]["Body"]


def test_a_failing_mail_server_still_marks_the_reminder_sent(
    url: str, monkeypatch: pytest.MonkeyPatch, twilio: TwilioStandIn, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    monkeypatch.setenv("SMTP_PORT", "1")  # nothing listens there
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    assert reminders.send_due_reminders(NOW, url=url) == [appointment.code]
    assert reminders.send_due_reminders(NOW, url=url) == []
    assert len(twilio.messages()) == 1 and "Could not email the reminder notice" in caplog.text
    assert CLIENT_EMAIL not in caplog.text and "Dana" not in caplog.text


def test_the_command_line_runs_one_pass_at_the_clock_it_is_given(
    url: str, inbox: Inbox, twilio: TwilioStandIn  # noqa: F811
) -> None:
    appointment = booked(url, NOW + timedelta(hours=20), created_at=NOW - timedelta(days=3))
    command = [sys.executable, "-m", "bot.booking.reminders", "--once"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": url}
    too_early = subprocess.run(command + ["--now", "2026-12-06T15:00:00+00:00"], cwd=PROJECT_ROOT, env=env,
                               capture_output=True, text=True, timeout=120)
    on_time = subprocess.run(command + ["--now", NOW.isoformat()], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert (too_early.returncode, too_early.stdout) == (0, "Sent 0 reminder(s).\n"), too_early.stderr
    assert (on_time.returncode, on_time.stdout) == (0, "Sent 1 reminder(s).\n"), on_time.stderr
    assert reminded_at(url, appointment.code) == NOW and len(inbox.messages) == 1 and len(twilio.messages()) == 1


def test_the_command_line_wants_a_clock_with_its_offset(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        reminders.main(["--once", "--now", "2026-12-07T15:00:00"])
    assert "offset" in capsys.readouterr().err


def test_the_loop_keeps_going_after_a_database_error(
    url: str, inbox: Inbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = appointment_store.utcnow()
    appointment = booked(url, now + timedelta(hours=20), created_at=now - timedelta(days=3))
    real_due = appointment_store.due_reminders
    failures = [RuntimeError("database is down")]

    def flaky(*args: Any, **kwargs: Any) -> List[Appointment]:
        if failures:
            raise failures.pop()
        return real_due(*args, **kwargs)

    monkeypatch.setattr(appointment_store, "due_reminders", flaky)
    thread = reminders.start_reminder_loop(interval_s=0.05)
    assert thread is not None and thread.daemon
    assert reminders.start_reminder_loop(interval_s=0.05) is thread  # one loop per process
    deadline = time.monotonic() + 20
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reminders.stop_reminder_loop(timeout=10)
    assert reminded_at(url, appointment.code) is not None and len(inbox.messages) == 1
    assert "The reminder pass failed and will be retried (RuntimeError)" in caplog.text


def test_an_interval_of_zero_turns_the_loop_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_INTERVAL_S", "0")
    assert reminders.start_reminder_loop() is None
    assert reminders.reminder_interval_s({}) == reminders.DEFAULT_INTERVAL_S
