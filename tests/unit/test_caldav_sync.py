"""The CalDAV sync against a real Radicale server on a free port: it makes the therapist's
calendar and fills it, follows a move and a cancellation, leaves the therapist's own events alone,
and a second run with nothing new changes nothing."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator

import caldav
import pytest
import requests

from bot.booking import appointment_store, caldav_sync
from bot.booking.caldav_sync import CalDavSettings, SyncResult, sync_therapist
from tests.servers import free_port
from tests.unit.test_feeds import DOMAIN, NOW, add_appointment, database, local  # noqa: F401  (fixture)

USER = "spa"
OWN_EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Therapist//Phone//EN
BEGIN:VEVENT
UID:dentist-0001@therapists-phone.example
DTSTAMP:20270301T120000Z
DTSTART:20270312T200000Z
DTEND:20270312T210000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale server with no authentication, storing in a temporary folder, stopped afterwards."""
    folder: Path = tmp_path_factory.mktemp("radicale")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
         "--storage-filesystem-folder", str(folder), "--logging-level", "warning",
         # Radicale answers the client's first, credential-less request a second late; no need here.
         "--auth-delay", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "Radicale exited at start"
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "Radicale did not answer"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def settings(radicale: str) -> CalDavSettings:
    """A prefix of its own per test, so every test starts with calendars nobody has used."""
    return CalDavSettings(url=radicale, username=USER, password="unused", prefix=f"T{uuid.uuid4().hex[:6]} ")


def server_events(settings: CalDavSettings, name: str = "Ines Keller") -> Dict[str, Any]:
    """The events in the therapist's calendar, read back with a client of its own, by UID."""
    with caldav.DAVClient(url=settings.url, username=USER, password="unused") as client:
        calendar = next(c for c in client.principal().calendars() if c.get_display_name() == settings.prefix + name)
        return {str(e.icalendar_component["uid"]): e.icalendar_component for e in calendar.events()}


def confirmed(url: str, starts_at: datetime, **extra: Any) -> appointment_store.Appointment:
    held = appointment_store.hold(therapist_id="ines", room_id="garden", technique="swedish", minutes=60,
                                  buffer_minutes=15, starts_at=starts_at, sender_id="conversation-2",
                                  channel="web", now=NOW, url=url, **extra)
    return appointment_store.confirm(held.code, now=NOW, url=url)


def uid(appointment: Any) -> str:
    return f"{appointment.code}@{DOMAIN}"


def test_a_sync_makes_the_calendar_and_puts_the_feeds_events_in_it(settings: CalDavSettings, database: str) -> None:
    booked = confirmed(database, local(2027, 3, 15, 10), name="Ana Lopez", phone="+15550100123")
    held = add_appointment(database, local(2027, 3, 16, 10), status="held", hold_expires_at=NOW + timedelta(minutes=5))
    other = add_appointment(database, local(2027, 3, 15, 10), therapist="joe")

    assert sync_therapist(settings, "ines", NOW, database) == SyncResult(created=1, updated=0, deleted=0)

    events = server_events(settings)
    assert set(events) == {uid(booked)}
    event = events[uid(booked)]
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, start.astimezone(timezone.utc).hour) == (10, 0, 14)  # after the DST change
    assert event.decoded("dtend") - start == timedelta(minutes=60)
    assert str(event["summary"]) == "Swedish massage, Ana" and booked.code in str(event["description"])
    assert "5550100123" not in event.to_ical().decode()
    assert uid(held) not in events and uid(other) not in events


def test_a_second_sync_with_nothing_new_changes_nothing(settings: CalDavSettings, database: str) -> None:
    confirmed(database, local(2027, 3, 12, 10))
    add_appointment(database, local(2027, 3, 5, 9), status="done")
    first = sync_therapist(settings, "ines", NOW, database)
    before = {key: event.to_ical() for key, event in server_events(settings).items()}
    assert first == SyncResult(created=2, updated=0, deleted=0)
    assert sync_therapist(settings, "ines", NOW, database) == SyncResult(0, 0, 0)
    assert {key: event.to_ical() for key, event in server_events(settings).items()} == before


def test_a_moved_appointment_moves_on_the_server(settings: CalDavSettings, database: str) -> None:
    booked = confirmed(database, local(2027, 3, 12, 10))
    sync_therapist(settings, "ines", NOW, database)
    appointment_store.move(booked.code, local(2027, 3, 18, 15, 30), now=NOW + timedelta(minutes=3), url=database)

    assert sync_therapist(settings, "ines", NOW, database) == SyncResult(created=0, updated=1, deleted=0)
    start = server_events(settings)[uid(booked)].decoded("dtstart")
    assert (start.day, start.hour, start.minute) == (18, 15, 30)


def test_a_cancelled_appointment_is_deleted_and_the_therapists_own_event_stays(
        settings: CalDavSettings, database: str) -> None:
    kept, dropped = confirmed(database, local(2027, 3, 12, 10)), confirmed(database, local(2027, 3, 12, 12))
    sync_therapist(settings, "ines", NOW, database)
    with caldav.DAVClient(url=settings.url, username=USER, password="unused") as client:
        calendar = next(c for c in client.principal().calendars()
                        if c.get_display_name() == settings.prefix + "Ines Keller")
        calendar.save_event(OWN_EVENT)
    appointment_store.cancel(dropped.code, now=NOW, url=database)

    assert sync_therapist(settings, "ines", NOW, database) == SyncResult(created=0, updated=0, deleted=1)
    assert set(server_events(settings)) == {uid(kept), "dentist-0001@therapists-phone.example"}
    assert sync_therapist(settings, "ines", NOW, database) == SyncResult(0, 0, 0)


def test_sync_all_gives_each_active_therapist_a_calendar_and_the_command_prints_counts(
        settings: CalDavSettings, database: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    confirmed(database, local(2027, 3, 12, 10))
    results = caldav_sync.sync_all(NOW, database, settings)
    assert results["ines"] == SyncResult(1, 0, 0) and results["joe"] == SyncResult(0, 0, 0)
    assert "retired" not in results  # inactive therapists get no calendar

    for name, value in (("CALDAV_URL", settings.url), ("CALDAV_USERNAME", USER), ("CALDAV_PASSWORD", "unused"),
                        ("CALDAV_CALENDAR_PREFIX", settings.prefix)):
        monkeypatch.setenv(name, value)
    assert caldav_sync.main(["--once"]) == 0
    printed = capsys.readouterr().out
    assert "ines: 0 created, 0 updated, 0 deleted" in printed and "joe: 0 created" in printed


def test_settings_come_from_the_environment_and_without_a_url_the_sync_is_off() -> None:
    assert caldav_sync.caldav_settings({}) is None
    found = caldav_sync.caldav_settings({"CALDAV_URL": " https://dav.example/ ", "CALDAV_USERNAME": "spa",
                                         "CALDAV_PASSWORD": "secret", "CALDAV_CALENDAR_PREFIX": "Spa – "})
    assert found == CalDavSettings("https://dav.example/", "spa", "secret", "Spa – ")
    assert "secret" not in repr(found)
    assert caldav_sync.sync_interval({}) == 300 and caldav_sync.sync_interval({"CALDAV_SYNC_INTERVAL_S": "0"}) == 0
    assert caldav_sync.sync_interval({"CALDAV_SYNC_INTERVAL_S": "soon"}) == 0


def test_the_loop_is_off_without_a_server_or_an_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALDAV_URL", raising=False)
    assert caldav_sync.start_caldav_loop(60) is None
    monkeypatch.setenv("CALDAV_URL", "http://127.0.0.1:9/")
    assert caldav_sync.start_caldav_loop(0) is None


def test_the_loop_logs_a_server_that_is_down_and_carries_on(
        database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CALDAV_URL", f"http://127.0.0.1:{free_port()}/")  # nobody listens there
    monkeypatch.setenv("CALDAV_PASSWORD", "do-not-log-me")
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="bot.booking.caldav_sync"):
        thread = caldav_sync.start_caldav_loop(0.05, stop)
        assert thread is not None and thread.daemon
        deadline = time.monotonic() + 20
        while len(caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len(caplog.records) >= 2 and all("ConnectionError" in r.getMessage() for r in caplog.records)
    assert "do-not-log-me" not in caplog.text
