"""RulePolicy predicting: only the last states of the conversation, as far back as a rule looks.

Why: for each of its three lookups a turn, rasa 3.6's `RulePolicy._find_action_from_rules` gets
the states of the whole conversation (`_prediction_states`: a copy of every state, then
`_remove_user_text_if_intent` over all of them) and `_get_possible_keys` walks every one. A rule
is only compared with as many of the last states as it holds: `_is_rule_applicable` returns True
for any turn further back than the rule's length. So the rest is work that grows with the length
of the conversation without changing what is predicted: about a quarter of the Rasa server's
CPU in the bench's long conversations (`_copy` 18.2 %, `_get_possible_keys` 4.2 %,
`_remove_user_text_if_intent` 2.0 %; bench/README.md).

What it does: while RulePolicy predicts (rule_policy_feature_key marks that; training is left
alone), its `_prediction_states` asks incremental_tracker_states for the last `n + 1` states
only, where `n` is the number of states of the longest key in its lookups (rules, rules for a
loop's unhappy path, rules not in stories), worked out once per lookup. What the states are used
for while predicting: the two rule lookups, which only look back as far as their longest key;
and the key of the states since the last rule snippet, compared with the rules not in stories
(rule_policy_feature_key): within the window that count is exact when a snippet is in it, and
otherwise longer than every such key, as it is in the whole conversation. RulePolicy's debug log
of the current states (rule_policy_debug_states) then shows those last states only.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the functions this relies on change;
tests/e2e/test_long_conversation_rules.py checks that a long conversation with the real action
server runs the same actions and replies as with rasa's states.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import (RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RULES_NOT_IN_STORIES,
                                            RulePolicy)
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

from bot.patches import incremental_tracker_states, rule_policy_feature_key

UPSTREAM_SOURCES = {
    "rasa.core.policies.policy.Policy._prediction_states":
        "ed9b82bed2f26ad7a0de61709e02339983912bece614191089c3adba60cf1452",
    "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys":
        "2915fd81711e194c6d667728e00bd0e51e9c1c2791a0be14c55f0ef9938f9936",
    "rasa.core.policies.rule_policy.RulePolicy._is_rule_applicable":
        "64a108b016b46e573d6020b755a6036439dc207a364b45c9ea5dcb0f18dc7068",
    "rasa.core.policies.rule_policy.RulePolicy._find_action_from_rules":
        "be6da6ee0f5429bd9bbded9f22186f3729469e5b392949493fd34a00ef9531d9",
}

UPSTREAM: Callable[..., List[State]] = Policy._prediction_states
_WINDOW = "_prediction_state_window"


def window(policy: RulePolicy) -> int:
    """One more state than the longest key of the policy's lookups holds."""
    lookups = tuple(policy.lookup.get(name) or {} for name in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH,
                                                                RULES_NOT_IN_STORIES))
    cached: Optional[Tuple[Tuple[Any, ...], int]] = policy.__dict__.get(_WINDOW)
    if cached is not None and all(a is b for a, b in zip(cached[0], lookups)):
        return cached[1]
    longest = max((rule_policy_feature_key._states_held(key) or 0 for lookup in lookups for key in lookup),
                  default=0)
    policy.__dict__[_WINDOW] = (lookups, longest + 1)
    return longest + 1


def prediction_states(self: RulePolicy, tracker: DialogueStateTracker, domain: Domain,
                      use_text_for_last_user_input: bool = False,
                      rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
    """Rasa's states for prediction; while predicting, only the last ones a rule can look at."""
    if not rule_policy_feature_key._predicting.get():
        return UPSTREAM(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    token = incremental_tracker_states.WINDOW.set(window(self))
    try:
        return UPSTREAM(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    finally:
        incremental_tracker_states.WINDOW.reset(token)


def apply() -> None:
    """Install the patch (idempotent) on RulePolicy."""
    RulePolicy._prediction_states = prediction_states  # type: ignore[assignment]
