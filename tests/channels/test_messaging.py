"""Real-shaped webhook traffic for Telegram, Twilio (SMS/WhatsApp) and Slack through the running
Rasa server, with the outgoing API calls captured by a local fake API server."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from bot.deployment import credentials, endpoints
from tests.channels.fake_apis import TELEGRAM_BOT_NAME, FakeApis
from tests.conftest import PROJECT_ROOT
from tests.servers import free_port

pytestmark = pytest.mark.e2e

SLACK_SECRET = "test-signing-secret"
CHANNEL_ENV = {
    "TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "TELEGRAM_BOT_NAME": TELEGRAM_BOT_NAME,
    "TELEGRAM_WEBHOOK_URL": "https://spa.example/webhooks/telegram/webhook",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_NUMBER": "+15550000000",
    "SLACK_TOKEN": "xoxb-test-token",
    "SLACK_SIGNING_SECRET": SLACK_SECRET,
}


@pytest.fixture(scope="module")
def messaging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("messaging")
    rasa_port, actions_port = free_port(), free_port()
    env = dict(os.environ, **CHANNEL_ENV, PYTHONPATH=str(PROJECT_ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    (workdir / "credentials.yml").write_text(yaml.safe_dump(credentials(env)))
    (workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints(
        {"ACTIONS_PORT": str(actions_port), "TRACKER_DB_PATH": str(workdir / "tracker.db")})))
    log = open(workdir / "servers.log", "w")
    with FakeApis() as fake:
        env["FAKE_API_URL"] = fake.url
        python = str(PROJECT_ROOT / ".venv" / "bin" / "python")
        actions = subprocess.Popen([python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(actions_port)],
                                   cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        rasa = subprocess.Popen(
            [python, "-m", "tests.channels.serve_with_fake_apis", "run", "--port", str(rasa_port),
             "--model", str(PROJECT_ROOT / "models" / "model.tar.gz"),
             "--credentials", str(workdir / "credentials.yml"), "--endpoints", str(workdir / "endpoints.yml")],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://localhost:{rasa_port}"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if rasa.poll() is not None or actions.poll() is not None:
                pytest.fail(Path(log.name).read_text()[-3000:])
            try:
                ready = requests.get(f"{url}/webhooks/twilio/", timeout=2).ok
                ready = ready and requests.get(f"http://localhost:{actions_port}/health", timeout=2).ok
                if ready:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(Path(log.name).read_text()[-3000:])
        yield {"url": url, "fake": fake}
        for process in (rasa, actions):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    log.close()


def test_telegram_registers_its_webhook_on_start(messaging) -> None:
    calls = messaging["fake"].calls_to("/setWebhook")
    assert calls and calls[0]["body"]["url"] == CHANNEL_ENV["TELEGRAM_WEBHOOK_URL"]
    assert CHANNEL_ENV["TELEGRAM_TOKEN"] in calls[0]["path"]


def telegram_update(chat_id: int, text: str) -> Dict[str, Any]:
    return {"update_id": chat_id * 10, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
        "chat": {"id": chat_id, "first_name": "Ana", "type": "private"}}}


def test_telegram_message_gets_a_reply_with_buttons(messaging) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/sendMessage"))
    response = requests.post(f"{messaging['url']}/webhooks/telegram/webhook",
                             json=telegram_update(5001, "my neck is stiff from my desk job"), timeout=30)
    assert response.ok and response.text == "success"
    sent = fake.calls_to("/sendMessage")[before:]
    assert any("safety check" in call["body"].get("text", "") for call in sent)
    keyboard = next(json.loads(c["body"]["reply_markup"]) for c in sent if c["body"].get("reply_markup"))
    titles = [b["text"] for row in keyboard["inline_keyboard"] for b in row]
    assert "None of these" in titles
    assert all(call["body"]["chat_id"] == "5001" for call in sent)


def twilio_form(sender: str, text: str) -> Dict[str, str]:
    return {"From": sender, "To": CHANNEL_ENV["TWILIO_NUMBER"], "Body": text, "MessageSid": "SM" + "1" * 32,
            "AccountSid": CHANNEL_ENV["TWILIO_ACCOUNT_SID"], "NumMedia": "0"}


def twilio_sent(fake: FakeApis, to: str) -> List[str]:
    return [c["body"]["Body"] for c in fake.calls_to("/Messages.json") if c["body"].get("To") == to]


def test_sms_shows_numbered_options_and_a_number_picks_one(messaging) -> None:
    fake, sender = messaging["fake"], "+15551230001"
    response = requests.post(f"{messaging['url']}/webhooks/twilio/webhook",
                             data=twilio_form(sender, "my lower back is stiff"), timeout=30)
    assert response.status_code == 204
    question = twilio_sent(fake, sender)[-1]
    assert "Reply with a number:" in question and "11. None of these" in question
    requests.post(f"{messaging['url']}/webhooks/twilio/webhook", data=twilio_form(sender, "11"), timeout=30)
    assert "what I would suggest" in twilio_sent(fake, sender)[-1]


def test_whatsapp_through_twilio(messaging) -> None:
    fake, sender = messaging["fake"], "whatsapp:+15551230002"
    requests.post(f"{messaging['url']}/webhooks/twilio/webhook",
                  data=twilio_form(sender, "how often should i get a massage"), timeout=30)
    assert "once or twice a month" in twilio_sent(fake, sender)[-1]


def slack_headers(body: bytes) -> Dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}"}


def slack_event(text: str) -> bytes:
    return json.dumps({
        "token": "verification", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": "Ev1", "event_time": int(time.time()),
        "event": {"type": "message", "channel": "D0001", "channel_type": "im", "user": "U0001",
                  "text": text, "ts": f"{time.time():.6f}"}}).encode()


def test_slack_message_gets_a_reply(messaging) -> None:
    fake = messaging["fake"]
    before = len(fake.calls_to("/api/chat.postMessage"))
    body = slack_event("is massage covered by insurance")
    response = requests.post(f"{messaging['url']}/webhooks/slack/webhook", data=body,
                             headers=slack_headers(body), timeout=30)
    assert response.ok
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not fake.calls_to("/api/chat.postMessage")[before:]:
        time.sleep(0.2)
    sent = fake.calls_to("/api/chat.postMessage")[before:]
    assert any("HSA" in (c["body"].get("text") or "") for c in sent)
    assert all(c["body"]["channel"] == "D0001" for c in sent)


def test_slack_rejects_unsigned_requests(messaging) -> None:
    body = slack_event("hello")
    response = requests.post(f"{messaging['url']}/webhooks/slack/webhook", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code >= 400
