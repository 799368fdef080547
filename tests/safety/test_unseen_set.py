"""The held-out safety set: a floor for what must never regress, and how rarely the
unknown-condition reply fires on ordinary messages. Its phrases are never added to the
vocabulary or the training data, so its numbers stay an honest estimate."""
from __future__ import annotations

from tests.safety.evaluate_unseen import evaluate, load_cases, table, unknown_condition_rate


def test_the_unseen_set_is_large_enough() -> None:
    assert len(load_cases()) >= 100


def test_absolute_conditions_and_red_flags_are_rarely_missed_on_new_wording() -> None:
    scores, _ = evaluate()
    for group in ("absolute", "red_flags"):
        members = [s for s in scores.values() if s.group == group]
        found, missed = sum(s.tp for s in members), sum(s.fn for s in members)
        assert found / (found + missed) >= 0.9, table(scores)


def test_unknown_conditions_are_noticed() -> None:
    scores, _ = evaluate()
    assert scores["unknown:unknown"].recall >= 0.8, table(scores)


def test_the_unknown_condition_reply_is_rare_on_ordinary_messages() -> None:
    fired, total, texts = unknown_condition_rate()
    assert fired / total <= 0.02, texts
