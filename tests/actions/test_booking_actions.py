"""The booking form, turn by turn: validate_booking_form, its questions and the submit action.

`BookingChat` (conftest) plays the part of Rasa's form loop, so these tests pin the actions
without a trained model. The clock is fixed on Thursday 26 November 2026, 10 am at the spa.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

import pytest

from actions import replies
from actions.appointment_changes import ActionManageBooking
from actions.booking_form import ActionBookingSubmit
from actions.safety import SafeAction
from bot.booking import situation, store
from bot.booking.form_logic import FORM
from bot.nlu.matcher import VocabularyMatcher
from tests.actions.conftest import ASK, BookingChat, payloads, texts, titles

NOW = datetime(2026, 11, 26, 10, 0)  # a Thursday


@pytest.fixture(autouse=True)
def spa_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(situation, "spa_now", lambda hours: NOW)


@pytest.fixture
def chat(kb_database: str, matcher: VocabularyMatcher) -> BookingChat:
    return BookingChat(matcher, sender=f"web-{id(matcher)}-{datetime.utcnow().timestamp()}")


def recommended(chat: BookingChat) -> None:
    chat.say("my shoulders are tight from my desk job", "describe_problem")
    assert "what I would suggest" in texts(chat.say("/deny", "deny"))


def at_the_summary(chat: BookingChat) -> List[Dict[str, Any]]:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    chat.say("Maria Lopez")
    chat.say("my number is 202 555 0143")
    return chat.say("/affirm", "affirm")


def test_after_a_recommendation_the_form_asks_only_for_the_time(chat) -> None:
    recommended(chat)
    messages = chat.say("/book_session", "book_session")
    assert "booking request right here" in texts(messages)
    assert "What day and time would suit you?" in texts(messages)
    assert "Here are the next free times" in texts(messages)
    offered = [p for p in payloads(messages) if '"booking_slot"' in p]
    assert len(offered) == 5, payloads(messages)
    assert chat.slots["booking_service"].endswith(":30") or chat.slots["booking_service"].endswith(":45")
    assert chat.slots["booking_ready"] is False


def test_the_whole_request_is_summarised_confirmed_and_stored(chat) -> None:
    summary = at_the_summary(chat)
    text = texts(summary)
    assert "Tuesday 1 December at 3 pm" in text and "Maria Lopez" in text and "+1 202-555-0143" in text
    assert "What the spa will get" in text and "Areas: shoulders" in text
    assert payloads(summary) == ["/affirm", '/change_booking{"booking_change": "time"}',
                                 '/change_booking{"booking_change": "service"}',
                                 '/change_booking{"booking_change": "contact"}', "/cancel_booking"]
    done = texts(chat.say("/affirm", "affirm"))
    request = store.latest_for_sender(chat.sender)
    assert request is not None and request.code in done and "will contact you" in done
    assert request.preferred_at == datetime(2026, 12, 1, 15, 0) and request.phone == "+12025550143"
    assert request.name == "Maria Lopez" and request.channel == "web"
    assert chat.slots.get("booking_name") is None and chat.slots.get("booking_contact") is None


def test_the_service_buttons_ask_for_a_length_after_the_technique(chat) -> None:
    chat.say("I want to book", "book_session")
    messages = chat.say("/deny", "deny")
    assert "Which massage would you like?" in texts(messages)
    assert '/book_session{"technique": "swedish"}' in payloads(messages)
    lengths = chat.say('/book_session{"technique": "swedish"}', "book_session")
    assert "Swedish massage: how long would you like it to be?" in texts(lengths)
    assert '/book_session{"time_available": "60"}' in payloads(lengths)
    chat.say('/book_session{"time_available": "60"}', "book_session")
    assert chat.slots["booking_service"] == "swedish:60"


def test_a_time_outside_opening_hours_says_the_hours_and_offers_open_slots(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    messages = chat.say("sunday at 3", "book_session")
    assert "closed on Sunday 29 November at 3 pm" in texts(messages)
    assert "Monday to Saturday, 9 am to 7 pm" in texts(messages)
    offered = titles(messages)
    assert offered[0].startswith("Monday 30 November at 9 am with "), offered
    chat.say("Monday 30 November at 10 am")
    assert chat.slots["booking_time"] == "2026-11-30T10:00"


def test_a_day_without_a_time_asks_for_the_time_then_combines_them(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    friday = chat.say("friday", "book_session")
    assert "Here are the next free times" in texts(friday)
    assert titles(friday) and all(t.startswith("Friday 27 November") for t in titles(friday)), titles(friday)
    assert chat.slots.get("booking_time") is None
    chat.say("at 3pm")
    assert chat.slots["booking_time"] == "2026-11-27T15:00"


def test_a_time_in_the_past_is_asked_again(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    assert "already passed" in texts(chat.say("yesterday at 3", "book_session"))


def test_the_time_in_the_booking_request_is_kept_through_the_safety_checklist(chat) -> None:
    chat.say("can I book for saturday 10am", "book_session")
    chat.say("/deny", "deny")
    assert chat.slots["booking_time_text"] == "can I book for saturday 10am"
    chat.say('/book_session{"technique": "swedish"}', "book_session")
    chat.say('/book_session{"time_available": "60"}', "book_session")
    assert chat.slots["booking_time"] == "2026-11-28T10:00"


def test_a_closed_time_in_the_booking_request_is_explained_when_the_time_is_asked(chat) -> None:
    chat.say("can I book for sunday at 3pm", "book_session")
    assert "Which massage" in texts(chat.say("/deny", "deny"))
    chat.say('/book_session{"technique": "swedish"}', "book_session")
    messages = chat.say('/book_session{"time_available": "60"}', "book_session")
    assert "closed on Sunday 29 November at 3 pm" in texts(messages)
    assert titles(messages)[0].startswith("Monday 30 November at 9 am with "), titles(messages)


def test_an_invalid_phone_number_is_asked_again(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    chat.say("Maria")
    messages = chat.say("555-0100")
    assert "phone number doesn't look right" in texts(messages) and chat.slots.get("booking_contact") is None
    chat.say("maria@example.com")
    assert chat.slots["booking_contact"] == "maria@example.com"


def test_at_the_kiosk_no_name_or_contact_and_a_code_for_reception(kb_database, matcher) -> None:
    chat = BookingChat(matcher, channel="kiosk", sender=f"kiosk-{datetime.utcnow().timestamp()}")
    recommended(chat)
    chat.say("/book_session", "book_session")
    consent = texts(chat.say("next tuesday at 3pm", "book_session"))
    assert "health" in consent and "name" not in consent.lower()
    summary = chat.say("/affirm", "affirm")
    assert "Name" not in texts(summary) and "Contact" not in texts(summary)
    assert '/change_booking{"booking_change": "contact"}' not in payloads(summary)
    done = texts(chat.say("/affirm", "affirm"))
    request = store.latest_for_sender(chat.sender)
    assert f"Show this code to reception: {request.code}" in done
    assert request.channel == "kiosk" and request.name is None and request.phone is None and request.email is None


def test_on_sms_the_number_they_write_from_is_offered(kb_database, matcher) -> None:
    chat = BookingChat(matcher, channel="twilio", sender="+12025550199")
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    offer = chat.say("Sam")
    assert "Can the team reach you at +1 202-555-0199?" in texts(offer)
    assert payloads(offer) == ["/affirm", "/deny"]
    chat.say("/affirm", "affirm")
    assert chat.slots["booking_contact"] == "+12025550199"


def test_on_whatsapp_another_number_can_be_given(kb_database, matcher) -> None:
    chat = BookingChat(matcher, channel="twilio", sender="whatsapp:+12025550198")
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    chat.say("Sam")
    other = texts(chat.say("/deny", "deny"))
    assert "best phone number or email" in other
    chat.say("202 555 0143")
    assert chat.slots["booking_contact"] == "+12025550143"


def test_an_absolute_contraindication_never_reaches_the_form(chat) -> None:
    chat.say("my back is sore", "describe_problem")
    chat.say("/deny", "deny")
    messages = chat.say("can I book a session? I have a fever", "book_session")
    assert "isn't safe" in texts(messages) and chat.active_loop is None
    assert not chat.slots.get("booking_ready")


def test_an_absolute_contraindication_in_the_form_stops_it(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    messages = chat.say("oh wait, I have a fever", "describe_problem")
    assert "isn't safe" in texts(messages) and chat.active_loop is None
    assert "/affirm" not in payloads(messages) and chat.slots.get("booking_time") is None
    assert store.latest_for_sender(chat.sender) is None


def test_a_red_flag_in_the_form_gets_only_the_urgent_message(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    messages = chat.say("I have chest pain", "report_emergency")
    assert len(messages) == 1 and "emergency services" in texts(messages) and chat.active_loop is None
    assert chat.slots.get("booking_service") is None and chat.slots.get("booking_stage") == "stopped"


def test_a_relative_condition_in_the_form_is_said_and_goes_into_the_intake(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    messages = chat.say("by the way I'm pregnant", "describe_problem")
    text = texts(messages)
    assert "certified prenatal" in text and "What day and time would suit you?" in text
    assert chat.active_loop == FORM
    chat.say("next tuesday at 3pm", "book_session")
    chat.say("Maria")
    chat.say("maria@example.com")
    summary = texts(chat.say("/affirm", "affirm"))
    assert "Condition: Pregnancy" in summary and "Modification:" in summary
    done = texts(chat.say("/affirm", "affirm"))
    assert "certified prenatal" in done
    request = store.latest_for_sender(chat.sender)
    assert [c["id"] for c in request.intake["conditions"]] == ["pregnancy"]
    assert "certified prenatal" in request.intake["conditions"][0]["modification"]


def test_a_condition_the_knowledge_base_does_not_know_gets_the_doctor_advice_and_the_question(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    text = texts(chat.say("I was diagnosed with Parkinson's", "describe_problem"))
    assert "check with your doctor" in text and "What name should we put the booking under?" in text


def test_no_consent_stores_nothing_and_gives_the_link(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    chat.say("Maria")
    chat.say("maria@example.com")
    messages = texts(chat.say("/deny", "deny"))
    assert "haven't kept any of your details" in messages and "harbourlight.example/book" in messages
    assert store.latest_for_sender(chat.sender) is None and chat.slots.get("booking_name") is None


def test_the_summary_can_change_the_time_then_confirm(chat) -> None:
    at_the_summary(chat)
    asked = texts(chat.say('/change_booking{"booking_change": "time"}', "change_booking"))
    assert "What day and time would suit you?" in asked
    summary = texts(chat.say("next wednesday at 11am", "book_session"))
    assert "Wednesday 2 December at 11 am" in summary and "Shall I send it?" in summary


def test_the_time_can_be_changed_before_the_summary(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    asked = texts(chat.say("actually can we make it friday at 3 instead", "change_booking"))
    assert chat.slots["booking_time"] == "2026-11-27T15:00" and "What name" in asked


def test_cancel_at_the_summary_stores_nothing(chat) -> None:
    at_the_summary(chat)
    assert "Nothing was sent" in texts(chat.say("/cancel_booking", "cancel_booking"))
    assert store.latest_for_sender(chat.sender) is None


def test_after_confirming_the_time_can_be_changed_and_the_request_cancelled(chat) -> None:
    at_the_summary(chat)
    chat.say("/affirm", "affirm")
    code = store.latest_for_sender(chat.sender).code
    changed = texts(chat.say("change my booking to friday at 3", "change_booking"))
    assert code in changed and "Friday 27 November at 3 pm" in changed
    assert store.get_by_code(code).preferred_at == datetime(2026, 11, 27, 15, 0)
    cancelled = texts(chat.say("cancel my booking", "cancel_booking"))
    assert code in cancelled and store.get_by_code(code).status == "cancelled"
    assert "can't find an open booking" in texts(chat.say("cancel my booking", "cancel_booking"))


def test_after_confirming_the_massage_and_its_length_can_be_changed(chat) -> None:
    at_the_summary(chat)
    chat.say("/affirm", "affirm")
    request = store.latest_for_sender(chat.sender)
    text = texts(chat.say("can i change it to a 60 minute session", "change_booking"))
    assert request.code in text and "60 minutes" in text
    assert store.get_by_code(request.code).minutes == 60
    other = next(t for t in ("swedish", "deep_tissue", "trigger_point") if t != request.technique)
    name = {"swedish": "Swedish", "deep_tissue": "deep tissue", "trigger_point": "trigger point"}[other]
    text = texts(chat.say(f"change my booking to {name} massage", "change_booking"))
    changed = store.get_by_code(request.code)
    assert changed.technique == other and changed.minutes == 60 and changed.technique_name in text
    asked = chat.say("i'd like to change the massage i booked", "change_booking")
    assert "Which massage would you like instead?" in texts(asked)
    assert all(p.startswith("/change_booking{") for p in payloads(asked))


def test_after_confirming_the_contact_and_name_can_be_changed(chat) -> None:
    at_the_summary(chat)
    chat.say("/affirm", "affirm")
    code = store.latest_for_sender(chat.sender).code
    text = texts(chat.say("change my contact to maria.lopez@example.com", "change_booking"))
    assert "maria.lopez@example.com" in text and code in text
    request = store.get_by_code(code)
    assert request.email == "maria.lopez@example.com" and request.phone is None
    assert "doesn't look right" in texts(chat.say("change my number to 12345", "change_booking"))
    assert store.get_by_code(code).email == "maria.lopez@example.com"
    text = texts(chat.say("please change the name on my booking to Maria Garcia", "change_booking"))
    assert "Maria Garcia" in text and store.get_by_code(code).name == "Maria Garcia"


def test_moving_a_sent_request_to_a_closed_time_changes_nothing(chat) -> None:
    at_the_summary(chat)
    chat.say("/affirm", "affirm")
    request = store.latest_for_sender(chat.sender)
    text = texts(chat.say("change my booking to sunday at 3", "change_booking"))
    assert "closed on Sunday 29 November at 3 pm" in text and "haven't changed anything" in text
    assert store.get_by_code(request.code).preferred_at == request.preferred_at


def test_a_question_in_the_form_is_answered_then_asked_again(chat) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("next tuesday at 3pm", "book_session")
    text = texts(chat.say("how much does it cost", "ask_price"))
    assert "$55" in text and "What name should we put the booking under?" in text
    assert chat.slots.get("booking_name") is None


@pytest.mark.parametrize("intent", ["request_human", "delete_conversation"])
def test_talk_to_a_person_and_forget_me_leave_the_form_by_the_rules(chat, intent) -> None:
    recommended(chat)
    chat.say("/book_session", "book_session")
    chat.say("can I talk to someone", intent)
    assert chat.rejected


def test_every_question_passes_through_the_safety_preface() -> None:
    for action in list(ASK.values()) + [ActionBookingSubmit, ActionManageBooking]:
        assert issubclass(action, SafeAction), action


def test_a_change_nlu_could_not_place_still_reaches_the_booking(chat) -> None:
    at_the_summary(chat)
    chat.say("/affirm", "affirm")
    request = store.latest_for_sender(chat.sender)
    other = next(t for t in ("swedish", "deep_tissue", "trigger_point") if t != request.technique)
    name = {"swedish": "Swedish", "deep_tissue": "deep tissue", "trigger_point": "trigger point"}[other]
    text = texts(chat.say(f"change my booking to {name} massage", "nlu_fallback"))
    changed = store.get_by_code(request.code)
    assert request.code in text and changed.technique == other and changed.technique_name in text
    # Cancelling is never read from words the classifier could not place.
    chat.say("please cancel my booking", "nlu_fallback")
    assert store.get_by_code(request.code).status == "new"


def test_a_change_with_no_booking_says_there_is_none(chat) -> None:
    messages = chat.say("can I move my appointment to friday", "nlu_fallback")
    assert replies.BOOKING_NONE_OPEN in texts(messages)
