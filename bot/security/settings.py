"""Every security and privacy setting, read from the environment with a safe default."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

DEFAULT_MAX_MESSAGE_CHARS = 1000
DEFAULT_MAX_WEBHOOK_BYTES = 64 * 1024
DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024
DEFAULT_CONVERSATION_RATE = "30/60"
DEFAULT_ADDRESS_RATE = "120/60"
DEFAULT_RETENTION_DAYS = 30.0
DEFAULT_RETENTION_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class Rate:
    """At most `count` messages in any `seconds`-long window."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """"30/60" is 30 messages a minute; "0" switches the limit off."""
        text = text.strip()
        if text in ("", "0", "off", "none"):
            return cls(0, 1.0)
        count, _, seconds = text.partition("/")
        return cls(int(count), float(seconds or 60))

    @property
    def enabled(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class Settings:
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    max_webhook_bytes: int = DEFAULT_MAX_WEBHOOK_BYTES
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    conversation_rate: Rate = Rate.parse(DEFAULT_CONVERSATION_RATE)
    address_rate: Rate = Rate.parse(DEFAULT_ADDRESS_RATE)
    allowed_origins: Tuple[str, ...] = ()
    trusted_proxies: int = 0
    retention_days: float = DEFAULT_RETENTION_DAYS
    retention_interval_s: float = DEFAULT_RETENTION_INTERVAL_S

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, port: Optional[int] = None) -> "Settings":
        """The settings for this process; `port` is the server's own port (for the default origins)."""
        env = os.environ if env is None else env
        port = port or int(env.get("RASA_PORT", "5005"))
        return cls(
            max_message_chars=int(env.get("MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)),
            max_webhook_bytes=int(env.get("MAX_WEBHOOK_BYTES", DEFAULT_MAX_WEBHOOK_BYTES)),
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES)),
            conversation_rate=Rate.parse(env.get("RATE_LIMIT_CONVERSATION", DEFAULT_CONVERSATION_RATE)),
            address_rate=Rate.parse(env.get("RATE_LIMIT_ADDRESS", DEFAULT_ADDRESS_RATE)),
            allowed_origins=allowed_origins(env, port),
            trusted_proxies=int(env.get("TRUSTED_PROXIES", "0")),
            retention_days=float(env.get("RETENTION_DAYS", DEFAULT_RETENTION_DAYS)),
            retention_interval_s=float(env.get("RETENTION_INTERVAL_S", DEFAULT_RETENTION_INTERVAL_S)),
        )


def allowed_origins(env: Mapping[str, str], port: int) -> Tuple[str, ...]:
    """ALLOWED_ORIGINS (comma separated), or the server's own address on localhost for the demo.

    A page served by the assistant itself (demo page, kiosk) is same-origin and needs no entry;
    a spa's website that embeds the widget needs its origin listed here.
    """
    configured = env.get("ALLOWED_ORIGINS")
    if configured is not None:
        return tuple(o.strip().rstrip("/") for o in configured.split(",") if o.strip())
    return (f"http://localhost:{port}", f"http://127.0.0.1:{port}")
