"""Safety words however they are typed: every synonym of every absolute condition and red flag,
misspelled by one or two letters, joined or split, in Title Case and in capitals.

    .venv/bin/python -m tests.safety.typo_set      # recall per class

The variants are generated, not hand-picked, so they cover the whole vocabulary:

- one edit of the term's longest word (five letters or more): a letter dropped, two letters
  swapped, a letter doubled, a letter replaced by its neighbour on a QWERTY keyboard;
- two edits for words of eight letters or more (dropped and swapped);
- joined: a two-word term written as one ("bloodclot"); split: a one-word term of eight letters
  or more with a space in the middle ("thromb osis");
- the whole sentence in Title Case, and in capitals.

A variant that is itself an English word ("rash" -> "rush") cannot be told from that word and
is left out (counted as `real_words`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

from bot.knowledge.loader import KnowledgeBase
from bot.nlu.matcher import VocabularyMatcher
from bot.nlu.normalise import normalise_word
from bot.nlu.spelling import english_words

TEMPLATE = "i have {} and i wanted to ask about a massage"
NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wertyuiopqsdfghjklaxcvbnmz"))


@dataclass
class TypoScore:
    found: int = 0
    total: int = 0
    real_words: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0


def _edits(word: str) -> Iterator[Tuple[str, str]]:
    middle = len(word) // 2
    yield "dropped", word[:middle] + word[middle + 1:]
    yield "swapped", word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]
    yield "doubled", word[:middle] + word[middle] + word[middle:]
    yield "neighbour", word[:middle] + NEIGHBOURS.get(word[middle], word[middle]) + word[middle + 1:]
    if len(word) >= 8:
        dropped = word[:middle] + word[middle + 1:]
        yield "two edits", dropped[:2] + dropped[3] + dropped[2] + dropped[4:]


def variants(term: str) -> Iterator[Tuple[str, str]]:
    """(kind, variant) of one vocabulary term."""
    words = term.split()
    letters = [w for w in words if w.isalpha() and len(w) >= 5]
    if letters:
        longest = max(letters, key=len)
        for kind, typo in _edits(longest):
            if typo != longest:
                yield kind, " ".join(typo if w == longest else w for w in words)
    if len(words) == 2 and all(w.isalpha() for w in words):
        yield "joined", "".join(words)
    if len(words) == 1 and words[0].isalpha() and len(words[0]) >= 8:
        yield "split", words[0][:len(words[0]) // 2] + " " + words[0][len(words[0]) // 2:]


def cases(kb: KnowledgeBase) -> Iterator[Tuple[str, str, str, str]]:
    """(class, entity, canonical id, text) for every variant of every safety term."""
    absolute = {c["id"] for c in kb.entries["conditions"] if c["severity"] == "absolute"}
    english = english_words()
    for entity, canonical, term in kb.synonyms():
        if not (entity == "red_flag" or (entity == "condition" and canonical in absolute)):
            continue
        for kind, variant in variants(term):
            changed = [w for w in variant.split() if w not in term.split()]
            if kind not in ("joined", "split") and any(w in english or normalise_word(w) in english for w in changed):
                yield canonical, entity, canonical, ""  # a real word: not counted as a typo
                continue
            sentence = TEMPLATE.format(variant)
            yield canonical, entity, canonical, sentence
        yield canonical, entity, canonical, TEMPLATE.format(term).title()
        yield canonical, entity, canonical, TEMPLATE.format(term).upper()


def evaluate(kb: KnowledgeBase, matcher: VocabularyMatcher) -> Tuple[Dict[str, TypoScore], List[str]]:
    scores: Dict[str, TypoScore] = defaultdict(TypoScore)
    missed: List[str] = []
    for label, entity, canonical, text in cases(kb):
        if not text:
            scores[label].real_words += 1
            continue
        scores[label].total += 1
        found = any(m.entity == entity and m.value == canonical and not m.role for m in matcher.find(text))
        scores[label].found += found
        if not found:
            missed.append(f"{label}: {text}")
    return dict(scores), missed


def main() -> None:
    from bot.knowledge.loader import read_knowledge_base

    kb = read_knowledge_base()
    scores, missed = evaluate(kb, VocabularyMatcher(kb.synonyms()))
    total = TypoScore(sum(s.found for s in scores.values()), sum(s.total for s in scores.values()),
                      sum(s.real_words for s in scores.values()))
    for label, score in sorted(scores.items()):
        print(f"{label:<22} {score.found:>4}/{score.total:<4} recall {score.recall:.3f}"
              f"  (left out as real words: {score.real_words})")
    print(f"{'all':<22} {total.found:>4}/{total.total:<4} recall {total.recall:.3f}  (real words: {total.real_words})")
    for line in missed:
        print(f"  missed {line}")


if __name__ == "__main__":
    main()
