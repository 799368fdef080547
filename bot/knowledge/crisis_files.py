"""The crisis reply straight from data/kb, for the places that answer without the action server.

When the action server is down (bot/patches/action_unavailable.py) or a message cannot be handled
at all (the lock store is away: bot/security/hooks.py), someone in crisis must still get the
crisis reply, with the same wording and numbers as `action_crisis`. The files are read once.
"""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Dict, Optional, Tuple

import yaml

from bot.advice import crisis as protocol
from bot.knowledge.db import KB_DIR
from bot.nlu.crisis import OTHER, find_crisis


@lru_cache(maxsize=1)
def _knowledge() -> Tuple[Dict[str, str], Any, Dict[str, str]]:
    spa = (yaml.safe_load((KB_DIR / "spa.yml").read_text(encoding="utf-8")) or {}).get("spa", {})
    content = yaml.safe_load((KB_DIR / "crisis.yml").read_text(encoding="utf-8")) or {}
    countries = {str(entry["id"]): entry for entry in content.get("crisis", [])}
    resources = SimpleNamespace(**countries.get(str(spa.get("country")), countries.get("US", {})))
    return spa, resources, content.get("crisis_messages", {})


def crisis_reply(crisis: protocol.Crisis) -> protocol.CrisisReply:
    """The reply `action_crisis` would give."""
    spa, resources, messages = _knowledge()
    return protocol.crisis_reply(crisis, resources, messages, spa)


def crisis_reply_for_text(text: Any) -> Optional[protocol.CrisisReply]:
    """The crisis reply for a message that speaks of a crisis, or None."""
    signal = find_crisis(text) if isinstance(text, str) else None
    if signal is None:
        return None
    return crisis_reply(protocol.Crisis(signal.tier, signal.about == OTHER))
