"""Passwords, session cookies, CSRF tokens, the settings and the login throttle of the staff page."""
from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from bot.staff import config, passwords
from bot.staff.sessions import SessionSigner, csrf_matches, sign, unsign
from bot.staff.throttle import LoginThrottle


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def stored() -> str:
    return passwords.hash_password("a long staff password")


def test_a_password_matches_its_hash_and_nothing_else(stored: str) -> None:
    assert passwords.verify_password("a long staff password", stored)
    assert not passwords.verify_password("a long staff passworD", stored)
    assert not passwords.verify_password("", stored)


def test_each_hash_has_its_own_salt_and_never_contains_the_password(stored: str) -> None:
    again = passwords.hash_password("a long staff password")
    assert again != stored and "staff password" not in again
    assert stored.startswith("scrypt.16384.8.1.") and not set("$:,") & set(stored)


@pytest.mark.parametrize("bad", ["", "a long staff password", "scrypt.16384.8.1.c2FsdA", "pbkdf2.1.2.3.4.5",
                                 "scrypt.3.8.1.c2FsdHNhbHQ.AAAA", "scrypt.16384.8.1.!!.!!",
                                 "scrypt.1073741824.8.1.c2FsdHNhbHQ." + "A" * 43])
def test_malformed_or_hostile_hashes_match_nothing(bad: str) -> None:
    assert not passwords.is_valid_hash(bad)
    assert not passwords.verify_password("a long staff password", bad)


def test_the_command_line_prints_a_hash_that_verifies(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("reception-2026-pass\n"))
    assert passwords.main(["--stdin"]) == 0
    printed = capsys.readouterr().out.strip()
    assert passwords.verify_password("reception-2026-pass", printed)


def test_the_command_line_refuses_short_passwords_and_mismatches(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert passwords.main(["--stdin"]) == 1
    typed = iter(["first password 123", "second password 123"])
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt="": next(typed))
    assert passwords.main([]) == 1
    assert capsys.readouterr().out == ""


def test_a_signed_value_reads_back_until_it_expires() -> None:
    value = sign(b"k" * 32, "session", {"u": "alice", "exp": 2000.0})
    assert unsign(b"k" * 32, "session", value, now=1999.0) == {"u": "alice", "exp": 2000.0}
    assert unsign(b"k" * 32, "session", value, now=2000.0) is None


def test_a_tampered_or_foreign_cookie_is_rejected() -> None:
    key = b"k" * 32
    value = sign(key, "session", {"u": "alice", "exp": 2000.0})
    payload, signature = value.split(".")
    forged = sign(b"other key", "session", {"u": "alice", "exp": 2000.0})
    other_user = sign(key, "session", {"u": "bob", "exp": 2000.0}).split(".")[0] + "." + signature
    for bad in (forged, other_user, payload + "." + signature[:-1] + ("A" if signature[-1] != "A" else "B"),
                payload, "", "a.b.c", value + "x"):
        assert unsign(key, "session", bad, now=1000.0) is None
    assert unsign(key, "login", value, now=1000.0) is None  # a login-form cookie is not a session


def test_sessions_expire_and_end_at_logout() -> None:
    clock = Clock()
    signer = SessionSigner(b"k" * 32, lifetime_s=8 * 3600, clock=clock)
    session = signer.new("alice")
    cookie = signer.dump(session)
    assert signer.load(cookie) == session
    clock.now += 8 * 3600 - 1
    assert signer.load(cookie) is not None
    clock.now += 1
    assert signer.load(cookie) is None
    clock.now -= 10
    signer.end(session)
    assert signer.load(cookie) is None
    assert signer.load(signer.dump(signer.new("alice"))) is not None


def test_every_session_has_its_own_csrf_token() -> None:
    signer = SessionSigner(b"k" * 32, lifetime_s=60)
    first, second = signer.new("alice"), signer.new("alice")
    assert first.csrf != second.csrf and len(first.csrf) >= 40
    assert csrf_matches(first.csrf, first.csrf)
    assert not csrf_matches(second.csrf, first.csrf)
    assert not csrf_matches(None, first.csrf) and not csrf_matches("", first.csrf)
    assert not csrf_matches(first.csrf, "")


def test_the_login_form_token_is_tied_to_its_cookie() -> None:
    signer = SessionSigner(b"k" * 32, lifetime_s=60)
    cookie, token = signer.login_form_token()
    other_cookie, other_token = signer.login_form_token()
    assert signer.login_form_matches(cookie, token)
    assert not signer.login_form_matches(cookie, other_token)
    assert not signer.login_form_matches(None, token)
    assert signer.login_form_token(cookie) == (cookie, token)  # a second login tab gets the same token
    assert signer.login_form_token("forged.value")[1] != token


def test_accounts_come_from_the_environment_as_hashes(stored: str) -> None:
    accounts = config.parse_accounts({"STAFF_ACCOUNTS": f"alice:{stored}, bob:{stored}", "STAFF_PASSWORD_HASH": stored})
    assert accounts == {"alice": stored, "bob": stored, "staff": stored}
    assert config.parse_accounts({"STAFF_PASSWORD_HASH": stored}) == {"staff": stored}


def test_each_account_has_a_role_and_the_old_form_means_reception(stored: str, tmp_path: Path) -> None:
    env = {"STAFF_ACCOUNTS": f"olive:owner:{stored}, rhea:reception:{stored}, ray:{stored}",
           "STAFF_PASSWORD_HASH": stored, "STAFF_SECRET_KEY_FILE": str(tmp_path / "key")}
    settings = config.load(env)
    assert set(settings.accounts) == {"olive", "rhea", "ray", "staff"}
    assert [settings.role(name) for name in ("olive", "rhea", "ray", "staff")] == ["owner", "reception", "reception",
                                                                                   "reception"]


@pytest.mark.parametrize("env", [{"STAFF_ACCOUNTS": "alice:plain-password"}, {"STAFF_PASSWORD_HASH": "hunter2hunter2"},
                                 {"STAFF_ACCOUNTS": "al ice:{hash}"}, {"STAFF_ACCOUNTS": "alice:admin:{hash}"},
                                 {"STAFF_ACCOUNTS": "alice:owner:extra:{hash}"}])
def test_a_plain_password_or_bad_name_switches_the_page_off(env: dict, stored: str, tmp_path: Path) -> None:
    env = {k: v.replace("{hash}", stored) for k, v in env.items()}
    with pytest.raises(config.ConfigError):
        config.parse_accounts(env)
    assert not config.load({**env, "STAFF_SECRET_KEY_FILE": str(tmp_path / "key")}).enabled


def test_no_account_means_switched_off_and_no_key_file(tmp_path: Path) -> None:
    settings = config.load({"STAFF_SECRET_KEY_FILE": str(tmp_path / "key")})
    assert not settings.enabled and not (tmp_path / "key").exists()


def test_without_a_secret_key_one_is_created_once_readable_only_by_the_owner(stored: str, tmp_path: Path) -> None:
    env = {"STAFF_PASSWORD_HASH": stored, "STAFF_SECRET_KEY_FILE": str(tmp_path / "key")}
    first = config.load(env)
    assert first.enabled and first.shared_only and first.session_seconds == 8 * 3600
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert config.load(env).secret_key == first.secret_key
    chosen = config.load({**env, "STAFF_SECRET_KEY": "x" * 32, "STAFF_SESSION_HOURS": "2"})
    assert chosen.secret_key == b"x" * 32 and chosen.session_seconds == 7200
    assert not config.load({**env, "STAFF_SECRET_KEY": "short"}).enabled


def test_failed_logins_are_limited_per_address_and_per_account() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=3, window_s=600, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("address:1", "account:alice") is None
        throttle.failed("address:1", "account:alice")
    assert throttle.retry_after("address:1", "account:bob") == 601
    assert throttle.retry_after("address:2", "account:alice") == 601  # guessing one account from many places
    assert throttle.retry_after("address:2", "account:bob") is None
    clock.now += 601
    assert throttle.retry_after("address:1", "account:alice") is None


def test_a_success_clears_the_address_but_not_the_account() -> None:
    throttle = LoginThrottle(limit=2, window_s=600, clock=Clock())
    throttle.failed("address:1", "account:alice")
    throttle.failed("address:1", "account:alice")
    throttle.succeeded("address:1")
    assert throttle.retry_after("address:1") is None and throttle.retry_after("account:alice") is not None
