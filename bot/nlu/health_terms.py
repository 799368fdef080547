"""Two things the knowledge-base vocabulary cannot list: a person's age, and health conditions
the knowledge base has no guidance for.

- "I'm 72", "a 68 year old", "aged 80": an age of 65 or more makes the person a senior, so the
  recommendation follows the knowledge base's advice for seniors (gentle work).
- "I was diagnosed with Parkinson's", "I suffer from Crohn's", "I have ME": a condition the
  knowledge base does not know. The assistant must not ignore it or fall back; it says it has no
  specific guidance and asks the person to check with their doctor and tell the therapist.

Works on the matcher's spaCy doc (token norms from bot.nlu.normalise), so spans line up with the
vocabulary matches; a span that overlaps a knowledge-base match is never reported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc

SENIOR_AGE = 65
MIN_AGE, MAX_AGE = 13, 110

# Conditions people commonly mention that the knowledge base has no specific guidance for,
# by their normalised tokens. The value is how the reply names it.
KNOWN_UNSUPPORTED: Dict[Tuple[str, ...], str] = {
    ("parkinson",): "Parkinson's", ("parkinsons",): "Parkinson's", ("parkinson", "disease"): "Parkinson's",
    ("crohn",): "Crohn's disease", ("crohns",): "Crohn's disease", ("crohn", "disease"): "Crohn's disease",
    ("multiple", "sclerosis"): "multiple sclerosis", ("chronic", "fatigue"): "chronic fatigue syndrome",
    ("chronic", "fatigue", "syndrome"): "chronic fatigue syndrome", ("cfs",): "chronic fatigue syndrome",
    ("me", "/", "cfs"): "ME/CFS", ("myalgic", "encephalomyelitis"): "ME/CFS", ("long", "covid"): "long COVID",
    ("epilepsy",): "epilepsy", ("epileptic",): "epilepsy", ("seizure",): "seizures",
    ("asthma",): "asthma", ("asthmatic",): "asthma", ("copd",): "COPD",
    ("kidney", "disease"): "kidney disease", ("kidney", "failure"): "kidney disease", ("dialysis",): "kidney disease",
    ("kidney", "stone"): "kidney stones", ("liver", "disease"): "liver disease", ("cirrhosis",): "liver disease",
    ("hernia",): "a hernia", ("endometriosis",): "endometriosis", ("pcos",): "PCOS", ("fibroid",): "fibroids",
    ("hiv",): "HIV", ("hepatitis",): "hepatitis", ("psoriasis",): "psoriasis", ("scoliosis",): "scoliosis",
    ("ehler", "danlo"): "Ehlers-Danlos syndrome", ("ehlers", "danlos"): "Ehlers-Danlos syndrome",
    ("ehler", "-", "danlo"): "Ehlers-Danlos syndrome",
    ("hypermobility",): "hypermobility", ("hypermobile",): "hypermobility",
    ("thyroid",): "a thyroid condition", ("hypothyroidism",): "a thyroid condition",
    ("hyperthyroidism",): "a thyroid condition", ("hashimoto",): "a thyroid condition",
    ("ibs",): "IBS", ("irritable", "bowel"): "IBS", ("colitis",): "colitis",
    ("raynaud",): "Raynaud's", ("raynauds",): "Raynaud's", ("glaucoma",): "glaucoma",
    ("stenosis",): "spinal stenosis", ("spinal", "stenosis"): "spinal stenosis",
    ("coeliac",): "coeliac disease", ("celiac",): "coeliac disease", ("dementia",): "dementia",
    ("alzheimer",): "Alzheimer's", ("alzheimers",): "Alzheimer's", ("sickle", "cell"): "sickle cell disease",
    ("anaemia",): "anaemia", ("anemia",): "anaemia", ("anaemic",): "anaemia", ("anemic",): "anaemia",
    ("cerebral", "palsy"): "cerebral palsy", ("spina", "bifida"): "spina bifida",
    ("motor", "neurone", "disease"): "motor neurone disease", ("muscular", "dystrophy"): "muscular dystrophy",
    ("bell", "palsy"): "Bell's palsy", ("tinnitus",): "tinnitus",
    ("herniated", "disc"): "a herniated disc", ("slipped", "disc"): "a slipped disc", ("bulging", "disc"): "a bulging disc",
    ("disc", "herniation"): "a herniated disc", ("pinched", "nerve"): "a pinched nerve",
    ("kidney", "transplant"): "a kidney transplant", ("organ", "transplant"): "an organ transplant",
    ("neuropathy",): "neuropathy", ("osteopenia",): "osteopenia", ("sjogren",): "Sjögren's",
    ("pred",): "steroid medicine (prednisolone)", ("prednisone",): "steroid medicine (prednisone)",
    ("prednisolone",): "steroid medicine (prednisolone)", ("steroid",): "steroid medicine",
    ("bipolar",): "bipolar disorder", ("ptsd",): "PTSD", ("eating", "disorder"): "an eating disorder",
}
# Abbreviations that are also ordinary words: only counted when typed in capitals.
CAPITALISED_ONLY: Dict[str, str] = {"ME": "ME/CFS", "MS": "multiple sclerosis", "EDS": "Ehlers-Danlos syndrome",
                                    "IBS": "IBS", "POTS": "POTS", "ALS": "ALS", "MND": "motor neurone disease"}
REPORT_TRIGGERS: Tuple[Tuple[str, ...], ...] = (
    ("diagnosed", "with"), ("suffer", "from"), ("suffering", "from"), ("suffered", "from"),
    ("living", "with"), ("live", "with"), ("i", "have"), ("i", "ve"), ("ive",), ("i", "got"),
    ("i", "have", "got"), ("i", "am"), ("im",), ("have", "got"), ("told", "i", "have"),
)
DISEASE_SUFFIXES = ("itis", "osis", "oma", "pathy", "aemia", "emia", "algia", "plegia", "trophy")
DISEASE_WORDS = {"disease", "syndrome", "disorder"}
MODIFIERS = {"a", "an", "the", "some", "mild", "severe", "chronic", "bad", "early", "stage", "type", "1", "2",
             "been", "really", "quite", "pretty", "diagnosed", "with", "recently", "just", "also", "got"}
# Ordinary words ending like a disease name.
NOT_DISEASES = {"diagnosis", "prognosis", "hypnosis", "osmosis", "thrombosis", "coma", "aroma", "diploma",
                "sympathy", "empathy", "homeopathy", "osteopathy", "naturopathy", "academia", "trophy"}
AGE_UNITS_AFTER = {"year", "yr", "yo", "y/o", "years", "yrs"}
NOT_AGE_AFTER = {"week", "weeks", "month", "months", "day", "days", "minute", "minutes", "min", "mins", "hour",
                 "hours", "kg", "kilo", "lb", "lbs", "pound", "pounds", "%", "percent", "cm", "inch", "inches",
                 "foot", "feet", "ft", "mile", "miles", "km", "k", "time", "times", "am", "pm", "o'clock",
                 "oclock", ":", ".", "mg", "st", "stone", "weeks", "minutes", "session", "sessions", "massage"}


@dataclass(frozen=True)
class HealthSpan:
    start: int  # token index
    end: int
    value: str


def find_ages(doc: Doc) -> List[Tuple[int, int, int]]:
    """(start token, end token, age) for statements of age: "I'm 72", "a 68 year old", "aged 80"."""
    norms = [t.norm_ for t in doc]
    found: List[Tuple[int, int, int]] = []
    for i, norm in enumerate(norms):
        if not norm.isdigit() or not MIN_AGE <= int(norm) <= MAX_AGE:
            continue
        before = norms[max(0, i - 2):i]
        after = norms[i + 1:i + 6]
        after_words = [w for w in after if w != "-"]
        stated_age = bool(after_words) and after_words[0] in AGE_UNITS_AFTER and (
            after_words[0] in {"yo", "y/o"} or (len(after_words) > 1 and after_words[1] == "old")
        )
        introduced = (before[-1:] in (["aged"], ["age"], ["im"], ["turned"]) or before == ["i", "am"]) and not (
            after_words and after_words[0] in NOT_AGE_AFTER
        )
        if stated_age or introduced:
            end = i + 1
            while end < len(norms) and end < i + 5 and norms[end] in AGE_UNITS_AFTER | {"-", "old"}:
                end += 1
            found.append((max(0, i - len(before)) if introduced else i, end, int(norm)))
    return found


def find_unknown_conditions(doc: Doc, known: Sequence[Tuple[int, int]]) -> List[HealthSpan]:
    """Health conditions the person reports that no knowledge-base term covers."""
    norms = [t.norm_ for t in doc]
    # The message as typed (the matcher tokenises it in lower case): "ME" and "MS" need capitals.
    original = doc.user_data.get("text") or doc.text
    taken: Set[int] = {i for start, end in known for i in range(start, end)}
    found: List[HealthSpan] = []

    def free(start: int, end: int) -> bool:
        return not any(i in taken for i in range(start, end))

    for i, token in enumerate(doc):
        if i in taken:
            continue
        for length in (3, 2, 1):
            phrase = tuple(norms[i:i + length])
            name = KNOWN_UNSUPPORTED.get(phrase)
            if name and len(phrase) == length and free(i, i + length):
                found.append(HealthSpan(i, i + length, name))
                taken.update(range(i, i + length))
                break
        else:
            typed = original[token.idx:token.idx + len(token.text)]
            if typed in CAPITALISED_ONLY and _reported(norms, i):
                found.append(HealthSpan(i, i + 1, CAPITALISED_ONLY[typed]))
                taken.add(i)
            elif _looks_like_disease(norms, i) and _reported(norms, i) and free(i, i + 1):
                end = i + 1
                while end < len(norms) and norms[end] in DISEASE_WORDS:
                    end += 1
                span = doc[i:end]
                found.append(HealthSpan(i, end, original[span.start_char:span.end_char]))
                taken.update(range(i, end))
    return found


def _looks_like_disease(norms: Sequence[str], i: int) -> bool:
    word = norms[i]
    if not word.isalpha() or len(word) < 3 or word in NOT_DISEASES:
        return False
    if len(word) >= 5 and word.endswith(DISEASE_SUFFIXES):
        return True
    return i + 1 < len(norms) and norms[i + 1] in DISEASE_WORDS and word not in MODIFIERS


def _reported(norms: Sequence[str], i: int) -> bool:
    """The term follows "I have", "diagnosed with", "suffer from"... within a few modifiers."""
    j = i
    while True:
        if any(tuple(norms[max(0, j - len(t)):j]) == t for t in REPORT_TRIGGERS):
            return True
        if j == 0 or norms[j - 1] not in MODIFIERS or i - j >= 4:
            return False
        j -= 1
