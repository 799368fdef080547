"""Booking requests over HTTP, through the real servers: the website chat (REST), the kiosk and SMS.

The servers get their own knowledge-base database, so the stored requests can be read back with
bot.booking.store. Times are always "next Tuesday/Friday at 3pm": in the future and inside the
opening hours whatever today is.
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from bot.booking import store
from bot.knowledge.loader import load
from tests.channels.test_messaging import post_twilio, twilio_form, twilio_sent
from tests.conftest import KB_DIR
from tests.security.harness import secured_servers
from tests.servers import buttons, reply_text

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def booking_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("booking")
    database = f"sqlite:///{workdir / 'knowledge.db'}"
    load(KB_DIR, database)
    env = {"DATABASE_URL": database, "RATE_LIMIT_ADDRESS": "100000/60", "RATE_LIMIT_CONVERSATION": "100000/60"}
    with secured_servers(workdir, extra_env=env) as servers:
        yield {**servers, "database": database}


class Visitor:
    """One person in one of the REST-protocol channels ("rest" is the website chat's protocol)."""

    def __init__(self, servers: Dict[str, Any], channel: str = "rest") -> None:
        self.url = f"{servers['url']}/webhooks/{channel}/webhook"
        self.sender = f"booking-{uuid.uuid4().hex[:12]}"
        self.database = servers["database"]

    def say(self, message: str) -> List[Dict[str, Any]]:
        response = requests.post(self.url, json={"sender": self.sender, "message": message}, timeout=60)
        response.raise_for_status()
        return response.json()

    def request(self) -> store.BookingRequest:
        request = store.latest_for_sender(self.sender, url=self.database)
        assert request is not None
        return request


def payload(messages: List[Dict[str, Any]], title: str) -> str:
    return next(b["payload"] for b in buttons(messages) if b["title"] == title)


def code_in(text: str) -> str:
    found = re.search(r"reference code is \*\*([A-Z0-9]{4})\*\*|reception: ([A-Z0-9]{4})", text)
    assert found, text
    return found.group(1) or found.group(2)


def confirmed_booking(servers: Dict[str, Any], contact: str) -> Tuple[Visitor, str]:
    """A visitor whose Tuesday 3 pm request (name Lee) is sent, and its reference code."""
    person = Visitor(servers)
    for text in ("my calves are tight", "none of these", "/book_session", "next tuesday at 3pm", "Lee", contact,
                 "/affirm"):
        person.say(text)
    return person, code_in(reply_text(person.say("/affirm")))


def test_book_after_a_recommendation(booking_servers) -> None:
    person = Visitor(booking_servers)
    person.say("my shoulders are tight from my desk job")
    advice = person.say("none of these")
    opened = person.say(payload(advice, "Book a session"))
    assert "What day and time would suit you?" in reply_text(opened)
    assert "What name" in reply_text(person.say("next tuesday at 3pm"))
    assert "phone number or email" in reply_text(person.say("Maria Lopez"))
    consent = person.say("maria.lopez@example.com")
    assert [b["title"] for b in buttons(consent)] == ["Yes", "No"]
    summary = person.say(payload(consent, "Yes"))
    text = reply_text(summary)
    assert "Tuesday" in text and "at 3 pm" in text and "Maria Lopez" in text and "Areas: shoulders" in text
    assert [b["title"] for b in buttons(summary)] == ["Confirm", "Change time", "Change service",
                                                      "Change contact", "Cancel"]
    done = reply_text(person.say(payload(summary, "Confirm")))
    request = person.request()
    assert code_in(done) == request.code and "will contact you" in done
    assert (request.name, request.email, request.channel, request.status) == (
        "Maria Lopez", "maria.lopez@example.com", "rest", "new")
    assert request.preferred_at.weekday() == 1 and request.preferred_at.hour == 15


def test_book_straight_away_goes_through_the_safety_check_first(booking_servers) -> None:
    person = Visitor(booking_servers)
    first = person.say("can I book a massage for next tuesday at 3pm?")
    assert "safety check" in reply_text(first) and "What day" not in reply_text(first)
    service = person.say("/deny")
    assert "Which massage would you like?" in reply_text(service)
    length = person.say(payload(service, "Swedish massage"))
    assert "how long would you like it" in reply_text(length)
    name = person.say(payload(length, "60 minutes"))
    assert "What name" in reply_text(name)  # the time came with the booking request
    person.say("Sam")
    person.say("202 555 0143")
    summary = reply_text(person.say("/affirm"))
    assert "Swedish massage, 60 minutes" in summary and "Tuesday" in summary and "3 pm" in summary
    person.say("/affirm")
    request = person.request()
    assert (request.technique, request.minutes, request.phone) == ("swedish", 60, "+12025550143")


def test_a_relative_condition_reaches_the_intake_and_the_confirmation(booking_servers) -> None:
    person = Visitor(booking_servers)
    person.say("I'm 24 weeks pregnant and my lower back aches")
    person.say("none of the others")
    opened = reply_text(person.say("I'd like to book"))
    assert "certified prenatal" in opened and "What day and time" in opened
    person.say("next friday at 3pm")
    person.say("Ana")
    person.say("ana@example.com")
    summary = reply_text(person.say("/affirm"))
    assert "Condition: Pregnancy" in summary and "Modification:" in summary
    done = reply_text(person.say("/affirm"))
    assert "certified prenatal" in done
    stored = store.get_by_code(code_in(done), url=person.database)
    pregnancy = next(c for c in stored.intake["conditions"] if c["id"] == "pregnancy")
    assert "certified prenatal" in pregnancy["modification"]


def test_an_absolute_contraindication_never_reaches_the_form(booking_servers) -> None:
    person = Visitor(booking_servers)
    for message in ("I have a fever, can I book a session for next tuesday at 3pm?", "/book_session",
                    "I'd like to book please"):
        reply = person.say(message)
        assert "isn't safe" in reply_text(reply) or "no massage for now" in reply_text(reply).lower()
        assert "What day and time" not in reply_text(reply) and not buttons(reply)
    assert store.latest_for_sender(person.sender, url=person.database) is None


def test_a_condition_reported_in_the_form_stops_it(booking_servers) -> None:
    person = Visitor(booking_servers)
    person.say("my neck is stiff")
    person.say("none of these")
    person.say("/book_session")
    stopped = person.say("oh wait, I have a fever")
    assert "isn't safe" in reply_text(stopped) and "What day" not in reply_text(stopped)
    urgent = Visitor(booking_servers)
    urgent.say("my neck is stiff")
    urgent.say("none of these")
    urgent.say("/book_session")
    reply = urgent.say("I have chest pain")
    assert len(reply) == 1 and "emergency services" in reply_text(reply)


def test_change_the_massage_and_the_name_after_confirming(booking_servers) -> None:
    person, code = confirmed_booking(booking_servers, "202 555 0143")
    changed = reply_text(person.say("change my booking to swedish massage"))
    assert code in changed and "Swedish massage" in changed
    assert store.get_by_code(code, url=person.database).technique == "swedish"
    renamed = reply_text(person.say("please change the name on my booking to Maria Garcia"))
    assert "Maria Garcia" in renamed and store.get_by_code(code, url=person.database).name == "Maria Garcia"


def test_a_time_outside_opening_hours_offers_open_slots(booking_servers) -> None:
    person = Visitor(booking_servers)
    person.say("my lower back is sore")
    person.say("none of these")
    person.say("/book_session")
    closed = person.say("next sunday at 3pm")
    assert "closed" in reply_text(closed) and "Monday to Saturday, 9 am to 7 pm" in reply_text(closed)
    slots = buttons(closed)
    assert len(slots) == 5 and "Monday" in slots[0]["title"] and all(" with " in b["title"] for b in slots)
    assert "What name" in reply_text(person.say(slots[0]["payload"]))


def test_change_the_time_then_cancel_after_confirming(booking_servers) -> None:
    person, code = confirmed_booking(booking_servers, "lee@example.com")
    changed = reply_text(person.say("change my booking to next friday at 11am"))
    assert code in changed and "Friday" in changed and "11 am" in changed
    request = store.get_by_code(code, url=person.database)
    assert request.preferred_at.weekday() == 4 and request.preferred_at.hour == 11
    cancelled = reply_text(person.say("please cancel my booking"))
    assert code in cancelled and "cancelled" in cancelled
    assert store.get_by_code(code, url=person.database).status == "cancelled"


def test_at_the_kiosk_the_code_is_shown_for_reception(booking_servers) -> None:
    person = Visitor(booking_servers, channel="kiosk")
    person.say("my shoulders are tense")
    person.say("/deny")
    person.say("/book_session")
    consent = reply_text(person.say("next tuesday at 3pm"))
    assert "What name" not in consent and "health" in consent
    summary = reply_text(person.say("/affirm"))
    assert "Name" not in summary and "Contact" not in summary
    done = reply_text(person.say("/affirm"))
    assert "Show this code to reception:" in done
    request = person.request()
    assert code_in(done) == request.code and request.channel == "kiosk"
    assert (request.name, request.phone, request.email) == (None, None, None)


def test_on_sms_the_options_are_numbered_and_the_number_is_offered(booking_servers) -> None:
    fake, sender = booking_servers["fake"], "+12025550177"

    def sms(text: str) -> str:
        assert post_twilio(booking_servers, twilio_form(sender, text)).status_code == 204
        return twilio_sent(fake, sender)[-1]

    sms("my upper back is tight")
    assert "what I would suggest" in sms("none of these")
    sms("I'd like to book")
    sms("next tuesday at 3pm")
    offer = sms("Sam Jones")
    assert "Can the team reach you at +1 202-555-0177?" in offer
    assert "1. Use this number" in offer and "2. Give another" in offer
    consent = sms("1")
    assert "1. Yes" in consent
    summary = sms("1")
    assert "+1 202-555-0177" in summary and "1. Confirm" in summary
    done = sms("1")
    request = store.get_by_code(code_in(done), url=booking_servers["database"])
    assert (request.phone, request.channel, request.name) == ("+12025550177", "twilio", "Sam Jones")


def test_talk_to_a_person_and_forget_me_leave_the_booking(booking_servers) -> None:
    person = Visitor(booking_servers)
    person.say("my neck is stiff")
    person.say("none of these")
    person.say("/book_session")
    handoff = reply_text(person.say("/request_human"))
    assert "connect you with a person" in handoff and "What day" not in handoff
    forget = Visitor(booking_servers)
    forget.say("my neck is stiff")
    forget.say("none of these")
    forget.say("/book_session")
    assert "delete our conversation" in reply_text(forget.say("/delete_conversation"))
    assert "deleted our conversation" in reply_text(forget.say("/affirm"))
