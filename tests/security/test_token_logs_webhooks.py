"""The API token file, log redaction and webhook signature checks, without a server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import stat
import subprocess
import sys
from pathlib import Path

from bot.security import logs, webhooks
from bot.security.token import ensure_token, token_matches
from tests.conftest import PROJECT_ROOT


def test_the_token_is_created_once_readable_only_by_its_owner_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "rasa-token"
    token, created = ensure_token(path)
    assert created and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = ensure_token(path)
    assert again == token and not created_again


def test_a_loosened_token_file_is_made_private_again(tmp_path: Path) -> None:
    path = tmp_path / "rasa-token"
    token, _ = ensure_token(path)
    path.chmod(0o644)
    assert ensure_token(path) == (token, False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_command_prints_the_token_to_the_person_only_the_first_time(tmp_path: Path) -> None:
    path = tmp_path / "rasa-token"
    run = [sys.executable, "-m", "bot.security.token", str(path)]
    first = subprocess.run(run, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    token = first.stdout.strip()
    assert token in first.stderr and "shown this once" in first.stderr
    second = subprocess.run(run, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert second.stdout.strip() == token and token not in second.stderr


def test_token_comparison() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc") and not token_matches(None, "abc") and not token_matches("abc", None)
    assert not token_matches("", "") and not token_matches("\ud800", "abc")


def test_the_log_filter_removes_the_message_being_handled_and_content_fields(caplog) -> None:
    logs.install()
    logger = logging.getLogger("tests.security.logs")
    with caplog.at_level(logging.INFO):
        with logs.redacting("I have a fever and my back hurts"):
            logger.info("Received user message 'I have a fever and my back hurts' with intent describe_problem")
            logger.error("Failed: %s", {"text": "anything at all", "value": "lower_back"})
            try:
                raise ValueError("could not handle I have a fever and my back hurts")
            except ValueError:
                logger.exception("Exception while handling")
        logger.info("GET /status?token=s3cret-token&x=1")
        logger.error("(sqlite3.IntegrityError) x [SQL: INSERT INTO events VALUES (?)] "
                     "[parameters: ('my secret text',)] (Background on this error at: https://sqlalche.me/e/14/gkpj)")
    text = caplog.text
    for secret in ("I have a fever", "anything at all", "lower_back", "s3cret-token", "my secret text"):
        assert secret not in text, secret
    assert "describe_problem" in text and "ValueError" in text and logs.REDACTED in text


def sign_twilio(token: str, url: str, form: dict) -> str:
    data = url + "".join(k + form[k] for k in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilio_signatures_are_checked_with_the_auth_token() -> None:
    url = "https://spa.example/webhooks/twilio/webhook"
    form = {"From": "+15550001", "Body": "hi", "To": "+15550000"}
    good = sign_twilio("auth-token", url, form)
    multi = {k: [v] for k, v in form.items()}
    assert webhooks.twilio_request_is_authentic("auth-token", [url], multi, good)
    assert not webhooks.twilio_request_is_authentic("other-token", [url], multi, good)
    assert not webhooks.twilio_request_is_authentic("auth-token", [url], {**multi, "Body": ["changed"]}, good)
    assert not webhooks.twilio_request_is_authentic("auth-token", [url], multi, None)
    assert not webhooks.twilio_request_is_authentic("", [url], multi, good)
    assert webhooks.twilio_request_is_authentic("auth-token", ["http://internal:5005/x", url], multi, good)


def test_telegram_secret_token_is_derived_or_configured_and_checked() -> None:
    derived = webhooks.telegram_secret("123:ABC")
    assert derived == webhooks.telegram_secret("123:ABC") != webhooks.telegram_secret("456:DEF")
    assert set(derived) <= set("0123456789abcdef") and 1 <= len(derived) <= 256
    assert webhooks.telegram_secret("123:ABC", "configured") == "configured"
    header = webhooks.TELEGRAM_SECRET_HEADER
    assert webhooks.telegram_request_is_authentic({header: derived}, derived)
    assert not webhooks.telegram_request_is_authentic({header: "wrong"}, derived)
    assert not webhooks.telegram_request_is_authentic({}, derived)
