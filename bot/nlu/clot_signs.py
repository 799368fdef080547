"""The warning signs of a deep vein thrombosis, told as a story rather than named.

"The back of my left leg feels really hot and it's way bigger than the right one" (three weeks
after a knee scope), "one leg is puffy and aches since I gave birth", "my calf is tight and twice
the size of the other one": one-sided swelling, heat or redness of a leg or calf, or one-sided
pain after surgery, childbirth, a long journey or a cast, is the warning sign of a blood clot
(NHS, "DVT (deep vein thrombosis)"; CDC, "Signs and symptoms of venous thromboembolism").

Ordinary soreness is not: both legs, both ankles at the end of a hot day, calves after a run.

Works on the matcher's spaCy doc (normalised and spelling-corrected token norms), sentence by
sentence for the leg and its signs, over the whole message for what raises the risk.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from spacy.tokens import Doc

LEG = {"calf", "calve", "leg", "thigh", "shin", "hamstring"}
SWELLING = {"swollen", "swelling", "swell", "swelled", "swells", "puffy", "puffed", "bigger", "larger", "fatter",
            "thicker", "size", "bloated", "enlarged", "fat", "huge", "massive", "double"}
HEAT = {"hot", "warm", "warmer", "hotter", "heat", "burning"}
REDNESS = {"red", "redder", "redness", "purple", "purplish", "discoloured", "discolored", "blotchy", "shiny"}
PAIN = {"pain", "painful", "ache", "aching", "achy", "hurt", "hurting", "tender", "sore", "throbbing", "throb",
        "cramping", "tight", "heavy", "agony"}
SIDES = {"left", "right", "one", "only", "other", "single", "side"}
# Together in the same sentence: "both", and exercise for pain alone.
PLURAL_LEG = "<legs>"
BOTH = {"both", "each", "either"}
EXERCISE = {"run", "running", "ran", "jog", "jogging", "workout", "training", "marathon", "gym", "squat", "hike",
            "hiking", "cycling", "spin", "skiing", "football", "soccer", "netball", "crossfit", "lifting", "sport"}
# Anywhere in the message: what makes a clot more likely.
RISKS = {
    ("surgery",), ("operation",), ("op",), ("scope",), ("arthroscopy",), ("replacement",), ("birth",),
    ("gave", "birth"), ("baby",), ("c", "-", "section"), ("csection",), ("caesarean",), ("cesarean",),
    ("postpartum",), ("postnatal",), ("delivery",), ("delivered",), ("flight",), ("flew",), ("flying",),
    ("plane",), ("long", "drive"), ("drove",), ("coach",), ("road", "trip"), ("cast",), ("in", "a", "boot"), ("walking", "boot"), ("moon", "boot"),
    ("replaced",), ("hysterectomy",), ("bed", "rest"), ("bedridden",), ("laid", "up"), ("immobile",), ("pregnant",), ("pregnancy",),
    ("clot",), ("dvt",), ("pill",), ("hospital",), ("crutche",), ("crutch",),
}
RISKS_BY_FIRST_WORD: Dict[str, List[Tuple[str, ...]]] = {}
for _risk in RISKS:
    RISKS_BY_FIRST_WORD.setdefault(_risk[0], []).append(_risk)
CLOT_WORDS = {"clot", "dvt", "thrombosis"}
SUSPICION = {"might", "maybe", "possible", "possibly", "suspect", "suspected", "worried", "scared", "scan",
             "ultrasound", "doppler"}
NEGATIONS = {"no", "not", "nothing", "without", "never", "neither", "nor", "isnt", "arent"}
BREAKS = {".", "!", "?", ";", "\n"}


def find_clot_signs(doc: Doc) -> Optional[Tuple[int, int]]:
    """(start token, end token) of the first sentence telling the warning signs, or None."""
    # "legs", "calves", "ankles": both sides, unless the sentence compares them.
    norms = [PLURAL_LEG if t.norm_ in LEG and t.lower_.endswith("s") else t.norm_ for t in doc]
    risk = _has_risk(norms)
    start = 0
    for end in range(len(norms) + 1):
        if end < len(norms) and norms[end] not in BREAKS:
            continue
        if _sentence_is_a_warning(norms, start, end, risk):
            return start, end
        start = end + 1
    return None


def _suspected_clot(words: Sequence[str]) -> bool:
    """"it might be dvt", "worried it's a clot", "waiting for a scan": a clot not yet ruled out."""
    return any(w in CLOT_WORDS for w in words) and any(w in SUSPICION for w in words)


def _has_risk(norms: Sequence[str]) -> bool:
    return any(tuple(norms[i:i + len(r)]) == r for i, norm in enumerate(norms) for r in RISKS_BY_FIRST_WORD.get(norm, ()))


def _sentence_is_a_warning(norms: Sequence[str], start: int, end: int, risk: bool) -> bool:
    words = norms[start:end]
    if _suspected_clot(words):
        return True
    if not any(w in LEG or w == PLURAL_LEG for w in words):
        return False
    signs = {kind for i, w in enumerate(words) for kind, group in
             (("swelling", SWELLING), ("heat", HEAT), ("redness", REDNESS), ("pain", PAIN))
             if w in group and not _negated(words, i)}
    if not signs:
        return False
    compared = _compared_with_the_other(words)
    if any(w in BOTH for w in words) and not compared:
        return False
    one_sided = compared or _one_side_named(words)
    strong = bool(signs & {"swelling", "heat", "redness"})
    single_leg = any(w in LEG for w in words)
    if strong and (one_sided or (risk and single_leg)):
        return True
    return "pain" in signs and one_sided and risk and not _exercise_near_a_leg(words)


def _exercise_near_a_leg(words: Sequence[str]) -> bool:
    """"my calves ache after my run": exercise within a few words of the leg explains the pain."""
    legs = [i for i, w in enumerate(words) if w in LEG or w == PLURAL_LEG]
    return any(w in EXERCISE and any(abs(i - j) <= 8 for j in legs) for i, w in enumerate(words))


def _negated(words: Sequence[str], i: int) -> bool:
    return any(w in NEGATIONS for w in words[max(0, i - 3):i])


def _compared_with_the_other(words: Sequence[str]) -> bool:
    """"bigger than the right one", "twice the size of the other", "the other one is fine"."""
    text = " ".join(words)
    return any(p in text for p in ("than the other", "than my other", "than the left", "than the right",
                                   "than my left", "than my right", "of the other", "the other one",
                                   "the other leg", "the other calf", "the other side", "only one",
                                   "just one", "one side", "that side", "that leg", "that calf"))


def _one_side_named(words: Sequence[str]) -> bool:
    """"my left calf", "one leg", "the right leg": a side right before the leg."""
    for i, word in enumerate(words):
        if word in LEG and any(w in SIDES for w in words[max(0, i - 3):i]):
            return True
        if word == PLURAL_LEG and words[max(0, i - 3):i][:2] == ["one", "of"]:
            return True
    return False


def clot_sign_spans(doc: Doc) -> List[Tuple[int, int]]:
    """The token span to report: the leg word through the last sign word of that sentence."""
    found = find_clot_signs(doc)
    if found is None:
        return []
    start, end = found
    norms = [t.norm_ for t in doc]
    legs = [i for i in range(start, end) if norms[i] in LEG | CLOT_WORDS or doc[i].norm_ in LEG]
    signs = [i for i in range(start, end) if norms[i] in SWELLING | HEAT | REDNESS | PAIN | SUSPICION]
    first, last = min(legs + signs), max(legs + signs)
    return [(first, last + 1)]
