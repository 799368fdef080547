"""Find knowledge-base terms in free text, with negation, third persons and time.

Pure spaCy (blank English tokenizer + PhraseMatcher), no Rasa: the Rasa component in
`kb_entity_extractor.py` wraps it, and the safety and recommendation logic can use it directly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.nlu.clot_signs import clot_sign_spans
from bot.nlu.health_terms import SENIOR_AGE, find_ages, find_unknown_conditions
from bot.nlu.normalise import normalise_word
from bot.nlu.spelling import Speller

NEGATED = "negated"
OTHER_PERSON = "other"

NEGATION_TRIGGERS = {"no", "not", "never", "without", "none", "neither", "nor", "negative", "denies"}
PSEUDO_NEGATIONS = {"sure", "certain", "know", "only", "just", "idea", "until", "stop", "because"}
NEGATION_FILLERS = {
    "have", "had", "has", "having", "got", "get", "getting", "any", "a", "an", "the", "my", "been",
    "be", "am", "is", "are", "was", "were", "diagnosed", "with", "suffer", "suffering", "from",
    "really", "currently", "ever", "yet", "sign", "signs", "of", "history", "feel", "feeling",
    "some", "think", "i", "do", "does", "did", "anymore", "symptom", "problem", "issue", "on",
    "taking", "kind", "type", "sort", "like", "recent", "recently", "high", "serious", "major",
    "current", "active", "known", "injury", "so", "far", "that", "this", "these", "those",
}
# Words that continue a negated list: "no fever, rash or any kind of clot". "and" is left out on
# purpose: "no fever and a rash" must keep the rash.
CHAIN_JOINERS = {"or", "nor", ",", "/", "any", "kind", "of", "type", "sort"}
ARTICLES = {"a", "an", "the", "my"}
POST_NEGATIONS = {"no", "none", "negative", "free"}
CLAUSE_BREAKS = {".", "!", "?", ";", "but", "however", "though", "although", "except"}
FIRST_PERSON = {"i", "am", "me", "myself", "mine"}
OTHER_PRONOUNS = {"she", "he", "her", "his", "their"}
# "they" is often impersonal ("they found a clot"): only "they have/are..." names someone else.
THEY_VERBS = {"have", "has", "had", "are", "is", "were", "was", "got"}
RELATIONS = {
    "wife", "husband", "partner", "sister", "brother", "mom", "mum", "mother", "dad", "father",
    "friend", "son", "daughter", "boss", "colleague", "coworker", "girlfriend", "boyfriend",
    "kid", "child", "children", "aunt", "uncle", "grandma", "grandpa", "grandmother",
    "grandfather", "cousin", "client", "neighbour", "neighbor", "niece", "nephew", "fiance",
    "fiancee", "roommate", "parent", "parents", "baby", "spouse", "sibling", "teammate", "mate",
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "few": 3, "couple": 2, "several": 4,
}
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
RELATIVE_DAYS = {("yesterday",): 1, ("last", "week"): 7, ("last", "month"): 30, ("last", "year"): 365,
                 ("this", "week"): 3, ("today",): 0, ("recently",): 14, ("month", "ago"): 60,
                 ("year", "ago"): 730, ("when", "i", "was", "a", "kid"): 5000,
                 ("when", "i", "was", "a", "child"): 5000, ("when", "i", "was", "young"): 5000,
                 ("as", "a", "kid"): 5000, ("as", "a", "child"): 5000, ("long", "time", "ago"): 1000}
TRIMESTERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
MAX_TEXT_CHARS = 5000
TIME_AVAILABLE = "time_available"
CLOT_SIGNS = "calf_clot_signs"
# A term's last word, and the words after it that make it an idiom rather than a health matter.
IDIOMS_BY_LAST_WORD = {"sick": {("of",), ("and", "tired"), ("to", "death"), ("to", "the", "back")}}
SAFETY_ENTITIES = {"condition", "red_flag"}
PANIC_WORDS = {"panicking", "hyperventilating", "hyperventilate"}
UNKNOWN_CONDITION = "unknown_condition"
MINUTE_WORDS = {"min", "mins", "minute", "minutes"}
HOUR_PHRASES = {("half", "an", "hour"): 30, ("half", "hour"): 30, ("an", "hour"): 60, ("one", "hour"): 60,
                ("1", "hour"): 60, ("hour", "and", "a", "half"): 90}


@dataclass(frozen=True)
class Mention:
    """One knowledge-base term found in a message."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    role: Optional[str] = None
    days_ago: Optional[int] = None
    weeks: Optional[int] = None
    trimester: Optional[int] = None

    def as_entity(self, extractor: str) -> Dict[str, object]:
        """The Rasa entity dict: canonical id as value, role only when not the person's own."""
        entity: Dict[str, object] = {
            "entity": self.entity, "value": self.value, "start": self.start, "end": self.end,
            "confidence_entity": 1.0, "extractor": extractor,
        }
        if self.role:
            entity["role"] = self.role
        for key in ("days_ago", "weeks", "trimester"):
            if getattr(self, key) is not None:
                entity[key] = getattr(self, key)
        return entity


@dataclass
class _TimeExpression:
    start_token: int
    days: int
    ago: bool


class VocabularyMatcher:
    """Matches (entity, canonical id, term) triples from the knowledge base in text."""

    def __init__(self, terms: Iterable[Tuple[str, str, str]]) -> None:
        self.nlp = spacy.blank("en")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.labels: Dict[str, Tuple[str, str]] = {}
        self.words: set = set()
        patterns = [(entity, canonical, term, self._normalised_doc(term)) for entity, canonical, term in terms]
        for entity, canonical, _, pattern in patterns:
            if not len(pattern):
                continue
            label = f"{entity}|{canonical}"
            self.labels[label] = (entity, canonical)
            self.matcher.add(label, [pattern])
            self.words.update(t.norm_ for t in pattern)
        # Two-word terms written as one ("bloodclot", "bloodthinners") match too.
        self._joined_forms: set = set()
        for entity, canonical, term, _ in patterns:
            if len(term.split()) == 2 and all(w.isalpha() for w in term.split()):
                joined = self._normalised_doc(term.replace(" ", ""))
                if len(joined) == 1:
                    self.matcher.add(f"{entity}|{canonical}", [joined])
                    self._joined_forms.add(joined[0].norm_)
        self.words |= self._joined_forms
        self.speller = Speller(self.words, priority=_safety_words(patterns))

    def _normalised_doc(self, text: str, fuzzy: bool = False) -> Doc:
        # Tokenised in lower case: spaCy splits "can't" but not "CAN'T" (the same length, so the
        # offsets hold; the original casing stays in user_data for "ME" and "MS").
        text = text[:MAX_TEXT_CHARS]
        lowered = text.lower()
        doc = self.nlp.make_doc(lowered if len(lowered) == len(text) else text)
        doc.user_data["text"] = text
        corrections: Dict[int, str] = {}
        for token in doc:
            norm = normalise_word(token.text)
            if fuzzy and norm not in self.words:
                corrected = self.speller.correct(norm, token.lower_)
                if corrected != norm:
                    # The classifier reads words as typed: a plural stays plural ("shoulers" -> "shoulders").
                    plural = token.lower_.endswith("s") and not norm.endswith("s") and not corrected.endswith("s")
                    corrections[token.idx] = corrected + ("s" if plural else "")
                    norm = corrected
            token.norm_ = norm
        doc.user_data["corrections"] = corrections
        _merge_cannot(doc)
        if fuzzy:
            self._join_split_words(doc)
        return doc

    def _join_split_words(self, doc: Doc) -> None:
        """"hyper tension", "lymph oedema": two tokens that make one vocabulary word become one."""
        merges = []
        i = 0
        while i < len(doc) - 1:
            first, second = doc[i], doc[i + 1]
            if first.is_alpha and second.is_alpha and first.whitespace_:
                joined = normalise_word(first.text + second.text)
                # Two known words stay two ("heart attack symptoms" is a phrase of its own), unless
                # together they are a one-word term ("lymph oedema").
                halves_known = first.norm_ in self.words and second.norm_ in self.words
                if halves_known and joined in self._joined_forms:
                    joined = ""
                if joined in self.words and len(joined) >= 6:
                    merges.append((i, joined))
                    i += 2
                    continue
            i += 1
        if merges:
            with doc.retokenize() as retokenizer:
                for start, norm in merges:
                    retokenizer.merge(doc[start:start + 2], attrs={"NORM": norm})

    def find(self, text: str) -> List[Mention]:
        """All mentions, longest match first on overlap, in text order."""
        return self.read(text)[0]

    def read(self, text: str) -> Tuple[List[Mention], str]:
        """The mentions, and the text with its misspelled vocabulary words corrected ("pregant"
        -> "pregnant"), so the intent classifier reads the message the same way."""
        doc = self._normalised_doc(text, fuzzy=True)
        return self._mentions(doc), _corrected_text(doc)

    def _mentions(self, doc: Doc) -> List[Mention]:
        spans = [Span(doc, s, e, label=m) for m, s, e in self.matcher(doc)]
        spans = sorted(filter_spans(spans), key=lambda span: span.start)
        spans = [span for span in spans if not _idiom(doc, span)]
        times = _time_expressions(doc)
        mentions: List[Mention] = _time_available(doc)
        for span in spans:
            entity, value = self.labels[self.nlp.vocab.strings[span.label]]
            role = None
            if _is_negated(doc, span, spans, mentions):
                role = NEGATED
            elif _is_about_someone_else(doc, span):
                role = OTHER_PERSON
            mention = Mention(entity, value, span.start_char, span.end_char, span.text, role)
            if entity == "condition":
                mention = _with_time(doc, span, mention, times)
            mentions.append(mention)
        mentions += _health_mentions(doc, spans)
        if not any(m.value == CLOT_SIGNS for m in mentions):
            mentions += _clot_sign_mentions(doc)
        mentions = _without_panic_breathing(doc, mentions)
        original = doc.user_data["text"]
        return sorted((replace(m, text=original[m.start:m.end]) for m in mentions), key=lambda m: m.start)


def _without_panic_breathing(doc: Doc, mentions: List[Mention]) -> List[Mention]:
    """Fast breathing in a panic attack is frightening, not an emergency in itself: without chest
    pain (or another red flag), breathing trouble told with a panic attack is not a red flag. The
    mental-health answer still says when breathing trouble needs urgent help."""
    norms = [t.norm_ for t in doc]
    panic = any(n in PANIC_WORDS or (n in {"panic", "anxiety"} and i + 1 < len(norms) and norms[i + 1] == "attack")
                for i, n in enumerate(norms))
    flags = {m.value for m in mentions if m.entity == "red_flag"}
    if not panic or flags - {"breathing_trouble"}:
        return mentions
    return [m for m in mentions if not (m.entity == "red_flag" and m.value == "breathing_trouble")]


def _corrected_text(doc: Doc) -> str:
    """The message (lower case) with each corrected word replaced by its vocabulary word."""
    corrections: Dict[int, str] = doc.user_data.get("corrections") or {}
    text = doc.text
    if not corrections:
        return text
    parts: List[str] = []
    position = 0
    for token in doc:
        if token.idx in corrections:
            parts.append(text[position:token.idx] + corrections[token.idx])
            position = token.idx + len(token.text)
    return "".join(parts) + text[position:]


def _merge_cannot(doc: Doc) -> None:
    """"can't", "cannot", "can not" and "cant" all read as one word, in the terms and the messages
    alike, so a typo of "cannot" still matches "cannot breathe"."""
    pairs = [i for i in range(len(doc) - 1) if doc[i].norm_ == "can" and doc[i + 1].norm_ == "not"]
    if not pairs:
        return
    with doc.retokenize() as retokenizer:
        for i in pairs:
            retokenizer.merge(doc[i:i + 2], attrs={"NORM": "cannot"})


def _safety_words(patterns: Sequence[Tuple[str, str, str, Doc]]) -> Set[str]:
    """Words typos lean to: one-word conditions and red flags ("wound", "chills"), and words of
    longer ones that no other kind of term uses."""
    safety: Set[str] = set()
    single: Set[str] = set()
    other: Set[str] = set()
    for entity, _, term, pattern in patterns:
        words = {t.norm_ for t in pattern if t.norm_.isalpha() and len(t.norm_) >= 3}
        (safety if entity in SAFETY_ENTITIES else other).update(words)
        if entity in SAFETY_ENTITIES and len(words) == 1 and len(term.split()) == 1:
            single.update(words)
    return (safety - other) | single


def _idiom(doc: Doc, span: Span) -> bool:
    """"sick of my job", "sick and tired": a term used as an idiom, by the word after it."""
    after = tuple(t.norm_ for t in doc[span.end:span.end + 3])
    return any(after[:len(words)] == words for words in IDIOMS_BY_LAST_WORD.get(doc[span.end - 1].norm_, ()))


def _clot_sign_mentions(doc: Doc) -> List[Mention]:
    """A blood clot's warning signs told as a story (bot/nlu/clot_signs.py), as the red flag."""
    found = []
    for start, end in clot_sign_spans(doc):
        span = doc[start:end]
        role = OTHER_PERSON if _is_about_someone_else(doc, doc[start:start + 1]) else None
        found.append(Mention("red_flag", CLOT_SIGNS, span.start_char, span.end_char, span.text, role))
    return found


def _health_mentions(doc: Doc, spans: Sequence[Span]) -> List[Mention]:
    """A senior's age as the audience, and conditions the vocabulary does not know."""
    found: List[Mention] = []
    for start, end, age in find_ages(doc):
        if age >= SENIOR_AGE:
            span = doc[start:end]
            stated_by_them = doc[start].norm_ in {"i", "im"}
            role = OTHER_PERSON if not stated_by_them and _is_about_someone_else(doc, span) else None
            found.append(Mention("audience", "senior", span.start_char, span.end_char, span.text, role))
    for unknown in find_unknown_conditions(doc, [(s.start, s.end) for s in spans]):
        span = doc[unknown.start:unknown.end]
        role = NEGATED if _is_negated(doc, span, [], []) else (
            OTHER_PERSON if _is_about_someone_else(doc, span) else None)
        found.append(Mention(UNKNOWN_CONDITION, unknown.value, span.start_char, span.end_char, span.text, role))
    return found


def _clause_start(doc: Doc, index: int) -> int:
    for i in range(index - 1, -1, -1):
        if doc[i].norm_ in CLAUSE_BREAKS:
            return i + 1
    return 0


def _clause_end(doc: Doc, index: int) -> int:
    for i in range(index, len(doc)):
        if doc[i].norm_ in CLAUSE_BREAKS:
            return i
    return len(doc)


def _is_negated(doc: Doc, span: Span, spans: Sequence[Span], earlier: Sequence[Mention]) -> bool:
    """NegEx-style, but only across filler words, so "can't walk because of a clot" stays a clot."""
    after = [t.norm_ for t in doc[span.end:span.end + 3] if t.norm_ not in {":", "-", "?"}]
    if after and after[0] in POST_NEGATIONS and (len(after) == 1 or after[0] == "free" or after[1] in {",", ".", ";"}):
        return True
    previous = {s.end: (s, m) for s, m in zip(spans, earlier)}
    i = span.start - 1
    steps = 0
    while i >= 0 and steps < 8:
        norm = doc[i].norm_
        if i + 1 in previous:
            prior_span, prior = previous[i + 1]
            joiners = {doc[k].norm_ for k in range(prior_span.end, span.start)}
            return prior.role == NEGATED and joiners <= CHAIN_JOINERS | ARTICLES
        if norm in NEGATION_TRIGGERS:
            following = doc[i + 1].norm_ if i + 1 < len(doc) else ""
            return following not in PSEUDO_NEGATIONS
        if norm not in NEGATION_FILLERS and norm not in CHAIN_JOINERS:
            return False
        i -= 1
        steps += 1
    return False


def _is_about_someone_else(doc: Doc, span: Span) -> bool:
    """The last person named before the mention, in its clause, is someone other than the user."""
    start = _clause_start(doc, span.start)
    for i in range(span.start - 1, start - 1, -1):
        norm = doc[i].norm_
        if norm in RELATIONS or norm in OTHER_PRONOUNS:
            return True
        if norm == "they" and i + 1 < len(doc) and doc[i + 1].norm_ in THEY_VERBS:
            return True
        if norm in FIRST_PERSON or (norm == "my" and (i + 1 >= len(doc) or doc[i + 1].norm_ not in RELATIONS)):
            return False
    return False


def _number(token_norm: str) -> Optional[int]:
    if token_norm.isdigit():
        return int(token_norm)
    return NUMBER_WORDS.get(token_norm)


def _time_expressions(doc: Doc) -> List[_TimeExpression]:
    found: List[_TimeExpression] = []
    norms = [t.norm_ for t in doc]
    this_year = date.today().year
    for i, norm in enumerate(norms):
        for phrase, days in RELATIVE_DAYS.items():
            if tuple(norms[i:i + len(phrase)]) == phrase:
                found.append(_TimeExpression(i, days, ago=True))
        if len(norm) == 4 and norm.isdigit() and 1930 <= int(norm) < this_year:
            found.append(_TimeExpression(i, (this_year - int(norm)) * 365, ago=True))
        unit = UNIT_DAYS.get(norm)
        if unit is None or i == 0:
            continue
        j = i - 1
        if norms[j] == "of" and j > 0:
            j -= 1
        count = _number(norms[j])
        if count is None:
            continue
        ago = i + 1 < len(norms) and norms[i + 1] in {"ago", "back"}
        found.append(_TimeExpression(j, count * unit, ago=ago))
    return found


def _with_time(doc: Doc, span: Span, mention: Mention, times: Sequence[_TimeExpression]) -> Mention:
    """Attach how long ago (or how many weeks pregnant) from the same clause."""
    start, end = _clause_start(doc, span.start), _clause_end(doc, span.end)
    near = [t for t in times if start <= t.start_token < end]
    norms = [t.norm_ for t in doc]
    changes: Dict[str, Optional[int]] = {}
    if mention.value == "pregnancy":
        for i in range(max(start, span.start - 1), min(end, span.end + 1)):
            if norms[i] in TRIMESTERS and i + 1 < len(norms) and norms[i + 1] == "trimester":
                changes["trimester"] = TRIMESTERS[norms[i]]
        durations = [t for t in near if not t.ago]
        if durations:
            weeks = max(1, durations[0].days // 7)
            changes["weeks"] = weeks
            changes.setdefault("trimester", 1 if weeks <= 13 else 2 if weeks <= 27 else 3)
    else:
        past = [t for t in near if t.ago]
        if past:
            nearest = min(past, key=lambda t: abs(t.start_token - span.start))
            changes["days_ago"] = nearest.days
    if not changes:
        return mention
    return Mention(**{**mention.__dict__, **changes})



def _time_available(doc: Doc) -> List[Mention]:
    """"I only have 30 minutes", "half an hour", "an hour": how long the person can stay."""
    found: List[Mention] = []
    norms = [t.norm_ for t in doc]
    for i, norm in enumerate(norms):
        if norm in MINUTE_WORDS and i > 0 and norms[i - 1].isdigit() and 10 <= int(norms[i - 1]) <= 180:
            found.append(Mention(TIME_AVAILABLE, norms[i - 1], doc[i - 1].idx, doc[i].idx + len(doc[i]),
                                 doc[i - 1:i + 1].text))
            continue
        for phrase, minutes in HOUR_PHRASES.items():
            if tuple(norms[i:i + len(phrase)]) == phrase and (i == 0 or norms[i - 1] != "half"):
                span = doc[i:i + len(phrase)]
                found.append(Mention(TIME_AVAILABLE, str(minutes), span.start_char, span.end_char, span.text))
    return found
