"""Rasa's endpoints.yml and credentials.yml, written from the environment.

The embedded default needs no server: SQLite tracker store, in-memory lock store, no event
broker. Setting the variables below switches to the production path (PostgreSQL for the
conversations and their locks, RabbitMQ fed by the event outbox; Redis locks with
LOCK_STORE=redis) and turns on messaging channels. Secrets are never written out: the files refer to
them as ${VAR}, which Rasa reads from the environment when it starts.

The tracker store is bot.retention.PrivateSQLTrackerStore (Rasa's SQL store that can delete a
conversation on request); the REST channel is bot.channels.web.CheckedRestInput (Rasa's, with
the body checked first); messaging webhooks must be signed (bot/channels/messaging.py).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRACKER_DB = ".data/tracker.db"
TRACKER_STORE = "bot.retention.PrivateSQLTrackerStore"
REST_CHANNEL = "bot.channels.web.CheckedRestInput"
LOCK_STORE = "bot.delivery.locks.PostgresLockStore"

CHANNELS = {
    # channel: (connector module path, {credential key: environment variable}, secret keys)
    "telegram": ("bot.channels.messaging.TelegramWebhookInput", {"access_token": "TELEGRAM_TOKEN", "verify": "TELEGRAM_BOT_NAME",
                              "webhook_url": "TELEGRAM_WEBHOOK_URL", "secret_token": "TELEGRAM_SECRET_TOKEN"},
                 {"access_token", "secret_token"}),
    "twilio": ("bot.channels.messaging.NumberedTwilioInput", {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN",
                          "twilio_number": "TWILIO_NUMBER", "webhook_url": "TWILIO_WEBHOOK_URL"}, {"auth_token"}),
    "slack": ("bot.channels.messaging.SignedSlackInput", {"slack_token": "SLACK_TOKEN", "slack_channel": "SLACK_CHANNEL",
                        "slack_signing_secret": "SLACK_SIGNING_SECRET"}, {"slack_token", "slack_signing_secret"}),
}
OPTIONAL_CHANNEL_VARIABLES = {"SLACK_CHANNEL", "TELEGRAM_SECRET_TOKEN", "TWILIO_WEBHOOK_URL"}


def endpoints(env: Mapping[str, str]) -> Dict[str, Any]:
    """Action server, tracker store, lock store and event broker for this environment."""
    actions_port = env.get("ACTIONS_PORT", "5055")
    config: Dict[str, Any] = {
        "action_endpoint": {"url": env.get("ACTION_ENDPOINT_URL", f"http://localhost:{actions_port}/webhook")},
    }
    if env.get("TRACKER_DB_HOST"):
        config["tracker_store"] = {
            "type": TRACKER_STORE,
            "dialect": env.get("TRACKER_DB_DIALECT", "postgresql"),
            "url": env["TRACKER_DB_HOST"],
            "port": int(env.get("TRACKER_DB_PORT", "5432")),
            "db": env.get("TRACKER_DB_NAME", "rasa"),
            "username": env.get("TRACKER_DB_USER", "rasa"),
            "password": "${TRACKER_DB_PASSWORD}",
        }
    else:
        tracker_db = env.get("TRACKER_DB_PATH", DEFAULT_TRACKER_DB)
        config["tracker_store"] = {"type": TRACKER_STORE, "dialect": "sqlite", "db": tracker_db}
    lock_store = lock_store_kind(env)
    if lock_store == "postgres":
        tracker = config["tracker_store"]
        config["lock_store"] = {"type": LOCK_STORE, "url": tracker["url"], "port": tracker["port"], "db": tracker["db"],
                                "username": tracker["username"], "password": "${TRACKER_DB_PASSWORD}",
                                "pool_size": int(env.get("LOCK_POOL_SIZE", "60")),
                                "wait_s": float(env.get("LOCK_WAIT_S", "30"))}
    elif lock_store == "redis":
        config["lock_store"] = {
            "type": "redis",
            "url": env["REDIS_HOST"],
            "port": int(env.get("REDIS_PORT", "6379")),
            "db": int(env.get("REDIS_DB", "1")),
        }
        if env.get("REDIS_PASSWORD"):
            config["lock_store"]["password"] = "${REDIS_PASSWORD}"
    if env.get("RABBITMQ_HOST"):
        if env.get("TRACKER_DB_HOST"):
            # The outbox relay (bot/delivery/outbox.py) publishes what the tracker store wrote.
            config["tracker_store"]["outbox"] = True
        else:
            config["event_broker"] = {
                "type": "pika",
                "url": env["RABBITMQ_HOST"],
                "username": env.get("RABBITMQ_USER", "guest"),
                "password": "${RABBITMQ_PASSWORD}",
                "queues": [env.get("RABBITMQ_QUEUE", "rasa_events")],
            }
    return config


def lock_store_kind(env: Mapping[str, str]) -> Optional[str]:
    """LOCK_STORE (postgres, redis or memory); by default PostgreSQL's advisory locks when the
    tracker store is on PostgreSQL, else Redis when REDIS_HOST is set, else Rasa's in-memory one."""
    chosen = (env.get("LOCK_STORE") or "").strip().lower()
    postgres = bool(env.get("TRACKER_DB_HOST")) and env.get("TRACKER_DB_DIALECT", "postgresql") == "postgresql"
    if chosen in ("", "postgres", "postgresql") and postgres:
        return "postgres"
    if chosen in ("", "redis") and env.get("REDIS_HOST"):
        return "redis"
    if chosen not in ("", "memory", "postgres", "postgresql", "redis"):
        raise ValueError(f"LOCK_STORE must be postgres, redis or memory, not {chosen!r}")
    return None


def credentials(env: Mapping[str, str]) -> Dict[str, Any]:
    """REST, the website widget and the kiosk are always on; each messaging app only when all of
    its required variables are set."""
    config: Dict[str, Any] = {REST_CHANNEL: None, "bot.channels.web.WebChatInput": None,
                              "bot.channels.web.KioskInput": None}
    for channel, (key, variables, secrets) in CHANNELS.items():
        required = [v for v in variables.values() if v not in OPTIONAL_CHANNEL_VARIABLES]
        if not all(env.get(v) for v in required):
            continue
        config[key] = {
            k: (f"${{{v}}}" if k in secrets else env[v])
            for k, v in variables.items()
            if env.get(v)
        }
    return config


def write(kind: str, path: Optional[Path], env: Mapping[str, str]) -> str:
    content = endpoints(env) if kind == "endpoints" else credentials(env)
    text = yaml.safe_dump(content, sort_keys=False, default_flow_style=False)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description="Write Rasa endpoints or credentials from the environment.")
    parser.add_argument("kind", choices=["endpoints", "credentials"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    text = write(args.kind, args.out, os.environ)
    if not args.out:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
