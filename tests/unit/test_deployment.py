"""Endpoints and channels come from the environment; secrets are referenced, never written."""
from __future__ import annotations

import yaml

from bot.deployment import credentials, endpoints
from tests.conftest import PROJECT_ROOT


def test_the_embedded_default_needs_no_server() -> None:
    config = endpoints({})
    assert config["action_endpoint"]["url"] == "http://localhost:5055/webhook"
    assert config["tracker_store"] == {"type": "bot.retention.PrivateSQLTrackerStore", "dialect": "sqlite",
                                      "db": ".data/tracker.db"}
    assert "lock_store" not in config and "event_broker" not in config


def test_the_committed_endpoints_file_is_the_embedded_default() -> None:
    assert yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text()) == endpoints({})


def test_production_uses_postgres_locks_and_the_outbox_without_writing_secrets() -> None:
    env = {
        "ACTIONS_PORT": "6000", "TRACKER_DB_HOST": "db", "TRACKER_DB_PASSWORD": "s3cret",
        "REDIS_HOST": "redis", "REDIS_PASSWORD": "r3dis", "RABBITMQ_HOST": "mq", "RABBITMQ_PASSWORD": "mq-pass",
    }
    config = endpoints(env)
    text = yaml.safe_dump(config)
    assert config["action_endpoint"]["url"] == "http://localhost:6000/webhook"
    assert config["tracker_store"]["dialect"] == "postgresql" and config["tracker_store"]["url"] == "db"
    assert config["lock_store"]["type"] == "bot.delivery.locks.PostgresLockStore"
    assert config["lock_store"]["url"] == "db" and config["lock_store"]["password"] == "${TRACKER_DB_PASSWORD}"
    assert config["tracker_store"]["outbox"] is True and "event_broker" not in config  # the relay publishes
    for secret in ("s3cret", "r3dis", "mq-pass"):
        assert secret not in text
    assert "${TRACKER_DB_PASSWORD}" in text
    redis = endpoints({**env, "LOCK_STORE": "redis"})
    assert redis["lock_store"]["type"] == "redis" and redis["lock_store"]["password"] == "${REDIS_PASSWORD}"
    broker_only = endpoints({"RABBITMQ_HOST": "mq"})  # no SQL store to hold an outbox: Rasa's broker
    assert broker_only["event_broker"]["type"] == "pika" and "lock_store" not in broker_only


def test_messaging_channels_only_when_their_variables_are_set() -> None:
    assert credentials({}) == {"bot.channels.web.CheckedRestInput": None, "bot.channels.web.WebChatInput": None,
                               "bot.channels.web.KioskInput": None}
    config = credentials({"TELEGRAM_TOKEN": "t0ken", "TELEGRAM_BOT_NAME": "spa_bot",
                          "TELEGRAM_WEBHOOK_URL": "https://example.org/webhooks/telegram/webhook",
                          "TWILIO_ACCOUNT_SID": "AC1"})
    telegram = "bot.channels.messaging.TelegramWebhookInput"
    assert set(config) == {"bot.channels.web.CheckedRestInput", "bot.channels.web.WebChatInput",
                           "bot.channels.web.KioskInput", telegram}
    assert config[telegram]["access_token"] == "${TELEGRAM_TOKEN}"


def test_the_lock_store_is_chosen_by_lock_store_or_what_is_configured() -> None:
    import pytest

    from bot.deployment import lock_store_kind

    assert lock_store_kind({}) is None  # the embedded default: Rasa's in-memory locks
    assert lock_store_kind({"TRACKER_DB_HOST": "db"}) == "postgres"
    assert lock_store_kind({"TRACKER_DB_HOST": "db", "REDIS_HOST": "r"}) == "postgres"
    assert lock_store_kind({"TRACKER_DB_HOST": "db", "REDIS_HOST": "r", "LOCK_STORE": "redis"}) == "redis"
    assert lock_store_kind({"REDIS_HOST": "r"}) == "redis"  # SQLite conversations, Redis locks
    assert lock_store_kind({"TRACKER_DB_HOST": "db", "LOCK_STORE": "memory"}) is None
    with pytest.raises(ValueError):
        lock_store_kind({"LOCK_STORE": "zookeeper"})
