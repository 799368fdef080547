"""Rasa NLU component: a message from someone in crisis gets the crisis reply, whatever else it says.

Runs last in the pipeline, after the red-flag override: a message that speaks of an overdose and
chest pain is a crisis first. It adds the `crisis` entity (tier as value, role `other` when the
message is about someone else) and sets the intent to `report_crisis` with full confidence, so
the rules answer it with `action_crisis` and an open booking form stops. The intent classifier
never predicts `report_crisis` itself (its examples are excluded from its training): only the
phrases in bot/nlu/crisis.py decide, so ordinary talk cannot set it off by resemblance.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.crisis import find_crisis
from bot.nlu.red_flag_override import set_intent

CRISIS_INTENT = "report_crisis"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class CrisisIntentOverride(GraphComponent):
    """Sets the `crisis` entity and the intent `report_crisis` when bot/nlu/crisis.py finds one."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisIntentOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            signal = find_crisis(text)
            if signal is None:
                continue
            entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != "crisis"]
            message.set(ENTITIES, entities + [signal.as_entity(self.__class__.__name__)], add_to_output=True)
            set_intent(message, CRISIS_INTENT)
        return messages
