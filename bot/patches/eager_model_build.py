"""Build a loaded DIET model's weights with one eager step, not a traced training graph.

Why: rasa 3.6's `RasaModel.load` creates the model's weights by running `fit` on one example,
then overwrites them with the trained ones. `fit` traces Keras' whole training function into a
TensorFlow graph first (autograph, gradients, optimizer), which is thrown away: about 35 % of
the Rasa server's start-up CPU and most of its cold start (py-spy of `bot.server run` up to the
first reply; bench/README.md).

What it does, for DIET (the only TensorFlow model in config.yml): the same one-example `fit`,
with the model compiled to run eagerly, so the weights get their shapes without tracing; then
the model's own `run_eagerly` setting is put back before the trained weights are loaded and the
prediction function is traced (as before, on the prediction example), so inference runs exactly
as it did. The restore must match every weight, shape included; if it does not, the model is
loaded again with rasa's own code (a failed load must never leave a model with untrained
weights: rasa's TEDPolicy, for one, swallows the error and predicts nothing). Other model
classes (TED, whose layers take other shapes when built eagerly from the example batch) always
use rasa's load. Training is not affected (`rasa train` does not go through `bot.server`).

Targets rasa 3.6.21 with TensorFlow 2.12. tests/unit/test_patches.py fails when the replaced
method changes, and checks the trained model predicts the same with and without the patch.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Text

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

UPSTREAM_SOURCES = {
    "rasa.utils.tensorflow.models.RasaModel.load":
        "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292",
}

# Model classes checked to build the same weights eagerly: DIET (DIETClassifier). TED's layers
# take other shapes when built eagerly from the example batch, so TED and others keep rasa's load.
EAGER_BUILD = ("DIET",)

UPSTREAM: Callable[..., RasaModel] = RasaModel.__dict__.get("_upstream_load", RasaModel.__dict__["load"]).__func__


def load(
    cls: Any,
    model_file_name: Text,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """Drop-in for `RasaModel.load`: the same weights and prediction graph, built faster, for the
    model classes in EAGER_BUILD; rasa's own load for anything else or if any weight differs."""
    if finetune_mode or cls.__name__ not in EAGER_BUILD:
        return UPSTREAM(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                        *args, **kwargs)
    model = cls(*args, **kwargs)
    learning_rate = kwargs.get("config", {}).get(LEARNING_RATE, 0.001)
    run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.run_eagerly = run_eagerly
    try:
        # Every variable built eagerly must have the trained variable's shape and be restored.
        model.load_weights(model_file_name).assert_existing_objects_matched()
    except (ValueError, AssertionError) as error:
        logger.info("%s: weights built eagerly do not match the saved model (%s); using rasa's load.",
                    cls.__name__, type(error).__name__)
        return UPSTREAM(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                        *args, **kwargs)
    if predict_data_example:
        model.run_inference(predict_data_example)
    return model


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    RasaModel._upstream_load = classmethod(UPSTREAM)  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[assignment]
