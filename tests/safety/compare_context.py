"""Our negation / other-person / time rules against medspaCy's ConText (issue 9, item 7).

Both approaches see the same thing: the vocabulary matcher's normalised doc and the spans its
PhraseMatcher (plus the age and unknown-condition finders) report. Only the decision differs:

- "ours": `VocabularyMatcher.find` as it is (NegEx-style triggers across filler words, list
  chaining, post-negation, relations and pronouns for someone else, time expressions);
- "ConText": the same mentions with their role replaced by medspaCy ConText's verdict, using the
  rules medspaCy ships (`medspacy_context` with `rules="default"`) and spaCy's rule-based
  sentencizer for its scope;
- "ConText+lists": ConText with the shipped rules plus our own word lists written as ConText
  rules (triggers, pseudo-triggers, relations and pronouns, first person ending someone else's
  scope, clause breaks), matched on our normalised words. This is what adopting ConText with a
  rule set for chat text would look like.

ConText attributes map onto the roles the profile already understands: negated -> "negated";
family (other experiencer) -> "other"; hypothetical -> "other" (not the person's condition now,
and, unlike a negation, it must not withdraw one reported earlier); historical -> "long ago"
(`days_ago` = 365 when the message gives no time itself, so only time-bound conditions pass);
uncertain ("worried about a clot") is kept, as screening is conservative. Durations ("six weeks
ago", "20 weeks pregnant") come from our own code in every column: ConText has none.

"ConText" also runs with `prune_on_target_overlap=True`: a trigger inside a vocabulary term
("cant" in "cant catch my breath") must not negate that term, and without the option medspaCy
1.3.1 lets it (its `tuple_overlaps` misses a modifier lying strictly inside a target).

The unseen set is held out: this script only measures it; nothing may be tuned to its result.

medspaCy is not a project dependency (it did not match our rules; see issue 9), so run this with
an interpreter that has it, from the repository root:

    PYENV_VERSION=3.10.13 python3.10 -m venv /tmp/medspacy-venv
    /tmp/medspacy-venv/bin/pip install -c requirements.txt spacy==3.4.4 medspacy==1.3.1 \
        SQLAlchemy==1.4.54 PyYAML          # -c: without rasa's numpy pin, numpy 2 breaks spaCy 3.4
    /tmp/medspacy-venv/bin/python -m tests.safety.compare_context          # tables + disagreements
    /tmp/medspacy-venv/bin/python -m tests.safety.compare_context --cost   # + ms/message, startup
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set

from bot.knowledge.loader import read_knowledge_base
from bot.nlu import matcher as rules
from bot.nlu.matcher import NEGATED, OTHER_PERSON, TIME_AVAILABLE, Mention, VocabularyMatcher
from bot.nlu.normalise import normalise_word
from tests.safety.evaluate import SAFETY_SET, ClassScore
from tests.safety.evaluate_unseen import UNSEEN_SET, expected, load_cases, predict

GROUPS = ("absolute", "relative", "red_flags", "unknown", "audience")
# The safety set labels conditions and red flags only; none of its messages names a condition the
# knowledge base lacks, so any "unknown" found there is false. Audiences are not labelled there.
SET_GROUPS = {"safety": GROUPS[:4], "unseen": GROUPS}
HISTORICAL_DAYS = 365
SELF = "SELF"
FAMILY = "FAMILY"


# ---------------------------------------------------------------- ConText side

def _norms(words: Sequence[str]) -> List[str]:
    return sorted({normalise_word(w) for w in words})


def chat_rules() -> list:
    """Our matcher's word lists as ConText rules, matched on the same normalised words."""
    from medspacy.context import ConTextRule

    triggers = _norms(rules.NEGATION_TRIGGERS)
    people = _norms(rules.RELATIONS | rules.OTHER_PRONOUNS)
    return [
        ConTextRule("negation trigger", "NEGATED_EXISTENCE", direction="FORWARD",
                    pattern=[{"NORM": {"IN": triggers}}]),
        ConTextRule("pseudo negation", "NEGATED_EXISTENCE", direction="PSEUDO",
                    pattern=[{"NORM": {"IN": triggers}}, {"NORM": {"IN": _norms(rules.PSEUDO_NEGATIONS)}}]),
        ConTextRule("post negation", "NEGATED_EXISTENCE", direction="BACKWARD", max_scope=4,
                    pattern=[{"NORM": {"IN": _norms(rules.POST_NEGATIONS)}}, {"NORM": {"IN": [",", ".", ";"]}}]),
        ConTextRule("someone else", FAMILY, direction="FORWARD", terminated_by={SELF},
                    pattern=[{"NORM": {"IN": people}}]),
        ConTextRule("they have", FAMILY, direction="FORWARD", terminated_by={SELF},
                    pattern=[{"NORM": "they"}, {"NORM": {"IN": _norms(rules.THEY_VERBS)}}]),
        ConTextRule("first person", SELF, direction="PSEUDO",
                    pattern=[{"NORM": {"IN": _norms(rules.FIRST_PERSON)}}]),
        ConTextRule("my own", SELF, direction="PSEUDO",
                    pattern=[{"NORM": "my"}, {"NORM": {"NOT_IN": people}}]),
        ConTextRule("clause break", "CLAUSE", direction="TERMINATE",
                    pattern=[{"NORM": {"IN": _norms(rules.CLAUSE_BREAKS)}}]),
    ]


class ContextRoles:
    """Replaces the role of each mention `VocabularyMatcher.find` returns by ConText's verdict."""

    def __init__(self, matcher: VocabularyMatcher, with_chat_rules: bool = False) -> None:
        from medspacy.context import ConText
        from spacy.pipeline import Sentencizer

        self.matcher = matcher
        self.sentencizer = Sentencizer()
        # prune_on_target_overlap: see the module docstring ("cant" in "cant catch my breath").
        self.context = ConText(matcher.nlp, name="context_chat" if with_chat_rules else "context",
                               rules="default", input_span_type="group", prune_on_target_overlap=True)
        if with_chat_rules:
            self.context.add(chat_rules())
        self._last_doc = None
        original = matcher._normalised_doc

        # Keep the doc `find` matched on (this instance only), so spans line up token for token.
        def keep_doc(text, fuzzy=False):
            doc = original(text, fuzzy)
            if fuzzy:
                self._last_doc = doc
            return doc

        matcher._normalised_doc = keep_doc

    def find(self, text: str) -> List[Mention]:
        mentions = self.matcher.find(text)
        doc = self._last_doc
        targets, judged = [], []
        for index, mention in enumerate(mentions):
            if mention.entity == TIME_AVAILABLE:
                continue
            span = doc.char_span(mention.start, mention.end, label=mention.entity)
            if span is not None:
                targets.append(span)
                judged.append(index)
        if not targets:
            return mentions
        doc = self.sentencizer(doc)
        doc.spans[self.context.span_group_name] = targets
        self.context(doc)
        out = list(mentions)
        for index, span in zip(judged, doc.spans[self.context.span_group_name]):
            out[index] = self._judged(mentions[index], span)
        return out

    @staticmethod
    def _judged(mention: Mention, span) -> Mention:
        role: Optional[str] = None
        if span._.is_negated:
            role = NEGATED
        elif span._.is_family or span._.is_hypothetical:
            role = OTHER_PERSON
        days_ago = mention.days_ago
        if span._.is_historical and days_ago is None and mention.entity == "condition":
            days_ago = HISTORICAL_DAYS
        return replace(mention, role=role, days_ago=days_ago)


# ---------------------------------------------------------------- scoring

@dataclass
class Run:
    name: str
    scores: Dict[str, ClassScore] = field(default_factory=dict)
    predictions: List[Dict[str, Set[str]]] = field(default_factory=list)


class _Finder:
    """Duck-typed matcher for `evaluate_unseen.predict`: only `find` is used."""

    def __init__(self, find: Callable[[str], List[Mention]]) -> None:
        self.find = find


def score(name: str, find: Callable[[str], List[Mention]], cases: List[Dict], severities: Dict[str, str],
          groups: Sequence[str]) -> Run:
    run = Run(name)
    finder = _Finder(find)
    for case in cases:
        found = predict(case["text"], finder, severities)  # type: ignore[arg-type]
        gold = expected(case)
        run.predictions.append(found)
        for group in groups:
            for label in gold[group] | found[group]:
                s = run.scores.setdefault(f"{group}:{label}", ClassScore(label, group))
                if label in gold[group] and label in found[group]:
                    s.tp += 1
                elif label in gold[group]:
                    s.fn += 1
                else:
                    s.fp += 1
    return run


def group_total(run: Run, group: str) -> ClassScore:
    members = [s for s in run.scores.values() if s.group == group]
    return ClassScore("all", group, *(sum(getattr(s, k) for s in members) for k in ("tp", "fp", "fn")))


def table(set_name: str, runs: Sequence[Run], groups: Sequence[str]) -> str:
    head = "| set | group | " + " | ".join(f"{r.name} R | {r.name} P" for r in runs) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(runs))]
    for group in groups:
        cells = []
        for run in runs:
            t = group_total(run, group)
            cells += [f"{t.recall:.2f} ({t.tp}/{t.tp + t.fn})", f"{t.precision:.2f} ({t.tp}/{t.tp + t.fp})"]
        lines.append(f"| {set_name} | {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def disagreements(cases: List[Dict], base: Run, other: Run, groups: Sequence[str]) -> List[str]:
    """Cases where the two runs predict differently, with which side the gold labels agree with."""
    out = []
    for case, ours, theirs in zip(cases, base.predictions, other.predictions):
        gold = expected(case)
        diffs = []
        for group in groups:
            if ours[group] != theirs[group]:
                winner = ("ours" if ours[group] == gold[group] else
                          other.name if theirs[group] == gold[group] else "neither")
                diffs.append(f"{group}: gold {sorted(gold[group])} ours {sorted(ours[group])} "
                             f"{other.name} {sorted(theirs[group])} -> {winner}")
        if diffs:
            out.append(f"  {case['text']!r}\n    " + "\n    ".join(diffs))
    return out


# ---------------------------------------------------------------- cost

def ms_per_message(find: Callable[[str], List[Mention]], texts: List[str], repeats: int = 5) -> float:
    """Median over `repeats` passes of the whole set, in milliseconds per message."""
    for text in texts:  # warm caches (typo corrections) so both sides are timed alike
        find(text)
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            find(text)
        passes.append((time.perf_counter() - start) * 1000 / len(texts))
    return statistics.median(passes)


_PROBE = """
import json, sys, time

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

t0 = time.perf_counter()
from bot.knowledge.loader import read_knowledge_base
from bot.nlu.matcher import VocabularyMatcher
t1 = time.perf_counter()
matcher = VocabularyMatcher(read_knowledge_base().synonyms())
matcher.find("no fever, my wife has a rash")
t2 = time.perf_counter()
out = {"import_s": t1 - t0, "build_s": t2 - t1, "rss_mb": rss_mb(), "modules": len(sys.modules)}
import medspacy  # noqa: F401
from tests.safety.compare_context import ContextRoles
t3 = time.perf_counter()
ContextRoles(matcher, with_chat_rules=True).find("no fever, my wife has a rash")
t4 = time.perf_counter()
out.update(medspacy_import_s=t3 - t2, context_build_s=t4 - t3, rss_after_context_mb=rss_mb(),
           modules_after_context=len(sys.modules))
print(json.dumps(out))
"""


def startup_cost(repeats: int = 3) -> Dict[str, float]:
    """Fresh interpreters: import and build time, resident memory and module count, median of `repeats`."""
    runs = []
    for _ in range(repeats):
        result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).resolve().parents[2])
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


# ---------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cost", action="store_true", help="also time ms/message, imports and memory")
    parser.add_argument("--quiet", action="store_true", help="tables only, no per-case disagreements")
    args = parser.parse_args()

    try:
        import medspacy
    except ImportError:
        print("medspacy is not installed in this interpreter; see this module's docstring.", file=sys.stderr)
        return 2

    kb = read_knowledge_base()
    severities = {c["id"]: c["severity"] for c in kb.entries["conditions"]}
    ours = VocabularyMatcher(kb.synonyms())
    shipped = ContextRoles(VocabularyMatcher(kb.synonyms()))
    listed = ContextRoles(VocabularyMatcher(kb.synonyms()), with_chat_rules=True)
    finders = (("ours", ours.find), ("ConText", shipped.find), ("ConText+lists", listed.find))
    print(f"medspacy {medspacy.__version__}, {len(shipped.context.rules)} shipped ConText rules, "
          f"{len(listed.context.rules) - len(shipped.context.rules)} rules from our lists")

    for set_name, path in (("safety", SAFETY_SET), ("unseen", UNSEEN_SET)):
        cases = load_cases(path)
        groups = SET_GROUPS[set_name]
        runs = [score(name, find, cases, severities, groups) for name, find in finders]
        print(f"\n## {set_name} set ({len(cases)} cases): recall R and precision P per group (micro)\n")
        print(table(set_name, runs, groups))
        if not args.quiet:
            for other in runs[1:]:
                lines = disagreements(cases, runs[0], other, groups)
                print(f"\n{set_name}: ours vs {other.name}, {len(lines)} cases differ")
                print("\n".join(lines))

    if args.cost:
        texts = [c["text"] for c in load_cases(SAFETY_SET)]
        print("\n## cost (safety set texts, median of 5 passes)\n")
        for name, find in finders:
            print(f"{name}: {ms_per_message(find, texts):.3f} ms/message")
        cost = startup_cost()
        print(f"startup, fresh interpreter, median of 3: import bot.nlu.matcher {cost['import_s']:.2f} s, "
              f"build matcher {cost['build_s']:.2f} s, {cost['rss_mb']:.0f} MB resident, {cost['modules']:.0f} modules")
        print(f"  + medspacy: import {cost['medspacy_import_s']:.2f} s, ConText build {cost['context_build_s']:.2f} s, "
              f"+{cost['rss_after_context_mb'] - cost['rss_mb']:.0f} MB resident, "
              f"+{cost['modules_after_context'] - cost['modules']:.0f} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
