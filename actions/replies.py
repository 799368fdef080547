"""Wording of the replies built from knowledge-base records. Plain text with light markdown."""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

from bot.advice.catalogue import Catalogue, ConditionInfo
from bot.advice.recommendation import Recommendation, join_words
from bot.knowledge import models

HEALTH_NOTICE = (
    "Just so you know: I share general information, not medical advice. "
    "If you are unsure about a health condition, please check with your doctor."
)

SMALL_TALK = {
    "greet": "Hi! I'm the massage assistant. Tell me how you feel or what you'd like to know, and I'll "
             "help you find the right massage.",
    "goodbye": "Take care, and be kind to your body. Bye for now!",
    "thanks": "You're welcome! Anything else I can help with?",
    "bot_challenge": "I'm a virtual assistant, not a person. I can answer questions about massage, and I can "
                     "put you in touch with our team whenever you like.",
}

SHORT_REPLIES = {
    "affirm": "Great. What would you like to know?",
    "deny": "No problem. Is there anything else I can help with?",
}


def button(title: str, payload: str) -> Dict[str, str]:
    return {"title": title, "payload": payload}


def entity_payload(intent: str, entity: str, value: str) -> str:
    return f'/{intent}{{"{entity}": "{value}"}}'


def contact_line(spa: Dict[str, str]) -> str:
    """How to reach a person at the spa, from the knowledge base."""
    parts = [f"call {spa['phone']}", f"email {spa['email']}"]
    line = f"You can reach the team at {spa.get('name', 'the spa')}: {' or '.join(parts)}"
    if spa.get("hours"):
        line += f" ({spa['hours']})"
    return line + "."


def technique_detail(technique: models.Technique) -> str:
    return (
        f"**{technique.name}**: {technique.summary} It {technique.effects}.\n"
        f"- Pressure: {technique.pressure}\n- Best for: {technique.good_for}"
    )


def audience_detail(audience: models.Audience, technique_names: Sequence[str]) -> str:
    return f"**{audience.name}**: {audience.description} Techniques that fit: {join_words(list(technique_names))}."


def condition_detail(condition: models.Condition) -> str:
    if condition.severity == "absolute":
        return (
            f"**{condition.name}**: no massage for now. {condition.reason} {condition.advice}"
        )
    return (
        f"**{condition.name}**: massage is possible, with care. {condition.reason} "
        f"{condition.modification}"
    )


def avoid_reply(conditions: Iterable[ConditionInfo]) -> str:
    """Why massage must wait; conditions already explained in this reply's preface are left out."""
    conditions = list(conditions)
    lines = ["I'm sorry, but a massage isn't safe for you right now."] if conditions else []
    for condition in conditions:
        lines.append(f"- **{condition.name}**: {condition.reason} {condition.advice}")
    lines.append(
        "Once that has passed, or your doctor says massage is fine, I'll gladly help you plan a session."
    )
    return "\n".join(lines)


def screening_question(catalogue: Catalogue, known: Sequence[str] = (), acknowledged: bool = False) -> str:
    """The checklist, asking only about what the person has not already told us."""
    listed = [c for c in catalogue.conditions.values() if c.id not in known]
    names = [c.name.lower() for c in listed if c.checklist]
    others = [c.name.lower() for c in listed if not c.checklist]
    mentioned = [catalogue.conditions[c].name.lower() for c in known if c in catalogue.conditions]
    if mentioned and not acknowledged:
        opening = f"Thanks for telling me about {join_words(mentioned)}. A few more safety checks first."
    elif mentioned:
        opening = "A few more safety checks before I suggest anything."
    else:
        opening = "Before I suggest anything, a quick safety check."
    text = f"{opening} Do any of these apply to you right now? " + "; ".join(names) + "."
    if others:
        text += f" Please also tell me about anything else, such as {join_words(others)}."
    return text


def screening_buttons(catalogue: Catalogue, known: Sequence[str] = ()) -> List[Dict[str, str]]:
    buttons = [
        button(c.name, entity_payload("describe_problem", "condition", c.id))
        for c in catalogue.conditions.values() if c.id not in known and c.checklist
    ]
    return buttons + [button("None of these", "/deny")]


def recommendation_reply(recommendation: Recommendation, already_said: Iterable[str] = ()) -> str:
    lines = ["Here is what I would suggest:"]
    for number, choice in enumerate(recommendation.techniques, start=1):
        lines.append(f"{number}. {choice.reason}")
    lines.append(f"**Session length:** {recommendation.length_reason}.")
    frequency = recommendation.frequency
    lines.append(f"**How often:** {frequency.cadence}. {frequency.explanation}")
    notes = [m for m in recommendation.modifications if m not in set(already_said)]
    if recommendation.avoided_areas:
        notes.append(f"The therapist will keep away from your {join_words(list(recommendation.avoided_areas))}.")
    if notes:
        lines.append("**Important:** " + " ".join(notes))
    lines.append("Would you like to know more about the first option, or shall I help you book?")
    return "\n".join(lines)


def explanation_reply(recommendation: Recommendation) -> str:
    lines = ["Here is why I suggested it:"]
    lines += [f"- {choice.reason}" for choice in recommendation.techniques]
    lines.append(f"- {recommendation.length_reason}.")
    lines.append(f"- {recommendation.frequency.cadence.capitalize()}: {recommendation.frequency.explanation}")
    if recommendation.excluded:
        lines.append("I left out the firmer techniques to keep the pressure safe and comfortable for you.")
    return "\n".join(lines)


def personal_frequency(recommendation: Recommendation) -> str:
    frequency = recommendation.frequency
    return f"For you, I'd suggest {frequency.cadence}. {frequency.explanation}"


def personal_length(recommendation: Recommendation) -> str:
    return f"For you: {recommendation.length_reason}."


def personal_pressure(technique: models.Technique) -> str:
    return f"The {technique.name.lower()} I suggested: {technique.pressure}"
