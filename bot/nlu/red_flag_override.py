"""Rasa NLU component: a message with a red flag is an emergency, whatever the classifier said.

It runs after the intent classifiers and the fallback classifier, so a misclassified or
low-confidence message that mentions chest pain still gets the urgent reply first.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

EMERGENCY_INTENT = "report_emergency"


def has_own_red_flag(entities: List[Dict[str, Any]]) -> bool:
    """A red flag the person reports for themselves now (not negated, not someone else's)."""
    return any(e.get("entity") == "red_flag" and not e.get("role") for e in entities)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class RedFlagIntentOverride(GraphComponent):
    """Sets the intent to report_emergency with full confidence when a red flag is present."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RedFlagIntentOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not has_own_red_flag(message.get(ENTITIES) or []):
                continue
            set_intent(message, EMERGENCY_INTENT)
        return messages


def set_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, first in the ranking.

    The overrides (red flag, crisis) decide by rule, whatever the classifier said.
    """
    chosen = {"name": name, "confidence": 1.0}
    ranking = [chosen] + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
