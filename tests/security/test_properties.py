"""Property-based tests (Hypothesis) of the pure request checks: whatever a client sends, they
answer with a clean value or a 4xx reason, and never fail in another way."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.security import logs
from bot.security.limits import BadRequest, check_payload, clean_text, parse_rest_body, screen_message

INTENTS = ["greet", "describe_problem", "book_session", "affirm", "deny"]
ENTITIES = ["condition", "body_part", "goal"]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "application/json", "text/plain", "text/html", ""]))
def test_any_bytes_give_sender_and_message_or_a_4xx(body: bytes, content_type: str) -> None:
    try:
        sender, message, message_id = parse_rest_body(body, content_type)
    except BadRequest as refused:
        assert 400 <= refused.status < 500 and refused.message
    else:
        assert isinstance(sender, str) and isinstance(message, str)
        assert message_id is None or isinstance(message_id, str)


@settings(max_examples=150, deadline=None)
@given(json_values, json_values)
def test_any_json_types_give_sender_and_message_or_a_4xx(sender: object, message: object) -> None:
    body = json.dumps({"sender": sender, "message": message}).encode()
    try:
        parsed = parse_rest_body(body, "application/json")
    except BadRequest as refused:
        assert refused.status == 400
    else:
        assert parsed == (sender, message, None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=1500))
def test_screened_text_is_bounded_clean_and_encodable(text: str) -> None:
    verdict = screen_message(text, 1000, INTENTS, ENTITIES)
    if verdict.reply is None:
        assert 0 < len(verdict.text) <= 1000
        verdict.text.encode("utf-8")  # storable in SQLite and PostgreSQL
        assert "\x00" not in verdict.text
        assert clean_text(verdict.text) == verdict.text
    else:
        assert verdict.text == ""


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(INTENTS + ["restart", "x"]), st.dictionaries(st.text(max_size=12), json_values, max_size=4))
def test_payload_checks_never_fail_and_only_pass_known_plain_entities(intent: str, entities: dict) -> None:
    payload = f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"
    if check_payload(payload, INTENTS, ENTITIES):
        assert intent in INTENTS
        assert all(name in ENTITIES for name in entities)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=2, max_size=80).filter(lambda s: len(s.strip()) >= 2), st.text(max_size=80))
def test_redaction_removes_the_message_however_it_is_embedded(secret: str, around: str) -> None:
    for line in (f"{around}{secret}{around}", f"user message '{secret}'", repr({"x": secret})):
        assert secret not in logs.redact(line, [secret]) or secret in logs.REDACTED
