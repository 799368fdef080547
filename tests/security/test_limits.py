"""The pure request checks: REST bodies, message screening, payloads, rate limits, settings."""
from __future__ import annotations

import json

import pytest

from bot.security import limits
from bot.security.limits import BadRequest, RateLimiter, check_payload, clean_text, parse_rest_body, screen_message
from bot.security.settings import Rate, Settings

INTENTS = ["greet", "describe_problem", "book_session", "affirm", "deny", "restart", "session_start"]
ENTITIES = ["condition", "body_part", "goal"]


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_well_formed_rest_body_gives_sender_and_message() -> None:
    assert parse_rest_body(body(sender="abc-1", message="hi"), "application/json") == ("abc-1", "hi", None)
    assert parse_rest_body(body(sender="abc-1", message="hi", message_id="m-1"), None).message_id == "m-1"
    assert parse_rest_body(body(sender="abc-1", message="hi"), "application/json; charset=utf-8")[0] == "abc-1"
    assert parse_rest_body(body(sender="abc-1", message="hi"), None)[1] == "hi"


@pytest.mark.parametrize("raw, content_type, status, code", [
    (b"", "application/json", 400, "empty_body"),
    (b"   ", "application/json", 400, "empty_body"),
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe\x00", "application/json", 400, "invalid_json"),
    (b"[" * 50000 + b"]" * 50000, "application/json", 400, "invalid_json"),
    (b'["a", "b"]', "application/json", 400, "not_an_object"),
    (b'"text"', "application/json", 400, "not_an_object"),
    (b"null", "application/json", 400, "not_an_object"),
    (body(message="hi"), "application/json", 400, "invalid_sender"),
    (body(sender=12, message="hi"), "application/json", 400, "invalid_sender"),
    (body(sender="", message="hi"), "application/json", 400, "invalid_sender"),
    (body(sender="a b", message="hi"), "application/json", 400, "invalid_sender"),
    (body(sender="x" * 129, message="hi"), "application/json", 400, "invalid_sender"),
    (body(sender="abc", message="hi", message_id=7), "application/json", 400, "invalid_message_id"),
    (body(sender="abc", message="hi", message_id="a b"), "application/json", 400, "invalid_message_id"),
    (body(sender="abc"), "application/json", 400, "invalid_message"),
    (body(sender="abc", message=None), "application/json", 400, "invalid_message"),
    (body(sender="abc", message=["hi"]), "application/json", 400, "invalid_message"),
    (body(sender="abc", message={"text": "hi"}), "application/json", 400, "invalid_message"),
    (body(sender="abc", message="hi"), "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (body(sender="abc", message="hi"), "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
])
def test_a_malformed_rest_body_is_a_clear_4xx(raw: bytes, content_type: str, status: int, code: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_rest_body(raw, content_type)
    assert refused.value.status == status and refused.value.code == code
    assert refused.value.body()["message"]


def test_control_characters_and_lone_surrogates_are_removed() -> None:
    assert clean_text("my\x00 back\x07 hurts\ud800") == "my back hurts"
    assert clean_text("tab\tand\nnewline") == "tab\tand\nnewline"
    assert clean_text("e\u0301") == "\u00e9"  # combining accent, normalised
    assert clean_text(None) == "" and clean_text(42) == ""


def test_a_message_over_the_cap_gets_the_friendly_reply() -> None:
    assert screen_message("a" * 1000, 1000, INTENTS, ENTITIES).reply is None
    too_long = screen_message("a" * 1001, 1000, INTENTS, ENTITIES)
    assert too_long.reply and "1,000 characters" in too_long.reply and too_long.text == ""


def test_empty_and_blank_messages_get_a_polite_answer() -> None:
    for text in ("", "   ", "\x00\x01", "\n\t"):
        assert screen_message(text, 1000, INTENTS, ENTITIES).reply == limits.EMPTY


@pytest.mark.parametrize("payload", [
    "/book_session", "/describe_problem", '/describe_problem{"condition": "fever"}',
    '/describe_problem{"condition": ["fever", "rash"]}', "/affirm@0.9", '/describe_problem{"goal": "pain_relief"}',
])
def test_payloads_a_button_could_send_pass(payload: str) -> None:
    assert check_payload(payload, INTENTS, ENTITIES)
    assert screen_message(payload, 1000, INTENTS, ENTITIES).text == payload


@pytest.mark.parametrize("payload", [
    "/restart", "/session_start", "/nlu_fallback", "/made_up_intent", "/", "//", "/book_session extra",
    '/describe_problem{"condition": 1}', '/describe_problem{"condition": null}', '/describe_problem{"condition": {}}',
    '/describe_problem{"made_up": "x"}', '/describe_problem{"condition": "<script>"}',
    '/describe_problem{"condition": "' + "x" * 65 + '"}', '/describe_problem{"condition": []}',
    '/describe_problem{"condition": "fever"', '/describe_problem["condition"]', "/describe_problem{}}",
    '/describe_problem{"condition": "fever", "goal": "a", "body_part": "b", "x1": "", "x2": "", "x3": "", '
    '"x4": "", "x5": "", "x6": ""}',
    "/greet' OR 1=1 --", "/{{7*7}}", "/describe_problem\n{\"condition\": \"fever\"}",
])
def test_forged_or_malformed_payloads_are_not_passed_on(payload: str) -> None:
    assert not check_payload(payload, INTENTS, ENTITIES)
    assert screen_message(payload, 1000, INTENTS, ENTITIES).reply == limits.NOT_UNDERSTOOD


def test_telegrams_start_command_is_a_greeting() -> None:
    assert screen_message("/start", 1000, INTENTS, ENTITIES).text == "/greet"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limiter_allows_a_burst_then_refuses_until_the_window_moves() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60), clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    assert limiter.first_refusal("a") and not limiter.first_refusal("a")
    assert limiter.retry_after("a") == 60
    clock.now += 61
    assert limiter.allow("a")


def test_the_rate_limiter_forgets_the_oldest_keys_beyond_its_bound() -> None:
    limiter = RateLimiter(Rate(1, 60), max_keys=100, clock=Clock())
    for i in range(1000):
        limiter.allow(f"k{i}")
    assert len(limiter._hits) == 100


def test_a_rate_of_zero_switches_the_limit_off() -> None:
    limiter = RateLimiter(Rate.parse("0"))
    assert all(limiter.allow("a") for _ in range(1000))


def test_settings_come_from_the_environment_with_safe_defaults() -> None:
    default = Settings.from_env({}, port=5005)
    assert default.max_message_chars == 1000
    assert default.allowed_origins == ("http://localhost:5005", "http://127.0.0.1:5005")
    assert default.conversation_rate == Rate(30, 60) and default.address_rate == Rate(120, 60)
    assert default.retention_days == 30
    custom = Settings.from_env({"MAX_MESSAGE_CHARS": "500", "ALLOWED_ORIGINS": "https://spa.example/, https://b.example",
                                "RATE_LIMIT_ADDRESS": "10/30", "RETENTION_DAYS": "7"}, port=5005)
    assert custom.max_message_chars == 500
    assert custom.allowed_origins == ("https://spa.example", "https://b.example")
    assert custom.address_rate == Rate(10, 30) and custom.retention_days == 7


def test_a_message_too_long_to_read_that_speaks_of_a_crisis_is_read_around_it() -> None:
    story = "my back has been sore for months and nothing helps. " * 30
    text = story + "honestly i dont want to be here anymore. " + story
    verdict = screen_message(text, 1000, INTENTS, ENTITIES)
    assert verdict.reply is None
    assert len(verdict.text) <= 1000 and "i dont want to be here anymore" in verdict.text
    assert screen_message(story * 2, 1000, INTENTS, ENTITIES).reply == limits.TOO_LONG.format(limit="1,000")
