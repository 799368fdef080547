"""Word normalisation shared by the vocabulary patterns and the messages they are matched on.

Both sides go through the same function, so "shoulders", "Shoulder" and "can't"/"cant"/"cannot"
line up without a pretrained model (none can be downloaded on the machines this runs on).
"""
from __future__ import annotations

CONTRACTION_PARTS = {
    "n't": "not", "nt": "not", "ca": "can", "wo": "will", "'m": "am", "m": "am",
    "'re": "are", "'ve": "have", "'ll": "will", "'d": "would", "'s": "s",
}
KEEP_FINAL_S = ("ss", "us", "is", "ous", "sis", "ics")


def normalise_word(word: str) -> str:
    """Lower-case, drop apostrophes and reduce plurals to a shared stem."""
    lowered = word.lower().replace("\u2019", "'")
    if lowered in CONTRACTION_PARTS:
        return CONTRACTION_PARTS[lowered]
    lowered = lowered.replace("'", "")
    if not lowered.isalpha() or len(lowered) <= 3:
        return lowered
    if lowered.endswith("ies") and len(lowered) > 4:
        return lowered[:-3] + "y"
    if lowered.endswith(("ches", "shes", "xes", "sses")):
        return lowered[:-2]
    if lowered.endswith("s") and not lowered.endswith(KEEP_FINAL_S):
        return lowered[:-1]
    return lowered


def edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein distance <= limit, with early exit; enough for typo tolerance."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous_previous: list = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return False
        previous_previous, previous = previous, current
    return previous[-1] <= limit
