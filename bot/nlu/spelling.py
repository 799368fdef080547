"""Typo correction towards a small vocabulary, with symspellpy, never turning one real word into another.

Used by the knowledge-base matcher (conditions, red flags, techniques... "pregant", "feaver",
"chemotherepy", "sciatia") and by the crisis phrases ("sucidal", "threatning"). A word is only
corrected when it is not itself an English word (symspellpy's own frequency list of 82,765 words):
"wash" is never read as "rash", nor "cast" as "fast". Words of three letters or more are corrected
("clt" is "clot"). One edit is allowed up to five letters, two
from six (the second only when the first letter is right); of several words as close, a safety
word wins ("rase" is "rash", not "race"), then the longest shared start, and a tie corrects nothing.
"""
from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources
from typing import Dict, FrozenSet, Iterable, Optional, Tuple

from symspellpy import SymSpell, Verbosity

ENGLISH_WORDS_FILE = "frequency_dictionary_en_82_765.txt"
MAX_CACHED = 50_000


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[str]:
    """Every word of symspellpy's English frequency list (lower case)."""
    text = resources.files("symspellpy").joinpath(ENGLISH_WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


class Speller:
    """Corrects a word to the one vocabulary word it is a likely typo of, or leaves it alone."""

    def __init__(self, vocabulary: Iterable[str], min_length: int = 3, priority: Iterable[str] = ()) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if w.isalpha())
        self.min_length = min_length
        # Where a typo is as close to several words, these win ("rase": "rash" before "race").
        self.priority = frozenset(priority)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word in self.vocabulary:
            if len(word) >= min_length - 1:
                self._symspell.create_dictionary_entry(word, 1)
        self._english = english_words()
        self._cache: Dict[Tuple[str, ...], str] = {}

    def correct(self, word: str, *also_words: str) -> str:
        """`word`, or the vocabulary word it is a typo of. `also_words` are other spellings of the
        same word (the raw token of a normalised one): if any is English, nothing is corrected."""
        if word in self.vocabulary or len(word) < self.min_length or not word.isalpha():
            return word
        key = (word,) + also_words
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        corrected = word
        if word not in self._english and not any(w in self._english for w in also_words):
            corrected = self._closest(word) or word
        if len(self._cache) < MAX_CACHED:
            self._cache[key] = corrected
        return corrected

    def _closest(self, word: str) -> Optional[str]:
        """The one best candidate: fewest edits, then a priority word, then the most letters shared at
        both ends, the closest length and the most similar; none when two are still equally good."""
        limit = 1 if len(word) <= 5 else 2
        found = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=limit)
        candidates = [f.term for f in found if f.distance == 1 or f.term[0] == word[0]]
        if len(word) <= 3:
            # "thx", "pls", "idk": chat shorthand; only a safety word is worth the guess ("clt").
            candidates = [t for t in candidates if t in self.priority and len(t) > 3]
        if not candidates:
            return None
        ranked = sorted(((t in self.priority, _shared_ends(word, t), -abs(len(t) - len(word)),
                          round(SequenceMatcher(None, word, t).ratio(), 6)), t) for t in candidates)
        best = ranked[-1]
        if len(ranked) > 1 and ranked[-2][0] == best[0]:
            return None
        return best[1]


def _shared_ends(a: str, b: str) -> int:
    """Letters two words share at their start plus at their end: "dropy" is nearer "droopy" than "drop"."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) and a[-1 - end] == b[-1 - end]:
        end += 1
    return start + end
