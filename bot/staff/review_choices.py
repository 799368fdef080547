"""What staff may choose on the review page, and checking what they chose (pure, no I/O but
reading domain.yml and data/kb once).

Topics are the domain's intents under names a spa owner recognises, grouped; "not for us" is
Rasa's out_of_scope. Crisis and emergency are not offered: those replies are decided by rule from
the safety vocabulary in data/kb, which stays in version control with its sources. Entities the
assistant missed are the knowledge base's conditions and body parts, with the words of the
message that name them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

from bot.staff.review_models import DISMISSED, NOT_FOR_US

NOT_OFFERED = {"report_crisis", "report_emergency", "nlu_fallback", NOT_FOR_US}
GROUPS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("Their health", ("describe_problem", "ask_contraindications", "ask_pregnancy", "ask_mental_health",
                      "ask_painful", "ask_aftercare", "ask_self_massage")),
    ("Questions about massage", ("ask_what_is", "ask_benefits", "ask_physical_benefits", "ask_mental_benefits",
                                 "ask_techniques", "ask_vs_relaxation", "ask_vs_deep_tissue", "ask_who_benefits",
                                 "ask_session", "ask_session_length", "ask_frequency", "ask_first_visit",
                                 "ask_find_therapist", "ask_why", "ask_source")),
    ("Booking and the spa", ("book_session", "change_booking", "cancel_booking", "ask_price", "ask_insurance")),
    ("Conversation", ("greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "ask_capabilities",
                      "request_human", "delete_conversation")),
)
OTHER_GROUP = "Other topics"
LABELS = {
    "describe_problem": "Describes a pain, problem or goal",
    "ask_contraindications": "When massage is not safe",
    "ask_pregnancy": "Massage in pregnancy",
    "ask_mental_health": "Massage and mental health",
    "ask_painful": "Does it hurt?",
    "ask_aftercare": "After a massage (aftercare)",
    "ask_self_massage": "Massage at home (self-massage)",
    "ask_what_is": "What therapeutic massage is",
    "ask_benefits": "Benefits of massage",
    "ask_physical_benefits": "Benefits for the body",
    "ask_mental_benefits": "Benefits for the mind",
    "ask_techniques": "Techniques (Swedish, deep tissue...)",
    "ask_vs_relaxation": "Therapeutic vs relaxation massage",
    "ask_vs_deep_tissue": "Therapeutic vs deep tissue massage",
    "ask_who_benefits": "Who it helps",
    "ask_session": "What happens in a session",
    "ask_session_length": "How long a session is",
    "ask_frequency": "How often to come",
    "ask_first_visit": "First visit: what to wear, bring, expect",
    "ask_find_therapist": "Finding a good therapist",
    "ask_why": "Why that recommendation",
    "ask_source": "Where the information comes from",
    "book_session": "Wants to book",
    "change_booking": "Change a booking",
    "cancel_booking": "Cancel a booking",
    "ask_price": "Prices",
    "ask_insurance": "Insurance and payment",
    "greet": "Hello",
    "goodbye": "Goodbye",
    "thanks": "Thank you",
    "affirm": "Yes",
    "deny": "No",
    "bot_challenge": "Are you a robot?",
    "ask_capabilities": "What can you do?",
    "request_human": "Wants a person",
    "delete_conversation": "Delete my conversation",
    NOT_FOR_US: "Not for us (something a spa does not answer)",
    DISMISSED: "Don't keep it (it holds personal details)",
}
ENTITY_FIELDS = (("condition", "Condition"), ("body_part", "Body part"))
MAX_WORDS = 100


def label(intent: Optional[str]) -> str:
    """A topic's name for the owner: ours, else the knowledge base's title for it, else the
    intent's own name made readable (a topic added after this page was written)."""
    if not intent:
        return "nothing"
    if intent in LABELS:
        return LABELS[intent]
    title = topic_titles().get(intent)
    if title:
        return title
    return intent.removeprefix("ask_").replace("_", " ").capitalize()


@lru_cache(maxsize=1)
def topic_titles() -> Dict[str, str]:
    """The knowledge base's topic titles by intent (data/kb/topics.yml)."""
    from bot.knowledge.loader import read_knowledge_base

    try:
        topics = read_knowledge_base().entries.get("topics") or []
    except Exception:  # a knowledge base that does not load here still leaves the page usable
        return {}
    return {t["intent"]: t["title"] for t in topics if t.get("intent") and t.get("title")}


def topic_groups(intents: List[str]) -> List[Tuple[str, List[Tuple[str, str]]]]:
    """[(group, [(intent, label)])] for the select: the domain's intents, new ones under "Other"."""
    offered = [i for i in intents if i not in NOT_OFFERED]
    grouped, placed = [], set()
    for title, members in GROUPS:
        options = [(i, label(i)) for i in members if i in offered]
        placed |= set(members)
        if options:
            grouped.append((title, options))
    rest = sorted((i for i in offered if i not in placed), key=label)
    if rest:
        grouped.append((OTHER_GROUP, [(i, label(i)) for i in rest]))
    return grouped


def allowed_topics(intents: List[str]) -> List[str]:
    return [i for i in intents if i not in NOT_OFFERED] + [NOT_FOR_US, DISMISSED]


@lru_cache(maxsize=1)
def knowledge_entities() -> Dict[str, List[Tuple[str, str]]]:
    """{"condition": [(id, name)], "body_part": [...]} from data/kb (safety content: version control)."""
    from bot.knowledge.loader import read_knowledge_base

    kb = read_knowledge_base()
    return {kind: sorted(((e["id"], e["name"]) for e in kb.entries[kind + "s"]), key=lambda e: e[1].casefold())
            for kind, _ in ENTITY_FIELDS}


@dataclass
class Choice:
    """A filled-in review form: the topic, the entities, or what is wrong with it."""
    intent: str = ""
    entities: List[Dict[str, str]] = field(default_factory=list)
    values: Dict[str, str] = field(default_factory=dict)  # as typed, to show the form again
    error: str = ""


def read_form(form: Mapping[str, str], text: str, topics: List[str],
              known: Dict[str, List[Tuple[str, str]]]) -> Choice:
    """Check a posted review form against the message it labels."""
    values = {name: (form.get(name) or "").strip()[:MAX_WORDS]
              for name in ("intent",) + tuple(f"{k}{s}" for k, _ in ENTITY_FIELDS for s in ("", "_words"))}
    choice = Choice(intent=values["intent"], values=values)
    if choice.intent not in topics:
        choice.error = "Choose the topic this message was about."
        return choice
    if choice.intent == DISMISSED:
        return choice
    for kind, title in ENTITY_FIELDS:
        value, words = values[kind], values[f"{kind}_words"]
        if not value and not words:
            continue
        if value not in {i for i, _ in known.get(kind, [])}:
            choice.error = f"{title}: choose one from the list, or clear the words next to it."
            return choice
        if not words or not re.search(re.escape(words), text, re.IGNORECASE):
            choice.error = f"{title}: type the words of the message that name it, exactly as they appear."
            return choice
        choice.entities.append({"entity": kind, "value": value, "words": words})
    return choice
