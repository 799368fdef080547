"""Rasa NLU component: the intent of a message from bot/nlu/intent_model.py.

It reads the message text itself (no featurizers in front of it) and sets `intent` and
`intent_ranking` as Rasa's own classifiers do, so the FallbackClassifier and the red-flag
override after it work unchanged.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.kb_entity_extractor import CORRECTED_TEXT

from bot.nlu.intent_model import IntentModel, IntentModelSettings

logger = logging.getLogger(__name__)

SETTING_KEYS = tuple(f.name for f in dataclasses.fields(IntentModelSettings))


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intents from a linear SVM over word and character n-grams of the message text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        defaults = IntentModelSettings()
        # `excluded_intents`: intents another component decides (report_crisis); their examples
        # document them for `rasa data validate` but are not learned, so they are never predicted.
        return {**{key: getattr(defaults, key) for key in SETTING_KEYS}, "ranking_length": 10,
                "excluded_intents": []}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[IntentModel] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    def _settings(self) -> IntentModelSettings:
        return IntentModelSettings.from_dict({key: self._config[key] for key in SETTING_KEYS})

    def train(self, training_data: TrainingData) -> Resource:
        excluded = set(self._config["excluded_intents"] or ())
        examples = [e for e in training_data.intent_examples
                    if e.get(TEXT) and e.get(INTENT) and e.get(INTENT) not in excluded]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.warning("Fewer than two intents in the training data: the intent classifier is not trained.")
            return self._resource
        self._model = IntentModel.fit(
            [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples], self._settings()
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model: Optional[IntentModel] = IntentModel.load(directory)
        except (ValueError, FileNotFoundError):
            logger.warning("No trained intent model in this model archive: every message gets no intent.")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets the best intent and the ranking; without a trained model, leaves them unset."""
        if self._model is None:
            return messages
        for message in messages:
            # The knowledge-base extractor's spelling corrections ("pregant" -> "pregnant"), when it made any.
            text = message.get(CORRECTED_TEXT) or message.get(TEXT) or ""
            ranking = self._model.ranking(text, self._config["ranking_length"])
            entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
            message.set(INTENT, entries[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, entries, add_to_output=True)
        return messages
