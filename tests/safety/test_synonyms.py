"""Each synonym names its own condition: none is a word that only describes another one.

"my diabetes is uncontrolled" is about diabetes; had "uncontrolled" alone been a synonym of a
severe heart condition, the person would have been told massage is unsafe for their heart.
"""
from __future__ import annotations

from typing import Dict, List

# Words that describe how a condition is (its degree, control or timing), never which one it is.
DESCRIBING_WORDS = {
    "uncontrolled", "controlled", "untreated", "treated", "high", "low", "severe", "mild", "very", "really",
    "bad", "chronic", "acute", "recent", "new", "old", "raised", "elevated", "dangerously", "slightly", "bit",
    "always", "quite", "well", "not", "under", "control", "out", "of", "is", "my", "the", "a", "an", "been",
    "has", "on", "side", "runs", "sky", "roof", "through", "getting", "worse", "better", "again", "still",
}


def _conditions(knowledge_base) -> Dict[str, List[str]]:
    return {c["id"]: [str(s).lower() for s in c["synonyms"]] + [c["name"].lower()]
            for c in knowledge_base.entries["conditions"]}


def test_no_synonym_is_only_describing_words(knowledge_base) -> None:
    vague = [(cid, term) for cid, terms in _conditions(knowledge_base).items() for term in terms
             if set(term.replace(",", " ").split()) <= DESCRIBING_WORDS]
    assert vague == []


def test_every_synonym_inside_sentences_about_the_other_conditions_brings_no_third_one(knowledge_base, matcher) -> None:
    conditions = _conditions(knowledge_base)
    problems = []
    for condition, terms in conditions.items():
        for term in terms:
            if not {m.value for m in matcher.find(f"i have {term}") if m.entity == "condition"} >= {condition}:
                problems.append(f"'{term}' alone is not {condition}")
                continue
            for other, other_terms in conditions.items():
                if other == condition:
                    continue
                for sentence in (f"my {other_terms[0]} is {term}", f"i have {other_terms[0]} and {term}"):
                    found = {m.value for m in matcher.find(sentence) if m.entity == "condition" and not m.role}
                    extra = found - {condition, other}
                    if extra:
                        problems.append(f"{sentence!r}: also {sorted(extra)}")
    assert problems == []
