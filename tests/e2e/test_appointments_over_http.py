"""Real appointments over HTTP, with the spa booking at once (`instant_confirmation: "yes"`): who is
offered, a time someone else is holding, a day with nothing free, a hold that ran out, the
confirmation and the reminder by email and SMS, moving by SMS, cancelling inside and outside the
notice period, and eight people picking the same time at once.

The real Rasa server and action server run once for the module on their own SQLite database
(tests/e2e/appointment_helpers.py). Free times follow the real clock, so every time is taken from
the buttons the assistant offers or from days worked out from today, never written in.

SHOW_CONVERSATIONS=1 prints the conversations of the pregnant client, the first choice taken and
the move by SMS.
"""
from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List, TypeVar

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select, update

from bot.booking.appointments import Appointment, Therapist, TherapistTimeOff
from bot.knowledge.db import get_session
from tests.e2e.appointment_helpers import (
    NOTICE_HOURS, SPA, ZONE, Texter, Transcript, Visitor, appointment_servers, appointments, button,
    emails_to, live, local, open_day, overlapping, run_reminders, said, slot_of, spa_today,
    start_of, texts_to, time_buttons, to_the_summary, to_the_times,
)
from tests.servers import reply_text

pytestmark = pytest.mark.e2e

T = TypeVar("T")
HOLDING = "I'm holding this time for you"
CODE = re.compile(r"Your reference code is \*\*([A-Z0-9]{4})\*\*")


@pytest.fixture(scope="module")
def spa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    with appointment_servers(tmp_path_factory.mktemp("appointments")) as servers:
        yield servers


def eventually(read: Callable[[], T], timeout_s: float = 20.0) -> T:
    """What `read` returns once it is non-empty: the client's notices are sent from a worker thread."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def code_in(messages: List[Dict[str, Any]]) -> str:
    found = CODE.search(reply_text(messages))
    assert found, reply_text(messages)
    return found.group(1)


def therapists_in(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["title"].rsplit(" with ", 1)[1] for b in time_buttons(messages)]


def payloads(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for b in time_buttons(messages)]


def book(person: Visitor, choice: str, name: str, contact: str) -> List[Dict[str, Any]]:
    """From the offered times to "You're booked"."""
    summary = to_the_summary(person, choice, name, contact)
    assert HOLDING in reply_text(summary), reply_text(summary)
    booked = person.say(button(summary, "Confirm"))
    assert "You're booked:" in reply_text(booked), reply_text(booked)
    return booked


def times_on(person: Visitor, day: Any) -> List[Dict[str, Any]]:
    """The times offered for "<that day>", which must all be on it."""
    offered = person.say(said(day))
    assert time_buttons(offered), reply_text(offered)
    assert {local(start_of(slot_of(p))).date() for p in payloads(offered)} == {day}, reply_text(offered)
    return offered


def test_a_pregnant_client_is_only_offered_the_prenatal_trained_therapist(spa, capsys) -> None:
    transcript = Transcript("A pregnant client")
    client = Visitor(spa, "Client", transcript)
    checklist = client.say("I'm 24 weeks pregnant, can I book a massage?")
    assert "certified prenatal massage therapist" in reply_text(checklist)
    service = client.say(button(checklist, "None of these"))
    length = client.say(button(service, "Swedish massage"))
    offered = client.say(button(length, "60 minutes"))
    transcript.show(capsys)
    assert len(time_buttons(offered)) == 5 and set(therapists_in(offered)) == {"Maria"}, reply_text(offered)
    # Anyone else asking at the same moment is offered the rest of the team too.
    assert set(therapists_in(to_the_times(Visitor(spa)))) - {"Maria"}


def test_a_time_held_for_one_person_is_not_free_for_the_next_and_neither_is_double_booked(spa, capsys) -> None:
    transcript = Transcript("First choice taken")
    ana, ben = Visitor(spa, "Ana", transcript), Visitor(spa, "Ben", transcript)
    first = time_buttons(to_the_times(ana))[0]
    summary = to_the_summary(ana, first["payload"], "Ana Silva", "ana.silva@example.com")
    assert HOLDING in reply_text(summary)

    to_the_times(ben)
    refused = ben.say(first["title"])  # typed: "Monday 7 December at 9 am with Maria"
    assert f"Sorry, {first['title']} isn't free." in reply_text(refused)
    assert time_buttons(refused) and first["payload"] not in payloads(refused)

    booked = ana.say(button(summary, "Confirm"))
    assert f"You're booked: {first['title']}." in reply_text(booked)
    (ana_booking,) = appointments(spa["database"], sender_id=ana.sender)
    assert (ana_booking.code, ana_booking.status, ana_booking.starts_at) == (
        code_in(booked), "confirmed", start_of(slot_of(first["payload"])))

    other = time_buttons(refused)[0]
    ben_booked = book(ben, other["payload"], "Ben Okafor", "ben.okafor@example.com")
    transcript.show(capsys)
    assert f"You're booked: {other['title']}." in reply_text(ben_booked)
    (ben_booking,) = appointments(spa["database"], sender_id=ben.sender)
    assert ben_booking.status == "confirmed" and ben_booking.starts_at == start_of(slot_of(other["payload"]))
    assert overlapping(live(spa["database"])) == []


@contextmanager
def whole_team_off(database: str, day: date) -> Iterator[None]:
    """Every therapist off for that day (a training day, entered as time off), given back after."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZONE)
    with get_session(database) as session, session.begin():
        for therapist in session.execute(select(Therapist)).scalars():
            session.add(TherapistTimeOff(therapist_id=therapist.id, starts_at=start,
                                         ends_at=start + timedelta(days=1), reason="training day"))
    try:
        yield
    finally:
        with get_session(database) as session, session.begin():
            session.execute(delete(TherapistTimeOff).where(TherapistTimeOff.reason == "training day"))


def test_a_day_the_whole_team_is_off_says_nothing_is_free_then_and_offers_other_days(spa) -> None:
    day = open_day(3)
    before = Visitor(spa)
    to_the_times(before)
    times_on(before, day)  # an ordinary day: its own free times
    with whole_team_off(spa["database"], day):
        person = Visitor(spa)
        to_the_times(person)
        offered = person.say(said(day))
    assert "Nothing is free then. The nearest free times are:" in reply_text(offered)
    days = {local(start_of(slot_of(p))).date() for p in payloads(offered)}
    assert days and day not in days, reply_text(offered)


def test_a_hold_that_ran_out_and_went_to_someone_else_books_nothing(spa) -> None:
    dee = Visitor(spa)
    choice = time_buttons(to_the_times(dee))[0]["payload"]
    summary = to_the_summary(dee, choice, "Dee Park", "dee.park@example.com")
    assert HOLDING in reply_text(summary)
    with get_session(spa["database"]) as session, session.begin():
        session.execute(update(Appointment).where(Appointment.sender_id == dee.sender)
                        .values(hold_expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))

    eve = Visitor(spa)
    assert choice in payloads(to_the_times(eve))  # the lapsed hold's time is free again
    book(eve, choice, "Eve Stone", "eve.stone@example.com")

    lost = dee.say(button(summary, "Confirm"))
    assert "the time I was holding for you has gone in the meantime, so nothing is booked" in reply_text(lost)
    assert "You're booked" not in reply_text(lost)
    assert [a.status for a in appointments(spa["database"], sender_id=dee.sender)] == ["cancelled"]
    assert time_buttons(lost) and choice not in payloads(lost)  # the next free times, at once


def test_the_confirmation_comes_by_email_with_a_calendar_file_and_by_sms_and_the_reminder_once(spa) -> None:
    email, phone = "kim.lee@example.com", "+12025550171"
    day = open_day(4)
    by_email, by_phone = Visitor(spa), Visitor(spa)
    to_the_times(by_email)
    kim = code_in(book(by_email, payloads(times_on(by_email, day))[0], "Kim Lee", email))
    to_the_times(by_phone)
    raj = code_in(book(by_phone, payloads(times_on(by_phone, day))[0], "Raj Patel", "+1 202 555 0171"))
    (kim_booking,) = appointments(spa["database"], code=kim)
    (raj_booking,) = appointments(spa["database"], code=raj)

    (confirmation,) = eventually(lambda: emails_to(spa["inbox"], email))
    assert kim in confirmation["Subject"]
    (attachment,) = [part for part in confirmation.iter_attachments() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start == kim_booking.starts_at and start.utcoffset() == local(kim_booking.starts_at).utcoffset()
    assert event["DTSTART"].params["TZID"] == SPA["timezone"]
    (text,) = eventually(lambda: texts_to(spa["texts"], phone))
    assert raj in text and "is booked for" in text

    clock = min(kim_booking.starts_at, raj_booking.starts_at) - timedelta(hours=20)
    assert max(kim_booking.starts_at, raj_booking.starts_at) <= clock + timedelta(hours=24)
    run_reminders(spa, clock)
    emails, texts = emails_to(spa["inbox"], email), texts_to(spa["texts"], phone)
    assert len(emails) == 2 and emails[1]["Subject"].startswith("Reminder:") and kim in emails[1]["Subject"]
    assert len(texts) == 2 and "a reminder" in texts[1] and raj in texts[1]

    run_reminders(spa, clock + timedelta(minutes=5))
    assert len(emails_to(spa["inbox"], email)) == 2 and len(texts_to(spa["texts"], phone)) == 2


def test_an_appointment_booked_on_the_website_is_moved_by_sms(spa, capsys) -> None:
    number = "+12025550161"
    transcript = Transcript("Moved by SMS")
    web = Visitor(spa, "Fay (website chat)", transcript)
    booked_day = open_day(5)
    to_the_times(web)
    code = code_in(book(web, payloads(times_on(web, booked_day))[0], "Fay Lin", "+1 202 555 0161"))
    (confirmation,) = eventually(lambda: texts_to(spa["texts"], number))
    assert code in confirmation
    transcript.note(f"the confirmation went to {number} by SMS: {confirmation}")

    new_day = open_day((booked_day - spa_today()).days + 1)
    sms = Texter(spa, number, "Fay", transcript)
    (offer,) = sms.say(f"move it to {said(new_day)}")
    options = re.findall(r"^(\d+)\. (.+)$", offer, re.M)
    assert options and options[0][0] == "1", offer
    assert all(title.startswith(said(new_day) + " at ") for _, title in options), offer
    (moved,) = sms.say("1")
    transcript.show(capsys)
    assert f"Done: your appointment {code} is now on {options[0][1]}." in moved

    (appointment,) = appointments(spa["database"], code=code)
    assert appointment.status == "confirmed" and local(appointment.starts_at).date() == new_day
    notice = eventually(lambda: [t for t in texts_to(spa["texts"], number) if "has moved to" in t])
    assert len(notice) == 1 and code in notice[0] and said(new_day) in notice[0]


def test_cancelling_inside_the_notice_period_gives_the_policy_and_outside_it_does_not(spa) -> None:
    soon, later = Visitor(spa), Visitor(spa)
    book(soon, payloads(to_the_times(soon))[0], "Sol Reyes", "sol.reyes@example.com")
    to_the_times(later)
    book(later, payloads(times_on(later, open_day(4)))[0], "Lou Grant", "lou.grant@example.com")
    (near,) = appointments(spa["database"], sender_id=soon.sender)
    (far,) = appointments(spa["database"], sender_id=later.sender)
    now = datetime.now(timezone.utc)
    assert near.starts_at - now < timedelta(hours=NOTICE_HOURS) < far.starts_at - now

    policy = " ".join(SPA["cancellation"].split())
    cancelled_late = reply_text(soon.say("please cancel my appointment"))
    assert "I've cancelled your appointment" in cancelled_late and near.code in cancelled_late
    assert policy in " ".join(cancelled_late.split())
    cancelled_early = reply_text(later.say("please cancel my appointment"))
    assert "I've cancelled your appointment" in cancelled_early and far.code in cancelled_early
    assert "notice" not in cancelled_early and policy not in " ".join(cancelled_early.split())
    assert [a.status for a in appointments(spa["database"], code=near.code)
            + appointments(spa["database"], code=far.code)] == ["cancelled", "cancelled"]


def test_eight_people_picking_the_same_time_at_once_get_one_hold(spa) -> None:
    names = ["Alex Kim", "Bea Cruz", "Cal Moss", "Dana Reyes", "Eli Ward", "Fern Diaz", "Gil Hart", "Hana Sato"]
    people = [Visitor(spa) for _ in names]
    for name, person in zip(names, people):
        summary = to_the_summary(person, payloads(to_the_times(person))[0], name,
                                 name.lower().replace(" ", ".") + "@example.com")
        assert HOLDING in reply_text(summary)
    offers = [person.say('/change_booking{"booking_change": "time"}') for person in people]
    assert not [a for a in live(spa["database"]) if a.sender_id in {p.sender for p in people}]
    same = payloads(offers[-1])[0]
    slot = slot_of(same)

    start_together = threading.Barrier(len(people))
    answers: Dict[str, List[Dict[str, Any]]] = {}

    def pick(person: Visitor) -> None:
        start_together.wait()
        answers[person.sender] = person.say(same)

    threads = [threading.Thread(target=pick, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    held = [sender for sender, answer in answers.items() if HOLDING in reply_text(answer)]
    told = [answer for answer in answers.values()
            if "Sorry, someone else has just booked that time." in reply_text(answer)]
    assert len(answers) == 8 and len(held) == 1 and len(told) == 7
    assert all(time_buttons(answer) and same not in payloads(answer) for answer in told)
    at_that_time = [a for a in live(spa["database"])
                    if a.therapist_id == slot.split()[1] and a.starts_at == start_of(slot)]
    assert [(a.sender_id, a.status) for a in at_that_time] == [(held[0], "held")]
    assert overlapping(live(spa["database"])) == []
