"""Keep JAX out of the Rasa server: TensorFlow imports it only to convert models to TFLite.

Why: tensorflow 2.12 (rasa 3.6's pin) depends on jax, and `tensorflow/lite/python/util.py`
imports `jax.xla_computation` whenever jax is installed, inside `try/except ImportError`, for
TFLite conversion only, which a Rasa server never does. That import added about 107 MB to the
Rasa server's memory (RSS after `import rasa.core.agent, tensorflow`: 722 MB with it, 616 MB
without) and time to every cold start.

Marking `jax` as not importable (`sys.modules["jax"] = None`) before TensorFlow is imported makes
that import raise ImportError, which TensorFlow handles as "jax not installed". It must run
before anything imports TensorFlow, so it is the first patch in `bot.patches.PATCHES` and
imports nothing itself; applied later, it does nothing.

Targets tensorflow 2.12 (rasa 3.6.21). tests/unit/test_patches.py fails when the guarded import
in tensorflow/lite/python/util.py changes.
"""
from __future__ import annotations

import sys

GUARDED_IMPORT = "try:\n  from jax import xla_computation as _xla_computation\nexcept ImportError:\n"
UPSTREAM_FILE = "tensorflow/lite/python/util.py"


def apply() -> None:
    """Block `import jax` in this process, unless TensorFlow (or jax) is already imported."""
    if "tensorflow" not in sys.modules and "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]
