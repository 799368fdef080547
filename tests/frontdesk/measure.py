"""How many front-desk questions the assistant answers (measured, not a pass/fail test).

    .venv/bin/python -m tests.frontdesk.measure [--url http://localhost:5005]

Sends each question of tests/frontdesk/questions.yml as the first message of its own
conversation over the REST channel of a running assistant (`RATE_LIMIT_ADDRESS=1000/60 make run`:
the questions come from one address faster than a person types). A question counts as
answered when the model's intent is one that answers its topic (ANSWERING_INTENTS; a topic with
no such intent yet has none) and the reply is not the fallback or the virtual-assistant answer.
Also printed: how many got anything but a fallback (a looser figure: some of those replies are
about something else). Lists the questions not answered, with the intent they got.
"""
from __future__ import annotations

import argparse
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
import yaml

QUESTIONS = Path(__file__).resolve().parent / "questions.yml"
NOT_ANSWERED_INTENTS = {"nlu_fallback", "bot_challenge", "out_of_scope"}
# The intents whose answers cover each topic (bot/knowledge/front_desk.py answers most of them
# from the spa's settings; booking requests and changes go to the booking flow).
ANSWERING_INTENTS = {
    "opening_hours": {"ask_hours"}, "location": {"ask_location"}, "parking_transport": {"ask_parking"},
    "accessibility": {"ask_accessibility"}, "gift_cards": {"ask_gift_cards"}, "packages_memberships": {"ask_packages"},
    "couples": {"ask_couples"}, "payment": {"ask_payment", "ask_insurance"}, "age_rules": {"ask_age_rules"},
    "late_arrival": {"ask_late_arrival"}, "what_to_bring": {"ask_what_to_bring", "ask_first_visit"},
    "changing_showers": {"ask_facilities"}, "walk_ins_same_day": {"ask_walk_in", "book_session"},
    "booking_ahead": {"ask_booking_ahead"}, "waiting_list": {"ask_waiting_list"}, "booking_request": {"book_session"},
    "reschedule_cancel": {"change_booking", "cancel_booking"}, "sexual_services": {"request_sexual_services"},
}
NOT_ANSWERED_REPLIES = ("Sorry, I can't help with that", "I'm a virtual assistant")


def questions() -> List[Dict[str, Any]]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]


def ask(url: str, token: str, text: str) -> Tuple[str, str]:
    """(intent, reply text) for `text` as a new conversation's first message."""
    answer = requests.post(f"{url}/webhooks/rest/webhook", timeout=30,
                           json={"sender": f"frontdesk-{uuid.uuid4().hex[:10]}", "message": text})
    answer.raise_for_status()  # e.g. 429: start the assistant with RATE_LIMIT_ADDRESS=1000/60 for this run
    reply = answer.json()
    parsed = requests.post(f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=30).json()
    return parsed["intent"]["name"], "\n".join(m.get("text") or "" for m in reply)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--token-file", default=".data/rasa-token")
    args = parser.parse_args()
    token = Path(args.token_file).read_text().strip()
    total, answered, not_fallback, missed = Counter(), Counter(), Counter(), []
    for question in questions():
        topic = question["topic"]
        intent, reply = ask(args.url, token, question["text"])
        total[topic] += 1
        fallback = intent in NOT_ANSWERED_INTENTS or any(r in reply for r in NOT_ANSWERED_REPLIES)
        not_fallback[topic] += not fallback
        if not fallback and intent in ANSWERING_INTENTS.get(topic, set()):
            answered[topic] += 1
        else:
            missed.append((topic, question["text"], intent))
    print(f"{'topic':22} answered  not a fallback")
    for topic in sorted(total):
        print(f"{topic:22} {answered[topic]:3}/{total[topic]:3}   {not_fallback[topic]:3}/{total[topic]:3}")
    n = max(sum(total.values()), 1)
    print(f"{'all':22} {sum(answered.values()):3}/{n:3}   {sum(not_fallback.values()):3}/{n:3}  "
          f"({sum(answered.values()) / n:.0%} answered, {sum(not_fallback.values()) / n:.0%} not a fallback)")
    print("\nNot answered (topic, question, intent):")
    for topic, text, intent in missed:
        print(f"  {topic}: {text!r} -> {intent}")


if __name__ == "__main__":
    main()
