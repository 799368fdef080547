"""RulePolicy predicting: no JSON key of the whole conversation for a lookup no rule matched.

Why: rasa 3.6's `RulePolicy._find_action_from_rules` returns `best_rule_key or
self._create_feature_key(states)`: when no rule matches (the text lookup after every user
message, for one), it serialises every state of the conversation as sorted JSON, after a loop
that inserts each state at the front of a list (quadratic). That is linear-to-quadratic in the
length of the conversation, and 5.7 % of the Rasa server's CPU in the bench's long conversations
(bench/README.md). When predicting, the key is only looked up in the policy's "rules not in
stories" (`hide_rule_turn` in `_rule_prediction`); `predict_action_probabilities` drops it.

What it does: while RulePolicy predicts (inside `predict_action_probabilities`), its
`_create_feature_key` first counts the states since the last rule snippet, which is what the key
would hold. A key can only equal one of the rules not in stories if it has as many states, so
when none of those has that many, it returns None: in `_rule_prediction` that gives what the key
gave (not hidden), and nothing else reads it. Otherwise, and always when training (where the
key names the rule a story step came from), it is rasa's function.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced functions, or the ones
whose use of the key this relies on, change.
"""
from __future__ import annotations

import contextvars
import json
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Text, Tuple

from rasa.core.policies.rule_policy import RULES_NOT_IN_STORIES, RulePolicy
from rasa.shared.core.domain import State

UPSTREAM_SOURCES = {
    "rasa.core.policies.rule_policy.RulePolicy._create_feature_key":
        "641eda8d019918ce3001989a2b64c1d32281ede2fd2f68a4e17693a3c47c4e71",
    "rasa.core.policies.rule_policy.RulePolicy.predict_action_probabilities":
        "301c6695cd5011b41d997d450b759927a1c8c0c510687352c3daf3eb98e616af",
    "rasa.core.policies.rule_policy.RulePolicy._predict":
        "f5182d8a10639e14d2643795210767a17fc4c8b5c2852b946f41c6c9f1a8a4e0",
    "rasa.core.policies.rule_policy.RulePolicy._rule_prediction":
        "90316ddf7eb4b3140d45f21e51ca072c212ba28329077d99cb618191456f273f",
}

UPSTREAM: Callable[[RulePolicy, List[State]], Optional[Text]] = RulePolicy.__dict__.get(
    "_upstream_create_feature_key", RulePolicy._create_feature_key
)
UPSTREAM_PREDICT: Callable[..., Any] = RulePolicy.__dict__.get(
    "_upstream_predict_action_probabilities", RulePolicy.predict_action_probabilities
)
_predicting: contextvars.ContextVar[bool] = contextvars.ContextVar("rule_policy_predicting", default=False)
_LENGTHS = "_hidden_rule_key_lengths"


def _states_held(key: Any) -> Optional[int]:
    """How many states a key holds; None for one that is no JSON list of states (such as the
    names of rasa's own rules), which no feature key can equal."""
    try:
        states = json.loads(key)
    except (TypeError, ValueError):
        return None
    return len(states) if isinstance(states, list) else None


def _hidden_key_lengths(policy: RulePolicy) -> FrozenSet[int]:
    """How many states each rule-not-in-stories key holds, worked out once per lookup."""
    keys = policy.lookup.get(RULES_NOT_IN_STORIES, [])
    cached: Optional[Tuple[Any, FrozenSet[int]]] = policy.__dict__.get(_LENGTHS)
    if cached is not None and cached[0] is keys:
        return cached[1]
    lengths = frozenset(n for n in map(_states_held, keys) if n is not None)
    policy.__dict__[_LENGTHS] = (keys, lengths)
    return lengths


def _states_in_key(policy: RulePolicy, states: List[State]) -> int:
    count = 0
    for state in reversed(states):
        if policy._is_rule_snippet_state(state):
            break
        count += 1
    return count


def create_feature_key(self: RulePolicy, states: List[State]) -> Optional[Text]:
    """Rasa's key, or None while predicting when no rule not in stories could equal it."""
    if _predicting.get():
        if _states_in_key(self, states) not in _hidden_key_lengths(self):
            return None
    return UPSTREAM(self, states)


def predict_action_probabilities(self: RulePolicy, tracker: Any, domain: Any,
                                 rule_only_data: Optional[Dict[Text, Any]] = None, **kwargs: Any) -> Any:
    """Rasa's prediction, marked as such for `create_feature_key`."""
    token = _predicting.set(True)
    try:
        return UPSTREAM_PREDICT(self, tracker, domain, rule_only_data, **kwargs)
    finally:
        _predicting.reset(token)


def apply() -> None:
    """Install the patch (idempotent) on RulePolicy."""
    RulePolicy._upstream_create_feature_key = UPSTREAM  # type: ignore[attr-defined]
    RulePolicy._upstream_predict_action_probabilities = UPSTREAM_PREDICT  # type: ignore[attr-defined]
    RulePolicy._create_feature_key = create_feature_key  # type: ignore[assignment]
    RulePolicy.predict_action_probabilities = predict_action_probabilities  # type: ignore[assignment]
