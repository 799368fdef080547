"""Signed session cookies and CSRF tokens for the staff page.

A cookie value is `<payload>.<signature>`: the payload (URL-safe base64 JSON) holds the account,
the expiry, a session id and the session's CSRF token; the signature is HMAC-SHA256 with the
secret key. Nothing is stored on the server except the ids of sessions that logged out early.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional

SESSION_COOKIE = "staff_session"
LOGIN_COOKIE = "staff_login"  # carries the login form's CSRF token before anyone is logged in
LOGIN_FORM_SECONDS = 30 * 60


@dataclass(frozen=True)
class Session:
    user: str
    expires: float
    sid: str
    csrf: str
    role: str = "reception"  # from the account's current setting, never from the cookie


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, purpose: str, payload: str) -> str:
    return _b64(hmac.new(key, f"{purpose}|{payload}".encode("ascii"), hashlib.sha256).digest())


def sign(key: bytes, purpose: str, data: Dict[str, object]) -> str:
    """A tamper-proof cookie value; `purpose` keeps a login-form cookie from passing as a session."""
    payload = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_sign(key, purpose, payload)}"


def unsign(key: bytes, purpose: str, value: Optional[str], now: Optional[float] = None) -> Optional[Dict[str, object]]:
    """The data of a cookie this server signed and that has not expired; None otherwise."""
    if not value or value.count(".") != 1 or len(value) > 4096:
        return None
    payload, signature = value.split(".")
    try:
        if not hmac.compare_digest(signature.encode("ascii"), _sign(key, purpose, payload).encode("ascii")):
            return None
        data = json.loads(_unb64(payload))
    except (UnicodeError, ValueError, binascii.Error):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), (int, float)):
        return None
    if data["exp"] <= (time.time() if now is None else now):
        return None
    return data


class SessionSigner:
    """Makes and reads session cookies; remembers sessions ended by logout until they expire."""

    def __init__(self, key: bytes, lifetime_s: float, clock: Callable[[], float] = time.time) -> None:
        self.key, self.lifetime_s, self.clock = key, lifetime_s, clock
        self._ended: Dict[str, float] = {}

    def new(self, user: str) -> Session:
        return Session(user=user, expires=self.clock() + self.lifetime_s,
                       sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))

    def dump(self, session: Session) -> str:
        return sign(self.key, "session", {"u": session.user, "exp": session.expires, "sid": session.sid,
                                          "csrf": session.csrf})

    def load(self, value: Optional[str]) -> Optional[Session]:
        """The session of a valid, unexpired, not logged-out cookie."""
        data = unsign(self.key, "session", value, self.clock())
        if data is None:
            return None
        fields = (data.get("u"), data.get("sid"), data.get("csrf"))
        if not all(isinstance(f, str) and f for f in fields):
            return None
        if data["sid"] in self._ended:
            return None
        return Session(user=data["u"], expires=float(data["exp"]), sid=data["sid"], csrf=data["csrf"])

    def end(self, session: Session) -> None:
        """Logout: the cookie stops working here even if a copy of it survives in a browser."""
        now = self.clock()
        for sid in [s for s, expires in self._ended.items() if expires <= now]:
            del self._ended[sid]
        self._ended[session.sid] = session.expires

    def login_form_token(self, current: Optional[str] = None) -> tuple:
        """(cookie value, form token) for the login form, so a login cannot be forged from another site.
        A still-valid cookie keeps its token, so two open login tabs both work."""
        data = unsign(self.key, "login", current, self.clock())
        if data is not None and isinstance(data.get("csrf"), str) and data["exp"] - self.clock() > 60:
            return current, data["csrf"]
        token = secrets.token_urlsafe(32)
        return sign(self.key, "login", {"csrf": token, "exp": self.clock() + LOGIN_FORM_SECONDS}), token

    def login_form_matches(self, cookie: Optional[str], submitted: Optional[str]) -> bool:
        data = unsign(self.key, "login", cookie, self.clock())
        return data is not None and isinstance(data.get("csrf"), str) and csrf_matches(submitted, data["csrf"])


def csrf_matches(submitted: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    if not submitted or not expected:
        return False
    return hmac.compare_digest(submitted.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
