"""The booking form's reading of answers, without Rasa: plain values in, slot changes out."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.advice.catalogue import Catalogue
from bot.advice.profile import Profile
from bot.advice.safety import screen
from bot.booking import offers
from bot.booking.form_logic import (
    CONFIRMED, CONSENT, CONTACT, NAME, QUESTION, SERVICE, SLOT, SMALL_TALK, STAGE, TIME, UNCLEAR, Said,
    change_target, consent_answer, free_text_problem, next_slot,
)
from bot.booking.situation import Situation, describe_service, parse_service, service_value
from bot.booking.when import opening_hours_from_settings

SPA = {"opening_hours": "Mon-Fri 09:00-19:00; Sat 10:00-16:00", "timezone": "Europe/London", "phone": "+44 20 7946 0000"}


def situation(catalogue: Catalogue, channel: str = "web") -> Situation:
    return Situation(catalogue=catalogue, profile=Profile(), screening=screen(Profile(), catalogue.severities),
                     spa=SPA, hours=opening_hours_from_settings(SPA), now=datetime(2026, 12, 7, 10, 0),
                     channel=channel, sender="someone")


def test_a_service_is_kept_as_technique_and_minutes(catalogue: Catalogue) -> None:
    assert parse_service(service_value("swedish", 60)) == ("swedish", 60)
    assert parse_service(None) == (None, None)
    assert describe_service("swedish:90", catalogue) == "Swedish massage, 90 minutes"
    assert describe_service("unknown:", catalogue) == "Massage"


def test_the_questions_come_in_order(catalogue: Catalogue) -> None:
    where = situation(catalogue)
    assert next_slot({}, where) == SERVICE
    assert next_slot({SERVICE: "swedish:60"}, where) == TIME
    assert next_slot({SERVICE: "swedish:60", TIME: "2026-12-08T10:00"}, where) == NAME
    filled = {SERVICE: "swedish:60", TIME: "x", NAME: "Ana", CONTACT: "a@b.co", CONSENT: True, CONFIRMED: True}
    assert next_slot(filled, where) is None


def test_the_waiting_list_needs_no_time_and_the_kiosk_no_name_or_contact(catalogue: Catalogue) -> None:
    assert next_slot({SERVICE: "swedish:60", SLOT: offers.WAITLIST}, situation(catalogue)) == NAME
    assert next_slot({SERVICE: "swedish:60", TIME: "x"}, situation(catalogue, "kiosk")) == CONSENT


@pytest.mark.parametrize("intent, problem", [
    ("ask_price", QUESTION), ("out_of_scope", QUESTION), ("greet", SMALL_TALK), ("nlu_fallback", UNCLEAR),
])
def test_an_answer_that_is_not_one_is_answered_then_asked_again(intent: str, problem: str) -> None:
    assert free_text_problem(intent) == problem


@pytest.mark.parametrize("text, part", [
    ("can we make it friday at 3", "time"),
    ("a 90 minute session instead", "service"),
    ("change my number", "contact"),
    ("an hour later", "time"),
])
def test_the_part_of_the_request_to_change(text: str, part: str) -> None:
    assert change_target(Said(text, "change_booking")) == part


def test_a_button_names_the_part_to_change() -> None:
    said = Said("/change_booking", "change_booking", [{"entity": "booking_change", "value": "service"}])
    assert said.is_payload and change_target(said) == "service"


def test_no_to_keeping_the_details_ends_the_form() -> None:
    assert consent_answer(Said("no", "deny"))[STAGE] == "declined"
    assert consent_answer(Said("yes", "affirm")) == {CONSENT: True}
