"""Keep at most MAX_TOKENS tokens of a message for NLU, so a huge message can't cost without limit.

Why: DIET's transformer (in Rasa's default pipeline, and in ours until the linear intent
classifier replaced it) attends from every token to every other one, so its time and memory grow
with the square of a message's length. Measured through /model/parse with DIET: 1,000
characters 44 ms, 10,000 characters 449 ms, 100,000 characters 87 s with a 15.9 GB peak RSS. The
channels cap messages at 1,000 characters (the security work); this bounds the NLU pipeline
itself, whatever the caller and whichever token-based components a config.yml puts in it. Tokens past the cap are not featurised or classified; the text, and
so the knowledge-base matcher (capped at 5,000 characters on its own), is untouched.

MAX_TOKENS (500) is more than a 1,000-character message can hold (the whitespace tokenizer drops
punctuation, so at most one token per two characters), so no message a channel accepts changes.
Only inference is capped (`Tokenizer.process`); training data (`process_training_data`) is not.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the upstream source changes.
"""
from __future__ import annotations

from typing import Callable, List

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

MAX_TOKENS = 500

UPSTREAM_SOURCES = {
    "rasa.nlu.tokenizers.tokenizer.Tokenizer.process":
        "9647db770ef4af4dbf215c2a2471b93702c49e2569a5aebb18103ea6a6898703",
}

UPSTREAM: Callable[[Tokenizer, List[Message]], List[Message]] = Tokenizer.__dict__.get(
    "_upstream_process", Tokenizer.process
)


def process(self: Tokenizer, messages: List[Message]) -> List[Message]:
    """Rasa's tokenization, then the text's tokens cut to the first MAX_TOKENS."""
    messages = UPSTREAM(self, messages)
    for message in messages:
        tokens = message.get(TOKENS_NAMES[TEXT])
        if tokens and len(tokens) > MAX_TOKENS:
            message.set(TOKENS_NAMES[TEXT], tokens[:MAX_TOKENS])
    return messages


def apply() -> None:
    """Install the patch (idempotent)."""
    Tokenizer._upstream_process = UPSTREAM  # type: ignore[attr-defined]
    Tokenizer.process = process  # type: ignore[assignment]
