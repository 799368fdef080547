"""RulePolicy: format the conversation's states for its debug log only when debug logging is on.

Why: rasa 3.6's `RulePolicy._find_action_from_rules` turns every state of the conversation into
text (`format_tracker_states`) and deep-copies that text for a `debug` log call on each of its
two or three lookups per turn, whether or not debug logging is on. The formatted states are used
for nothing else. It is linear in the length of the conversation: about 5 % of the Rasa server's
CPU in 100-turn conversations (bench/README.md).

What it does: RulePolicy's `format_tracker_states` (inherited from `Policy`) returns an empty
string unless the policy's logger is enabled for DEBUG (`rasa run --debug` or LOG_LEVEL=DEBUG),
in which case it is rasa's own function. Other policies and callers are not affected.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the formatting function or the
lookup that calls it changes.
"""
from __future__ import annotations

import logging
from typing import Callable, Dict, List, Text

from rasa.core.policies import rule_policy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy

UPSTREAM_SOURCES = {
    "rasa.core.policies.policy.Policy.format_tracker_states":
        "32b101cb34fd1c32fd17557044632ecbe9cb5638e605ca81864ddcb6b469a22a",
    "rasa.core.policies.rule_policy.RulePolicy._find_action_from_rules":
        "be6da6ee0f5429bd9bbded9f22186f3729469e5b392949493fd34a00ef9531d9",
}

UPSTREAM: Callable[[List[Dict]], Text] = Policy.format_tracker_states
_logger = logging.getLogger(rule_policy.__name__)


def format_tracker_states(states: List[Dict]) -> Text:
    """Rasa's formatting when RulePolicy logs at DEBUG; nothing otherwise."""
    if _logger.isEnabledFor(logging.DEBUG):
        return UPSTREAM(states)
    return ""


def apply() -> None:
    """Install the patch (idempotent) on RulePolicy only."""
    RulePolicy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[assignment]
