"""The intent model: what it predicts, how sure it says it is, and that a stored model is the same model."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import numpy as np
import pytest
from scipy.special import softmax

from bot.nlu.intent_model import ARRAYS_FILE, IntentModel, IntentModelSettings, fit_temperature

EXAMPLES = {
    "greet": ["hi", "hello", "hey there", "good morning", "hi there", "hello again", "hey", "morning!"],
    "ask_price": ["how much is a massage", "what does it cost", "prices please", "how much for an hour",
                  "what are your prices", "is it expensive", "cost of a session", "how much do you charge"],
    "describe_problem": ["my back hurts", "stiff neck from my desk", "my shoulders ache", "sore lower back",
                         "tight calves after running", "my neck is stiff", "headaches and tight shoulders",
                         "back pain every morning"],
    "goodbye": ["bye", "see you", "goodbye", "bye for now", "see you later", "talk soon", "cheers, bye",
                "that's all, bye"],
}


def training_set() -> Tuple[List[str], List[str]]:
    texts = [text for examples in EXAMPLES.values() for text in examples]
    labels = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    return texts, labels


@pytest.fixture(scope="module")
def model() -> IntentModel:
    return IntentModel.fit(*training_set())


def best(model: IntentModel, text: str) -> Tuple[str, float]:
    return model.ranking(text)[0]


@pytest.mark.parametrize("text, intent", [
    ("hello!", "greet"),
    ("how much does an hour cost", "ask_price"),
    ("my lower back is stiff", "describe_problem"),
    ("ok bye", "goodbye"),
])
def test_new_wording_gets_its_intent(model: IntentModel, text: str, intent: str) -> None:
    assert best(model, text)[0] == intent


def test_confidences_are_a_distribution_ranked_best_first(model: IntentModel) -> None:
    ranking = model.ranking("how much is it")
    assert [name for name, _ in ranking] == sorted(model.labels, key=lambda n: -dict(ranking)[n])
    assert sum(confidence for _, confidence in ranking) == pytest.approx(1.0)
    assert len(model.ranking("how much is it", length=2)) == 2


def test_a_message_like_no_intent_is_less_sure_than_one_like_its_intent(model: IntentModel) -> None:
    assert best(model, "my back hurts")[1] > 0.6
    assert best(model, "zxqv jjjj")[1] < 0.5
    assert best(model, "")[1] < 0.5


def test_the_fast_single_message_path_equals_scikit_learns_transform(model: IntentModel) -> None:
    texts = ["hello", "my BACK hurts!!", "", "??", "how much how much how much", "été à Paris", "x" * 300]
    for text in texts:
        fast = softmax(model.temperature * model._decisions(text))
        assert fast == pytest.approx(model.confidences([text])[0], abs=1e-12)


def test_a_stored_model_predicts_exactly_as_the_trained_one(model: IntentModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    loaded = IntentModel.load(tmp_path)
    texts = ["hi", "what do you charge", "sore neck", "see you", "nothing like the training data"]
    assert np.array_equal(loaded.confidences(texts), model.confidences(texts))
    assert loaded.ranking("sore neck") == model.ranking("sore neck")
    assert loaded.settings == model.settings and loaded.labels == model.labels


def test_a_stored_model_holds_no_pickled_objects(model: IntentModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    with np.load(tmp_path / ARRAYS_FILE, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_only_the_first_max_chars_of_a_message_are_read() -> None:
    settings = IntentModelSettings(max_chars=40)
    capped = IntentModel.fit(*training_set(), settings=settings)
    long = "how much is a massage for my sore back" + " bye" * 1000
    assert capped.ranking(long) == capped.ranking(long[:40])
    assert IntentModel.fit(*training_set()).ranking(long) != capped.ranking(long)  # the rest would count


def test_two_intents_are_enough_and_one_is_not() -> None:
    texts = EXAMPLES["greet"] + EXAMPLES["goodbye"]
    labels = ["greet"] * 8 + ["goodbye"] * 8
    two = IntentModel.fit(texts, labels)
    assert best(two, "hello there")[0] == "greet"
    assert best(two, "bye bye")[0] == "goodbye"
    with pytest.raises(ValueError):
        IntentModel.fit(EXAMPLES["greet"], ["greet"] * 8)


def test_training_twice_gives_the_same_model() -> None:
    first, second = IntentModel.fit(*training_set()), IntentModel.fit(*training_set())
    assert np.array_equal(first.coef, second.coef) and first.temperature == second.temperature


def test_the_fitted_temperature_recovers_the_scale_that_made_the_labels() -> None:
    rng = np.random.default_rng(0)
    decisions = rng.normal(size=(4000, 5))
    labels = np.array([rng.choice(5, p=p) for p in softmax(3.0 * decisions, axis=1)])
    assert fit_temperature(decisions, labels) == pytest.approx(3.0, rel=0.1)


def test_the_rasa_component_trains_stores_and_loads(tmp_path: Path) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.linear_intent_classifier import LinearIntentClassifier

    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(GraphSchema({}), "test")
    texts, labels = training_set()
    data = TrainingData([Message.build(text=t, intent=i) for t, i in zip(texts, labels)])
    LinearIntentClassifier.create({}, storage, resource, context).train(data)

    loaded: Any = LinearIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process([Message.build(text="what are your prices")])
    assert message.get("intent")["name"] == "ask_price"
    assert message.get("intent_ranking")[0] == message.get("intent")
    assert len(message.get("intent_ranking")) == 4

    empty: Any = LinearIntentClassifier.load({}, storage, Resource("never-trained"), context)
    [untouched] = empty.process([Message.build(text="hi")])
    assert untouched.get("intent") is None
