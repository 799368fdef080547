"""Rasa NLU component: entities from the knowledge-base vocabulary, with negation and roles.

At training time it reads the vocabulary from data/kb and stores it in the model, so a trained
model is self-contained. The knowledge-base files are part of its fingerprint, so changing a
synonym retrains it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.loader import TEAM_FILE, read_knowledge_base
from bot.nlu.matcher import VocabularyMatcher

VOCABULARY_FILE = "vocabulary.json"
# The message with its misspelled vocabulary words corrected, for the intent classifier.
CORRECTED_TEXT = "corrected_text"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class KnowledgeBaseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds technique, body_part, condition, symptom, goal and audience mentions."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"kb_dir": "data/kb"}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[List[List[str]]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary or []
        self._matcher = VocabularyMatcher(self._vocabulary) if self._vocabulary else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KnowledgeBaseEntityExtractor":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The vocabulary lives outside the training data, so its files join the fingerprint."""
        digest = hashlib.sha256()
        for path in sorted(Path(config.get("kb_dir", "data/kb")).glob("*.y*ml")):
            if path.name == TEAM_FILE:  # the team is not vocabulary
                continue
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        kb = read_knowledge_base(Path(self._config["kb_dir"]))
        self._vocabulary = [list(triple) for triple in kb.synonyms()]
        self._matcher = VocabularyMatcher(self._vocabulary)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(self._vocabulary), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "KnowledgeBaseEntityExtractor":
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            vocabulary = []
        return cls(config, model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        """Replaces any overlapping entity from earlier components with the normalised one."""
        if self._matcher is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            mentions, corrected = self._matcher.read(text)
            if corrected != text.lower():
                message.set(CORRECTED_TEXT, corrected)
            found = [m.as_entity(self.name) for m in mentions]
            if not found:
                continue
            kept = [
                e for e in message.get(ENTITIES, [])
                if not any(e.get("start", -1) < f["end"] and f["start"] < e.get("end", -1) for f in found)
            ]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages
