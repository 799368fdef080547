"""A message sent again with its id, over the real servers: the stored replies, one turn."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest
import requests

pytestmark = pytest.mark.e2e


def post(assistant: Any, sender: str, message: str, message_id: str, channel: str = "rest") -> List[Dict[str, Any]]:
    response = requests.post(f"{assistant.rasa_url}/webhooks/{channel}/webhook", timeout=30,
                             json={"sender": sender, "message": message, "message_id": message_id})
    response.raise_for_status()
    return response.json()


def user_messages(assistant: Any, sender: str) -> List[str]:
    events = assistant.api("GET", f"/conversations/{sender}/tracker").json()["events"]
    return [e["text"] for e in events if e["event"] == "user"]


def test_a_message_sent_again_gets_the_same_replies_and_is_stored_once(assistant) -> None:
    sender = f"retry-{uuid.uuid4().hex[:8]}"
    post(assistant, sender, "hi", "m-1")
    first = post(assistant, sender, "my lower back is stiff from sitting all day", "m-2")
    again = post(assistant, sender, "my lower back is stiff from sitting all day", "m-2")
    assert again == first and "safety check" in " ".join(m.get("text") or "" for m in again)
    assert again[-1].get("buttons") == first[-1].get("buttons")
    assert user_messages(assistant, sender) == ["hi", "my lower back is stiff from sitting all day"]


def test_the_same_id_sent_twice_at_once_is_one_turn(assistant) -> None:
    sender = f"race-{uuid.uuid4().hex[:8]}"
    post(assistant, sender, "hi", "m-1", channel="web")
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: post(assistant, sender, "what should I wear", "m-2", "web"), range(2)))
    assert replies[0] == replies[1]
    assert user_messages(assistant, sender) == ["hi", "what should I wear"]


def test_the_same_words_with_a_new_id_are_a_new_message(assistant) -> None:
    sender = f"again-{uuid.uuid4().hex[:8]}"
    post(assistant, sender, "how long is a session", "a")
    post(assistant, sender, "how long is a session", "b")
    assert user_messages(assistant, sender) == ["how long is a session", "how long is a session"]


def test_a_malformed_message_id_is_refused_clearly(assistant) -> None:
    response = requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook", timeout=30,
                             json={"sender": "someone", "message": "hi", "message_id": "not valid!"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_message_id"
