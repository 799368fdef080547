"""Real-shaped webhook traffic for Telegram, Twilio (SMS/WhatsApp) and Slack through the running
Rasa server, with the outgoing API calls captured by a local fake API server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from bot.security.webhooks import telegram_secret
from tests.channels.fake_apis import FakeApis
from tests.conftest import KB_DIR
from tests.security.harness import CHANNEL_ENV, secured_servers

pytestmark = pytest.mark.e2e

SLACK_SECRET = CHANNEL_ENV["SLACK_SIGNING_SECRET"]


@pytest.fixture(scope="module")
def messaging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    with secured_servers(tmp_path_factory.mktemp("messaging")) as servers:
        yield servers


TELEGRAM_SECRET = telegram_secret(CHANNEL_ENV["TELEGRAM_TOKEN"])
TWILIO_URL = CHANNEL_ENV["TWILIO_WEBHOOK_URL"]


def test_telegram_registers_its_webhook_with_a_secret_token_on_start(messaging) -> None:
    calls = messaging["fake"].calls_to("/setWebhook")
    assert calls and calls[0]["body"]["url"] == CHANNEL_ENV["TELEGRAM_WEBHOOK_URL"]
    assert calls[0]["body"]["secret_token"] == TELEGRAM_SECRET
    assert CHANNEL_ENV["TELEGRAM_TOKEN"] in calls[0]["path"]


def post_telegram(messaging, update: Any, secret: Optional[str] = TELEGRAM_SECRET) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{messaging['url']}/webhooks/telegram/webhook", json=update, headers=headers, timeout=30)


def twilio_signature(url: str, form: Dict[str, str], token: str = CHANNEL_ENV["TWILIO_AUTH_TOKEN"]) -> str:
    data = url + "".join(key + form[key] for key in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def post_twilio(messaging, form: Dict[str, str], signature: Optional[str] = "sign") -> requests.Response:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = twilio_signature(TWILIO_URL, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(f"{messaging['url']}/webhooks/twilio/webhook", data=form, headers=headers, timeout=30)


UPDATE_IDS = itertools.count(int(time.time()))


def telegram_update(chat_id: int, text: str, update_id: Optional[int] = None) -> Dict[str, Any]:
    """A Telegram update; each has its own update_id unless one is given (a re-delivery)."""
    return {"update_id": update_id or next(UPDATE_IDS), "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
        "chat": {"id": chat_id, "first_name": "Ana", "type": "private"}}}


def test_telegram_message_gets_a_reply_with_buttons(messaging) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/sendMessage"))
    response = post_telegram(messaging, telegram_update(5001, "my neck is stiff from my desk job"))
    assert response.ok and response.text == "success"
    sent = fake.calls_to("/sendMessage")[before:]
    assert any("safety check" in call["body"].get("text", "") for call in sent)
    keyboard = next(json.loads(c["body"]["reply_markup"]) for c in sent if c["body"].get("reply_markup"))
    titles = [b["text"] for row in keyboard["inline_keyboard"] for b in row]
    assert "None of these" in titles
    assert all(call["body"]["chat_id"] == "5001" for call in sent)


def twilio_form(sender: str, text: str, sid: Optional[str] = None) -> Dict[str, str]:
    """An incoming SMS; each has its own MessageSid unless one is given (a re-delivery)."""
    return {"From": sender, "To": CHANNEL_ENV["TWILIO_NUMBER"], "Body": text, "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": CHANNEL_ENV["TWILIO_ACCOUNT_SID"], "NumMedia": "0"}


def twilio_sent(fake: FakeApis, to: str) -> List[str]:
    return [c["body"]["Body"] for c in fake.calls_to("/Messages.json") if c["body"].get("To") == to]


def test_sms_shows_numbered_options_and_a_number_picks_one(messaging) -> None:
    fake, sender = messaging["fake"], "+15551230001"
    response = post_twilio(messaging, twilio_form(sender, "my lower back is stiff"))
    assert response.status_code == 204
    question = twilio_sent(fake, sender)[-1]
    assert "Reply with a number:" in question and "11. None of these" in question
    post_twilio(messaging, twilio_form(sender, "11"))
    assert "what I would suggest" in twilio_sent(fake, sender)[-1]


def test_whatsapp_through_twilio(messaging) -> None:
    fake, sender = messaging["fake"], "whatsapp:+15551230002"
    post_twilio(messaging, twilio_form(sender, "how often should i get a massage"))
    assert "once or twice a month" in twilio_sent(fake, sender)[-1]


def slack_headers(body: bytes) -> Dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}"}


def slack_event(text: str, event_id: Optional[str] = None) -> bytes:
    return json.dumps({
        "token": "verification", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": int(time.time()),
        "event": {"type": "message", "channel": "D0001", "channel_type": "im", "user": "U0001",
                  "text": text, "ts": f"{time.time():.6f}"}}).encode()


def slack_sent(messaging, text: str, event_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Post a signed Slack message event; the chat.postMessage calls the assistant made for it."""
    fake = messaging["fake"]
    before = len(fake.calls_to("/api/chat.postMessage"))
    body = slack_event(text, event_id)
    response = requests.post(f"{messaging['url']}/webhooks/slack/webhook", data=body,
                             headers=slack_headers(body), timeout=30)
    assert response.ok
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not fake.calls_to("/api/chat.postMessage")[before:]:
        time.sleep(0.2)
    return fake.calls_to("/api/chat.postMessage")[before:]


def user_turns(messaging, sender: str) -> List[str]:
    url = f"{messaging['url']}/conversations/{sender}/tracker"
    events = requests.get(url, params={"token": messaging["token"]}, timeout=30).json()["events"]
    return [e["text"] for e in events if e["event"] == "user"]


def test_an_sms_twilio_delivers_twice_is_answered_once(messaging) -> None:
    """Twilio retries a webhook it thinks failed, with the same MessageSid: one turn, one SMS."""
    fake, sender, sid = messaging["fake"], "+15551230009", "SM" + uuid.uuid4().hex
    assert post_twilio(messaging, twilio_form(sender, "what should I wear", sid)).status_code == 204
    sent = len(twilio_sent(fake, sender))
    assert sent >= 1
    assert post_twilio(messaging, twilio_form(sender, "what should I wear", sid)).status_code == 204
    time.sleep(1)
    assert len(twilio_sent(fake, sender)) == sent
    assert user_turns(messaging, sender) == ["what should I wear"]
    post_twilio(messaging, twilio_form(sender, "what should I wear"))  # a new message, the same words
    assert user_turns(messaging, sender) == ["what should I wear", "what should I wear"]


def test_a_telegram_update_delivered_twice_is_answered_once(messaging) -> None:
    fake, update = messaging["fake"], telegram_update(5009, "how long is a session")
    before = len(fake.calls_to("/sendMessage"))
    assert post_telegram(messaging, update).ok
    sent = len(fake.calls_to("/sendMessage"))
    assert sent > before
    assert post_telegram(messaging, update).ok
    time.sleep(1)
    assert len(fake.calls_to("/sendMessage")) == sent
    assert user_turns(messaging, "5009") == ["how long is a session"]


def test_a_slack_event_delivered_twice_is_answered_once(messaging) -> None:
    event_id = "Ev" + uuid.uuid4().hex[:10].upper()
    assert slack_sent(messaging, "what are the benefits of massage", event_id)
    body = slack_event("what are the benefits of massage", event_id)
    before = len(messaging["fake"].calls_to("/api/chat.postMessage"))
    assert requests.post(f"{messaging['url']}/webhooks/slack/webhook", data=body, headers=slack_headers(body),
                         timeout=30).ok
    time.sleep(1)
    assert len(messaging["fake"].calls_to("/api/chat.postMessage")) == before


def test_slack_message_gets_a_reply(messaging) -> None:
    sent = slack_sent(messaging, "is massage covered by insurance")
    assert any("HSA" in (c["body"].get("text") or "") for c in sent)
    assert all(c["body"]["channel"] == "D0001" for c in sent)


@pytest.mark.parametrize("signature", [None, "v0=" + "0" * 64, "wrong-secret"])
def test_slack_refuses_unsigned_or_wrongly_signed_requests(messaging, signature) -> None:
    body = slack_event("forged slack message")
    headers = {"Content-Type": "application/json"}
    if signature == "wrong-secret":
        headers = {**slack_headers(body), "X-Slack-Signature": "v0=" + hmac.new(
            b"not-the-secret", f"v0:{int(time.time())}:".encode() + body, hashlib.sha256).hexdigest()}
    elif signature:
        headers = {**slack_headers(body), "X-Slack-Signature": signature}
    response = requests.post(f"{messaging['url']}/webhooks/slack/webhook", data=body, headers=headers, timeout=30)
    assert response.status_code == 403
    log = messaging["log"].read_text()
    assert "Refused a slack webhook request" in log and "forged slack message" not in log


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x"])
def test_telegram_refuses_updates_without_the_secret_token(messaging, secret) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/sendMessage"))
    response = post_telegram(messaging, telegram_update(5002, "forged telegram message"), secret=secret)
    assert response.status_code == 403
    assert len(fake.calls_to("/sendMessage")) == before
    log = messaging["log"].read_text()
    assert "Refused a telegram webhook request" in log and "forged telegram message" not in log


@pytest.mark.parametrize("update", [{}, [], "text", {"update_id": "1"}, {"update_id": 1, "message": "hi"},
                                    {"update_id": 1, "message": {"chat": {"id": "x"}, "text": "hi"}},
                                    {"update_id": 1, "message": {"chat": {"id": 1}, "text": 5}},
                                    {"update_id": 1, "callback_query": {"data": 1}}])
def test_a_signed_but_malformed_telegram_update_is_a_400(messaging, update) -> None:
    assert post_telegram(messaging, update).status_code == 400


def test_rasas_set_webhook_route_cannot_drop_the_secret(messaging) -> None:
    for method in (requests.get, requests.post):
        assert method(f"{messaging['url']}/webhooks/telegram/set_webhook", timeout=10).status_code == 403


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong-token"])
def test_twilio_refuses_unsigned_or_wrongly_signed_requests(messaging, signature) -> None:
    fake, sender = messaging["fake"], "+15551239999"
    form = twilio_form(sender, "forged sms message")
    if signature == "wrong-token":
        signature = twilio_signature(TWILIO_URL, form, token="not-the-auth-token")
    response = post_twilio(messaging, form, signature=signature)
    assert response.status_code == 403
    assert twilio_sent(fake, sender) == []
    log = messaging["log"].read_text()
    assert "Refused a twilio webhook request" in log and "forged sms message" not in log


def test_a_twilio_signature_does_not_cover_a_changed_body(messaging) -> None:
    form = twilio_form("+15551238888", "hello")
    signature = twilio_signature(TWILIO_URL, form)
    assert post_twilio(messaging, {**form, "Body": "changed"}, signature=signature).status_code == 403


def test_a_signed_twilio_request_without_a_body_is_a_400(messaging) -> None:
    form = {k: v for k, v in twilio_form("+15551237777", "x").items() if k != "Body"}
    assert post_twilio(messaging, form).status_code == 400


def test_a_too_long_sms_gets_the_friendly_reply(messaging) -> None:
    fake, sender = messaging["fake"], "+15551236666"
    assert post_twilio(messaging, twilio_form(sender, "my back " * 200)).status_code == 204
    assert "too long" in twilio_sent(fake, sender)[-1]


def test_forget_me_by_sms_deletes_the_conversation(messaging) -> None:
    fake, sender = messaging["fake"], "+15551235555"
    post_twilio(messaging, twilio_form(sender, "I have a fever"))
    post_twilio(messaging, twilio_form(sender, "delete my conversation"))
    question = twilio_sent(fake, sender)[-1]
    assert "delete our conversation" in question and "1. Yes, delete it" in question
    tracker_url = f"{messaging['url']}/conversations/{sender}/tracker"
    assert requests.get(tracker_url, params={"token": messaging["token"]}, timeout=10).json()["events"]
    post_twilio(messaging, twilio_form(sender, "1"))
    assert "deleted our conversation" in twilio_sent(fake, sender)[-1]
    events = requests.get(tracker_url, params={"token": messaging["token"]}, timeout=10).json()["events"]
    assert not any(e.get("event") == "user" for e in events)


def test_a_conversation_planted_through_the_rest_channel_is_not_continued_by_sms(messaging) -> None:
    fake, sender = messaging["fake"], "+15551234444"
    requests.post(f"{messaging['url']}/webhooks/rest/webhook", json={"sender": sender, "message": "none of those"},
                  timeout=30)
    post_twilio(messaging, twilio_form(sender, "how often should i get a massage"))
    events = requests.get(f"{messaging['url']}/conversations/{sender}/tracker", params={"token": messaging["token"]},
                          timeout=10).json()["events"]
    channels = {e.get("input_channel") for e in events if e.get("event") == "user"}
    assert channels == {"twilio"}


def test_the_rest_channel_cannot_read_a_telegram_conversation(messaging) -> None:
    post_telegram(messaging, telegram_update(5003, "I am pregnant"))
    reply = requests.post(f"{messaging['url']}/webhooks/rest/webhook", json={"sender": "5003", "message": "hi"},
                          timeout=30).json()
    assert "can't be continued here" in reply[0]["text"]


def test_a_too_long_telegram_message_gets_the_friendly_reply(messaging) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/sendMessage"))
    assert post_telegram(messaging, telegram_update(5004, "my shoulders ache " * 100)).status_code == 200
    sent = fake.calls_to("/sendMessage")[before:]
    assert [call["body"]["chat_id"] for call in sent] == ["5004"] and "too long" in sent[0]["body"]["text"]


# The crisis reply names a person to talk to at the spa, whose name has "Massage" in it.
SPA_NAME = yaml.safe_load((KB_DIR / "spa.yml").read_text())["spa"]["name"]


def assert_crisis_reply_only(text: str) -> None:
    """The crisis reply and nothing about massage, the disclaimer, the checklist or a booking."""
    lowered = text.replace(SPA_NAME, "the spa").lower()
    for words in ("massage", "book", "safety check", "just so you know"):
        assert words not in lowered, text


def test_a_crisis_message_by_sms_gets_the_crisis_reply(messaging) -> None:
    fake, sender = messaging["fake"], "+15551232222"
    assert post_twilio(messaging, twilio_form(sender, "i keep thinking about killing myself")).status_code == 204
    sent = twilio_sent(fake, sender)
    assert len(sent) == 1 and "988" in sent[0] and "I'm really glad you told me" in sent[0]
    assert_crisis_reply_only(sent[0])


def test_abuse_by_sms_gets_the_hotline_and_a_numbered_way_to_delete(messaging) -> None:
    fake, sender = messaging["fake"], "+15551231111"
    assert post_twilio(messaging, twilio_form(sender, "my husband hits me and my back hurts")).status_code == 204
    sent = twilio_sent(fake, sender)
    assert len(sent) == 1 and "1-800-799-7233" in sent[0] and "1. Delete this conversation" in sent[0]
    assert_crisis_reply_only(sent[0])
    post_twilio(messaging, twilio_form(sender, "1"))
    assert "delete our conversation" in twilio_sent(fake, sender)[-1]


def test_a_crisis_message_by_telegram_gets_the_crisis_reply(messaging) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/sendMessage"))
    response = post_telegram(messaging, telegram_update(5101, "i took a whole bottle of paracetamol an hour ago"))
    assert response.ok and response.text == "success"
    sent = fake.calls_to("/sendMessage")[before:]
    assert [call["body"]["chat_id"] for call in sent] == ["5101"]
    text = sent[0]["body"]["text"]
    assert "988" in text and 0 <= text.index("911") < text.index("988")
    assert_crisis_reply_only(text)
    assert not sent[0]["body"].get("reply_markup")


def test_a_crisis_message_by_slack_gets_the_crisis_reply(messaging) -> None:
    sent = slack_sent(messaging, "honestly i dont see the point of going on anymore")
    assert len(sent) == 1 and "988" in sent[0]["body"]["text"]
    assert_crisis_reply_only(sent[0]["body"]["text"])
