"""A therapist's calendar feed: a secret address per therapist, the right events at the spa's
wall-clock time (across a daylight-saving change), nobody else's, no held or cancelled ones, and
nothing a locked phone screen should not show; served without a login by the staff page."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from bot.booking import feeds
from bot.booking.appointments import Appointment, Room, Therapist, TherapistTimeOff
from bot.knowledge.db import get_engine
from bot.knowledge.loader import load
from bot.staff.config import StaffConfig
from tests.conftest import KB_DIR

NOW = datetime(2027, 3, 10, 15, 0, tzinfo=timezone.utc)
NEW_YORK = ZoneInfo("America/New_York")
DOMAIN = "harbourlight.example"  # from the email in data/kb/spa.yml
SECRET = "feed-secret-for-the-tests-0123456789"
PHONE, EMAIL = "+15550100123", "ana.private@example.com"
_codes = itertools.count(1)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A time on the spa's wall clock, as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(timezone.utc)


def seed_people(url: str) -> None:
    with Session(get_engine(url), future=True) as session, session.begin():
        session.add_all([
            Therapist(id="ines", name="Ines Keller", techniques=["swedish"], certifications=[], active=True),
            Therapist(id="joe", name="Joe Ortiz", techniques=["swedish"], certifications=[], active=True),
            Therapist(id="retired", name="Old Timer", techniques=["swedish"], certifications=[], active=False),
            Room(id="garden", name="Garden Room", kind="treatment"),
        ])


def add_appointment(url: str, starts_at: datetime, therapist: str = "ines", status: str = "confirmed",
                    minutes: int = 60, buffer: int = 15, **extra: Any) -> Appointment:
    """A row written directly, so each test picks its status and times without the store's rules."""
    values: Dict[str, Any] = dict(
        code=f"T{next(_codes):04d}", therapist_id=therapist, room_id="garden", technique="swedish", minutes=minutes,
        starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes + buffer), status=status,
        sender_id="conversation-1", channel="web", name="Ana Lopez", phone=PHONE, email=EMAIL,
        created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(days=1))
    values.update(extra)
    appointment = Appointment(**values)
    with Session(get_engine(url), future=True, expire_on_commit=False) as session, session.begin():
        session.add(appointment)
    return appointment


def events_by_uid(body: bytes) -> Dict[str, Event]:
    return {str(event["uid"]): event for event in Calendar.from_ical(body).walk("VEVENT")}


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The knowledge base (the spa's name, zone and email) with two therapists and a room."""
    url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    load(KB_DIR, url)
    seed_people(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv(feeds.SECRET_ENV, SECRET)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def diary(database: str) -> Dict[str, Appointment]:
    url = database
    return {
        "before_dst": add_appointment(url, local(2027, 3, 12, 10), service="Swedish massage", phone=PHONE),
        "after_dst": add_appointment(url, local(2027, 3, 15, 10), name=None, channel="kiosk"),
        "held": add_appointment(url, local(2027, 3, 13, 10), status="held",
                                hold_expires_at=NOW + timedelta(minutes=5)),
        "cancelled": add_appointment(url, local(2027, 3, 16, 10), status="cancelled"),
        "done": add_appointment(url, local(2027, 3, 5, 9), status="done"),
        "missed": add_appointment(url, local(2027, 3, 6, 9), status="no_show"),
        "too_old": add_appointment(url, local(2027, 2, 20, 9)),
        "too_far": add_appointment(url, local(2027, 9, 20, 9)),
        "joes": add_appointment(url, local(2027, 3, 12, 10), therapist="joe", name="Bo Lind"),
    }


# --- the token ------------------------------------------------------------------------------------

def test_the_token_is_stable_and_differs_per_therapist_and_per_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(feeds.SECRET_ENV, SECRET)
    token = feeds.feed_token("ines")
    assert token == feeds.feed_token("ines") == feeds.feed_token("ines", SECRET)
    assert 30 <= len(token) <= 44 and token.replace("-", "").replace("_", "").isalnum()
    assert feeds.feed_token("joe") != token
    assert feeds.feed_token("ines", "another-secret-of-enough-length") != token
    assert feeds.feed_path("ines") == f"/staff/feeds/ines/{token}.ics"
    assert feeds.token_matches("ines", token) and not feeds.token_matches("joe", token)
    assert not feeds.token_matches("ines", token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_without_a_feed_secret_the_staff_key_signs_and_a_short_secret_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(feeds.SECRET_ENV, raising=False)
    monkeypatch.setenv("STAFF_SECRET_KEY", "k" * 32)
    assert feeds.feed_token("ines") == feeds.feed_token("ines", "k" * 32)
    assert feeds.feed_secret(b"page-key") == b"page-key"
    monkeypatch.setenv(feeds.SECRET_ENV, "short")
    with pytest.raises(ValueError):
        feeds.feed_token("ines")


# --- the calendar ---------------------------------------------------------------------------------

def test_the_feed_holds_the_therapists_booked_time_at_the_spas_wall_clock(diary: Dict[str, Appointment]) -> None:
    body = feeds.therapist_calendar("ines", NOW)
    calendar = Calendar.from_ical(body)
    assert str(calendar["x-wr-calname"]) == "Ines Keller · Harbour Light Massage Studio"
    assert str(calendar["x-wr-timezone"]) == "America/New_York"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]

    events = events_by_uid(body)
    before, after = events[f"{diary['before_dst'].code}@{DOMAIN}"], events[f"{diary['after_dst'].code}@{DOMAIN}"]
    # 10:00 at the spa on both sides of the clock change (15:00 UTC before it, 14:00 UTC after).
    for event in (before, after):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert (start.hour, start.minute, str(start.tzinfo)) == (10, 0, "America/New_York")
        assert end - start == timedelta(minutes=60)  # the service, not the buffer after it
    assert before.decoded("dtstart").astimezone(timezone.utc).hour == 15
    assert after.decoded("dtstart").astimezone(timezone.utc).hour == 14
    assert b"DTSTART;TZID=America/New_York:20270315T100000" in body

    assert str(before["summary"]) == "Swedish massage, Ana"
    assert str(after["summary"]) == "Swedish massage, kiosk client"  # the technique's name from the KB
    assert str(before["location"]) == "Garden Room"
    assert diary["before_dst"].code in str(before["description"])
    assert str(before["status"]) == "CONFIRMED"


def test_done_and_missed_appointments_are_marked_held_cancelled_and_others_are_not_there(
        diary: Dict[str, Appointment]) -> None:
    events = events_by_uid(feeds.therapist_calendar("ines", NOW))
    summaries = {uid.split("@")[0]: str(event["summary"]) for uid, event in events.items()}
    assert summaries[diary["done"].code].endswith("(done)")
    assert summaries[diary["missed"].code].endswith("(no-show)")
    for absent in ("held", "cancelled", "too_old", "too_far", "joes"):
        assert diary[absent].code not in summaries, absent
    assert set(summaries) == {diary[key].code for key in ("before_dst", "after_dst", "done", "missed")}


def test_time_off_shows_as_blocked(database: str) -> None:
    with Session(get_engine(database), future=True) as session, session.begin():
        session.add(TherapistTimeOff(therapist_id="ines", starts_at=local(2027, 3, 20, 9),
                                     ends_at=local(2027, 3, 20, 13), reason="Training"))
    events = list(events_by_uid(feeds.therapist_calendar("ines", NOW)).values())
    assert [str(event["summary"]) for event in events] == ["Blocked: Training"]
    assert events[0].decoded("dtstart").hour == 9 and str(events[0]["uid"]).endswith("@" + DOMAIN)


def test_a_move_raises_the_sequence_so_phones_replace_the_entry(database: str) -> None:
    appointment = add_appointment(database, local(2027, 3, 12, 10))
    first = events_by_uid(feeds.therapist_calendar("ines", NOW))[f"{appointment.code}@{DOMAIN}"]
    with Session(get_engine(database), future=True) as session, session.begin():
        row = session.get(Appointment, appointment.id)
        row.starts_at, row.updated_at = local(2027, 3, 12, 11), NOW
    second = events_by_uid(feeds.therapist_calendar("ines", NOW))[f"{appointment.code}@{DOMAIN}"]
    assert int(second["sequence"]) > int(first["sequence"])
    assert second.decoded("last-modified") == NOW and second.decoded("dtstart").hour == 11


def test_no_contact_or_health_details_reach_the_calendar(diary: Dict[str, Appointment]) -> None:
    body = feeds.therapist_calendar("ines", NOW)
    for private in (PHONE, EMAIL, "Lopez", "5550100123"):
        assert private.encode() not in body


def test_an_unknown_or_retired_therapist_has_no_calendar(database: str) -> None:
    for therapist in ("nobody", "retired"):
        assert feeds.therapist_feed(therapist, NOW) is None
        with pytest.raises(LookupError):
            feeds.therapist_calendar(therapist, NOW)


# --- over HTTP, through the staff page ------------------------------------------------------------

@pytest.fixture
def server(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The staff page with the feed route, on a Sanic app built like Rasa's server."""
    from sanic import Sanic

    from bot.staff import web
    from tests.staff.conftest import InProcessServer, build_app

    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setattr(feeds, "utcnow", lambda: NOW)
    if "bot.booking.feeds" not in web.STAFF_PAGES:
        monkeypatch.setattr(web, "STAFF_PAGES", web.STAFF_PAGES + ("bot.booking.feeds",))
    staff = StaffConfig(accounts={"alice": "unused-hash"}, secret_key=b"s" * 32)
    with InProcessServer(build_app(staff, {"MAX_REQUEST_BYTES": "20000"})) as running:
        yield running


def test_the_right_address_serves_the_calendar_without_a_login(server: Any, diary: Dict[str, Appointment]) -> None:
    answer = requests.get(server.url + feeds.feed_path("ines"), timeout=10, allow_redirects=False)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    served = events_by_uid(answer.content)
    assert set(served) == {f"{diary[key].code}@{DOMAIN}" for key in ("before_dst", "after_dst", "done", "missed")}


def test_a_wrong_token_or_a_therapist_without_a_calendar_is_a_bare_404(
        server: Any, diary: Dict[str, Appointment]) -> None:
    token = feeds.feed_token("ines")
    wrong: List[str] = [
        f"/staff/feeds/ines/{feeds.feed_token('joe')}.ics",  # another therapist's token
        f"/staff/feeds/ines/{token[:-2]}xx.ics",
        f"/staff/feeds/ines/{token}",  # without .ics
        f"/staff/feeds/ines/{feeds.feed_token('ines', 'a-different-secret-0123456789')}.ics",
        f"/staff/feeds/nobody/{feeds.feed_token('nobody')}.ics",
        f"/staff/feeds/retired/{feeds.feed_token('retired')}.ics",
    ]
    bodies = set()
    for path in wrong:
        answer = requests.get(server.url + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 404, path
        bodies.add(answer.content)
    assert len(bodies) == 1 and b"token" not in next(iter(bodies)).lower()


def test_the_running_staff_page_key_signs_when_no_feed_secret_is_set(
        server: Any, diary: Dict[str, Appointment], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(feeds.SECRET_ENV)
    token = feeds.feed_token("ines", b"s" * 32)
    answer = requests.get(f"{server.url}/staff/feeds/ines/{token}.ics", timeout=10)
    assert answer.status_code == 200 and answer.content.startswith(b"BEGIN:VCALENDAR")
