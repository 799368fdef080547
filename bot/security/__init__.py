"""Security and privacy at the edge of the Rasa server: API token, request limits, CORS allow-list,
webhook signatures, rate limits and a log filter that keeps message text out of the logs.

`install()` (called once by bot/server.py) hooks all of it into Rasa's app configuration; see
bot/security/hooks.py for what it replaces and why.
"""
from __future__ import annotations


def install() -> None:
    """Hook the request checks, CORS allow-list, message guard, log redaction and retention job
    into the Rasa server started in this process."""
    from bot.security import hooks

    hooks.install()
