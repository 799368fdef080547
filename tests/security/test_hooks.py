"""The hooks into Rasa's server (bot/security/hooks.py) and the "forget me" action.

The hooks wrap two functions of rasa 3.6.21: these tests fail when their upstream source changes,
so the wrapper is re-checked on every Rasa upgrade.
"""
from __future__ import annotations

import hashlib
import inspect
from typing import Any, Dict, List

import rasa
import rasa.core.channels.channel as channel_module
import rasa.core.run as run_module
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.short_answer import ActionShortAnswer
from actions.privacy import ActionForgetConversation
from bot import retention

UPSTREAM = {
    # function: sha256 of its source in rasa 3.6.21 (first 16 hex digits)
    "configure_app": "72da30416f74c648",
    "register": "f6dc783f1ad3638e",
}


def source_hash(function: Any) -> str:
    original = getattr(function, "__wrapped__", function)
    return hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16]


def test_the_wrapped_rasa_functions_are_the_ones_the_hooks_were_written_for() -> None:
    assert rasa.__version__ == "3.6.21"
    assert source_hash(run_module.configure_app) == UPSTREAM["configure_app"]
    assert source_hash(channel_module.register) == UPSTREAM["register"]
    parameters = inspect.signature(getattr(run_module.configure_app, "__wrapped__", run_module.configure_app)).parameters
    assert {"cors", "auth_token", "enable_api", "port", "route", "jwt_secret"} <= set(parameters)


def test_install_wraps_both_once() -> None:
    from bot.security import hooks

    hooks.install()
    first = run_module.configure_app
    hooks.install()
    assert run_module.configure_app is first and first._secured
    assert channel_module.register.__wrapped__.__module__ == "rasa.core.channels.channel"


def tracker(intent: str, pending: Any = None, channel: str = "web") -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": intent}
    return Tracker.from_dict({
        "sender_id": "me", "slots": {"pending_question": pending, "asked_questions": [], "screened": False},
        "latest_message": latest, "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen",
        "events": [{"event": "session_started"},
                   {"event": "user", "text": intent, "parse_data": latest, "input_channel": channel}],
    })


def run(action: Any, conversation: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events: List[Dict[str, Any]] = action.run(dispatcher, conversation, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_delete_my_conversation_asks_for_confirmation_first() -> None:
    messages, slots = run(ActionForgetConversation(), tracker("delete_conversation"))
    assert "delete our conversation" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert slots == {"pending_question": "forget"}


def test_yes_deletes_and_says_so() -> None:
    messages, slots = run(ActionShortAnswer(), tracker("affirm", pending="forget"))
    assert "deleted our conversation" in messages[0]["text"]
    assert {"custom": {"conversation_deleted": True}}.items() <= messages[1].items()
    assert slots == {"pending_question": None, retention.FORGET_SLOT: True}


def test_messaging_apps_get_the_confirmation_without_the_widgets_signal() -> None:
    messages, slots = run(ActionShortAnswer(), tracker("affirm", pending="forget", channel="twilio"))
    assert len(messages) == 1 and slots[retention.FORGET_SLOT] is True


def test_no_keeps_the_conversation() -> None:
    messages, slots = run(ActionShortAnswer(), tracker("deny", pending="forget"))
    assert "haven't deleted" in messages[0]["text"]
    assert slots == {"pending_question": None}


class FakeRequest:
    """Just what the request middleware reads."""

    def __init__(self, path: str, method: str = "GET", token: str = "", body: bytes = b"", origin: str = "",
                 host: str = "localhost:5005") -> None:
        self.path, self.method, self.body, self.host = path, method, body, host
        self.args = {"token": token} if token else {}
        self.headers = {"origin": origin} if origin else {}
        self.remote_addr, self.ip = "", "127.0.0.1"


def middleware(auth_token: Any, env: Any = None) -> Any:
    import asyncio

    from sanic import Sanic

    from bot.security.hooks import secure_app
    from bot.security.settings import Settings

    app = Sanic(f"test_{abs(hash((auth_token, str(env))))}")
    secure_app(app, Settings.from_env(env or {}, port=5005), auth_token, False)
    check = app.request_middleware[0]
    return lambda request: asyncio.run(check(request))


def test_without_a_configured_token_the_api_is_closed_not_open() -> None:
    check = middleware(auth_token=None)
    for path in ("/status", "/conversations/x/tracker", "/model/parse", "/version"):
        refused = check(FakeRequest(path, token="anything"))
        assert refused.status == 403 and b"api_closed" in refused.body
    assert check(FakeRequest("/")) is None
    assert check(FakeRequest("/webhooks/web/webhook", "POST", body=b"{}")) is None


def test_with_a_token_only_the_right_one_opens_the_api() -> None:
    check = middleware(auth_token="t0ken")
    assert check(FakeRequest("/status", token="t0ken")) is None
    assert check(FakeRequest("/status", token="t0ke")).status == 401
    assert check(FakeRequest("/status")).status == 401


def test_origins_outside_the_allow_list_are_refused() -> None:
    check = middleware(auth_token="t", env={"ALLOWED_ORIGINS": "https://www.spa.example"})
    assert check(FakeRequest("/webhooks/web/webhook", "POST", origin="https://www.spa.example")) is None
    assert check(FakeRequest("/webhooks/web/webhook", "POST", origin="http://localhost:5005")) is None  # same host
    assert check(FakeRequest("/webhooks/web/webhook", "POST", origin="https://evil.example")).status == 403
    assert check(FakeRequest("/webhooks/web/webhook", "POST", origin="null")).status == 403


def test_bodies_over_the_webhook_limit_are_refused_before_any_channel_reads_them() -> None:
    check = middleware(auth_token="t", env={"MAX_WEBHOOK_BYTES": "100"})
    assert check(FakeRequest("/webhooks/rest/webhook", "POST", body=b"x" * 100)) is None
    assert check(FakeRequest("/webhooks/rest/webhook", "POST", body=b"x" * 101)).status == 413


def _guarded_reply(text: str) -> list:
    import asyncio
    from types import SimpleNamespace

    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot.security.hooks import MessageGuard
    from bot.security.settings import Settings

    async def failing(message: UserMessage) -> None:
        raise RuntimeError("the lock store is away")

    app = SimpleNamespace(ctx=SimpleNamespace())
    guard = MessageGuard(app, failing, Settings.from_env({}))  # type: ignore[arg-type]
    output = CollectingOutputChannel()
    asyncio.run(guard(UserMessage(text, output, "guard-test", input_channel="rest")))
    return [m["text"] for m in output.messages]


def test_a_message_that_cannot_be_handled_gets_the_apology_but_a_crisis_gets_the_crisis_reply() -> None:
    from bot.security import limits

    assert _guarded_reply("what is swedish massage") == [limits.SOMETHING_WENT_WRONG]
    [crisis] = _guarded_reply("i dont want to be here anymore")
    assert "988" in crisis and "I'm really glad you told me" in crisis
