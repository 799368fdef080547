"""Patches to Rasa's behaviour, one module each, applied in one place: `apply()`.

Each module says why it exists and which upstream versions it targets, and
tests/unit/test_patches.py fails when the upstream code it replaces changes.
`bot/server.py` applies them before Rasa's own command line takes over.
"""
from __future__ import annotations

import importlib
from typing import List

PATCHES: List[str] = [
    "bot.patches.skip_jax",  # first: before anything imports TensorFlow (about 100 MB less memory)
    "bot.patches.action_response_schema",  # JSON Schema validator built once, not per action call
    "bot.patches.action_tracker_window",  # the action server gets the events actions read, not all
    "bot.patches.endpoint_session_reuse",  # one kept-alive HTTP session per endpoint, not one per call
    "bot.patches.event_type_lookup",  # event class by name from a dict, not a class-tree walk
    "bot.patches.graph_run_order",  # the model's graph run in a fixed order, without dask's scheduler
    "bot.patches.nlu_token_cap",  # NLU reads at most 500 tokens: token models such as DIET are quadratic
    "bot.patches.applied_events_cache",  # a tracker's applied events worked out once per change
    "bot.patches.incremental_tracker_states",  # dialogue states replayed once per event, not per call
    "bot.patches.rule_policy_debug_states",  # no formatting of every state for a debug log that is off
    "bot.patches.rule_policy_feature_key",  # no JSON key of the whole conversation when predicting
    "bot.patches.rule_policy_state_window",  # RulePolicy predicts from the last states its rules look at
    "bot.patches.tracker_copy",  # a tracker copied from a replay kept up to date, not replayed again
    "bot.patches.tracker_event_cache",  # SQL tracker store: no re-reading a conversation each turn
    "bot.patches.no_memory_fallback",  # a tracker store error is not hidden in one replica's memory
    "bot.patches.sqlite_tracker_journal",  # SQLite tracker store: WAL, no disk flush per commit
    "bot.patches.action_unavailable",  # action server down: a polite apology, not silence
    "bot.patches.redis_lock_atomic",  # Redis lock store: tickets in one transaction across replicas
]


def apply() -> None:
    """Apply every patch in PATCHES (idempotent)."""
    for name in PATCHES:
        importlib.import_module(name).apply()
