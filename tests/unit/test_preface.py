"""The safety preface every reply passes through, as pure logic."""
from __future__ import annotations

from typing import List

from bot.advice.preface import Mode, blocks_offer, safety_preface, strip_offers
from bot.advice.profile import Profile
from bot.advice.safety import screen


def turns_of(matcher, *messages: str) -> List[list]:
    return [[m.as_entity("test") for m in matcher.find(text)] for text in messages]


def preface_for(matcher, catalogue, *messages: str):
    turns = turns_of(matcher, *messages)
    profile = Profile.from_turns(turns)
    return safety_preface(turns[-1], profile, screen(profile, catalogue.severities), catalogue)


def test_a_red_flag_gets_only_the_emergency(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "how much is it? I have chest pain")
    assert preface.mode is Mode.EMERGENCY and preface.lines == ()


def test_an_absolute_condition_says_no_massage_and_why(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "i have the flu, what is swedish massage")
    assert preface.mode is Mode.AVOID and not preface.allows_offers
    assert "no massage for now" in preface.text and catalogue.conditions["fever"].reason in preface.text
    assert preface.covered == ("fever",)


def test_an_earlier_absolute_condition_still_blocks_offers_without_repeating_itself(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "I have a blood clot", "what are the benefits?")
    assert preface.mode is Mode.AVOID and not preface.allows_offers and preface.lines == ()


def test_a_relative_condition_gives_its_modification_first(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "I'm 20 weeks pregnant, how often should I go?")
    assert preface.mode is Mode.MODIFY and preface.allows_offers
    assert "you are 20 weeks pregnant" in preface.text
    assert catalogue.conditions["pregnancy"].modification in preface.text


def test_the_first_trimester_asks_for_the_midwife_first(matcher, catalogue) -> None:
    assert "first trimester" in preface_for(matcher, catalogue, "I'm 8 weeks pregnant").text


def test_a_technique_question_carries_an_earlier_condition(matcher, catalogue) -> None:
    firm = preface_for(matcher, catalogue, "I'm on chemo", "what is deep tissue massage?")
    assert "Deep tissue massage and cancer treatment" in firm.text
    gentle = preface_for(matcher, catalogue, "I'm on chemo", "what is swedish massage?")
    assert gentle.lines == ()


def test_any_technique_question_after_an_absolute_condition_is_told_to_wait(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "I have a wound on my foot", "what is reflexology?")
    assert "hold off" in preface.text and "reflexology" in preface.text


def test_someone_elses_or_a_denied_condition_changes_nothing(matcher, catalogue) -> None:
    assert preface_for(matcher, catalogue, "my sister is pregnant, what is reflexology").lines == ()
    assert preface_for(matcher, catalogue, "no fever, what is swedish massage").mode is Mode.CLEAR


def test_an_unknown_condition_is_sent_to_the_doctor(matcher, catalogue) -> None:
    preface = preface_for(matcher, catalogue, "I was diagnosed with Parkinson's")
    assert preface.unknown == ("Parkinson's",)
    assert "check with your doctor" in preface.text and "therapist" in preface.text


def test_offers_are_recognised() -> None:
    assert blocks_offer({"title": "Book", "payload": "/book_session"})
    assert blocks_offer({"title": "About Reflexology", "payload": '/ask_techniques{"technique": "reflexology"}'})
    assert not blocks_offer({"title": "Talk to a person", "payload": "/request_human"})
    assert strip_offers("Hello.\nWould you like to know more, or shall I help you book?") == "Hello."
    assert strip_offers("We take walk-ins when a therapist is free. It is best to call first or book online.") == (
        "We take walk-ins when a therapist is free.")
