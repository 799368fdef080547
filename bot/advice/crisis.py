"""The crisis protocol: what the assistant says to someone who may not be safe, and after.

Pure: takes the crisis the NLU found (the `crisis` entity), the spa's country resources and the
wording from the knowledge base, and returns the reply. The protocol, published in the README:

- danger now (an overdose taken, a plan with the means at hand, someone hurting them now): the
  emergency number first, then the crisis line; nothing else;
- suicidal thoughts or self-harm: a short, warm reply, the crisis line, the emergency number if
  they might act on it, and a person at the spa; no massage content and no disclaimer before it;
- someone hurting them at home: the emergency number if in danger now and the abuse line, worded
  so it is safe if someone else reads the screen, with a way to delete the conversation;
- afterwards the conversation stays gentle: every message is answered, but nothing offers a
  booking or suggests a technique until the person asks for a booking, and the crisis line is
  repeated once with the next answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

DANGER_NOW, SUICIDE, ABUSE = "danger_now", "suicide", "abuse"
# Most urgent first: a message that speaks of several gets the most urgent reply.
TIER_ORDER = (DANGER_NOW, SUICIDE, ABUSE)
CRISIS_ENTITY = "crisis"
OTHER_PERSON = "other"
DELETE_PAYLOAD = "/delete_conversation"
# Intents with which a person asks for a booking themselves: after a crisis reply, from then on
# their answers keep their offers. Everything else is answered (a description of how they feel
# still gets its advice) without booking invitations or technique suggestions.
ASKS_FOR_BOOKING = {"book_session", "change_booking"}


@dataclass(frozen=True)
class Crisis:
    tier: str
    about_someone_else: bool = False

    @property
    def message_key(self) -> str:
        return self.tier + ("_other" if self.about_someone_else else "")


@dataclass(frozen=True)
class CrisisReply:
    text: str
    buttons: Tuple[Dict[str, str], ...] = ()


def crisis_in(entities: Sequence[Mapping[str, Any]]) -> Optional[Crisis]:
    """The most urgent crisis among a message's entities; the person's own before someone else's."""
    found = [
        Crisis(str(e["value"]), e.get("role") == OTHER_PERSON)
        for e in entities if e.get("entity") == CRISIS_ENTITY and e.get("value") in TIER_ORDER
    ]
    if not found:
        return None
    return min(found, key=lambda c: (TIER_ORDER.index(c.tier), c.about_someone_else))


def spa_contact(spa: Mapping[str, str]) -> str:
    """"the team at <spa>: call <phone>": a person the writer can talk to."""
    line = f"the team at {spa.get('name') or 'the spa'}: call {spa['phone']}"
    if spa.get("hours"):
        line += f" ({spa['hours']})"
    return line


def crisis_reply(crisis: Crisis, resources: Any, messages: Mapping[str, str], spa: Mapping[str, str]
                 ) -> CrisisReply:
    """The whole reply to a crisis message: the wording from the knowledge base, filled in."""
    text = _fill(messages[crisis.message_key], resources, spa)
    buttons: Tuple[Dict[str, str], ...] = ()
    if crisis.tier == ABUSE and not crisis.about_someone_else:
        buttons = ({"title": "Delete this conversation", "payload": DELETE_PAYLOAD},)
    return CrisisReply(" ".join(text.split()), buttons)


def reminder(resources: Any, messages: Mapping[str, str], spa: Mapping[str, str]) -> str:
    """The crisis line again, said once with the next answer after a crisis reply."""
    return " ".join(_fill(messages["reminder"], resources, spa).split())


def _fill(template: str, resources: Any, spa: Mapping[str, str]) -> str:
    return template.format(
        emergency=resources.emergency,
        crisis_line=resources.crisis_line.rstrip("."),
        abuse_line=resources.abuse_line.rstrip("."),
        spa_contact=spa_contact(spa),
    )


def stays_gentle(intent: str) -> bool:
    """After a crisis reply, whether this message's answer must leave out offers.

    Someone who asks for a booking gets it, with its choices; anything else is answered without
    pushing a massage.
    """
    return intent not in ASKS_FOR_BOOKING
