"""The one place every reply passes through: the safety preface, then the answer.

Every action the rules can choose is a `SafeAction`. Its `run` works out what the person has
told us about their own health (bot.advice.preface), sends only the urgent message for a red
flag, otherwise leads with the condition's advice, then the action's own `answer`, and removes
booking invitations and technique suggestions while massage has to wait. Small talk (greetings,
thanks, goodbye) is answered by `ActionSmallTalk`, not by domain templates, so it passes through too.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.tracker_state import CRISIS_SUPPORT, Turn
from bot.advice import crisis as crisis_protocol
from bot.advice.preface import Mode, Preface, blocks_offer, safety_preface, strip_offers
from bot.advice.safety import screen
from bot.delivery.retry import retrying_sync
from bot.knowledge import queries

# Intents that are not a question: when the message only reports a condition the knowledge base
# does not know, the reply is the "check with your doctor" advice and how to reach the team.
NOT_A_QUESTION = {
    "describe_problem", "nlu_fallback", "out_of_scope", "greet", "affirm", "deny", "thanks",
    "bot_challenge", "ask_capabilities", "goodbye", "book_session", "ask_contraindications",
}
NEEDS_ENTITIES = {"body_part", "symptom", "goal", "technique", "time_available"}
# crisis_support: the crisis reply was given ("given"), then its line repeated once ("reminded"),
# and the person asked for advice or a booking after it ("asked": their answers keep their offers).
CRISIS_GIVEN, CRISIS_REMINDED, CRISIS_ASKED = "given", "reminded", "asked"


def answer_crisis(dispatcher: CollectingDispatcher, turn: Turn) -> Optional[List[Dict[Text, Any]]]:
    """The crisis reply, when the latest message speaks of one; None otherwise.

    Before everything else on every path: nothing about massage, no disclaimer, no offers.
    """
    crisis = crisis_protocol.crisis_in(turn.entities)
    if crisis is None:
        return None
    reply = crisis_protocol.crisis_reply(crisis, *_crisis_wording())
    dispatcher.utter_message(text=reply.text, buttons=list(reply.buttons))
    return [SlotSet(CRISIS_SUPPORT, CRISIS_GIVEN)]


def crisis_line_reminder() -> str:
    """"Whenever you need it, <the spa's country's crisis line>"."""
    return crisis_protocol.reminder(*_crisis_wording())


def _crisis_wording() -> Tuple[Any, Dict[str, str], Dict[str, str]]:
    """The spa's country's crisis resources, the crisis wording and the spa (knowledge base)."""
    spa = queries.settings("spa")
    return queries.crisis_resource(spa["country"]), queries.settings("crisis_messages"), spa


def waiting_for_the_database(action: Any, dispatcher: CollectingDispatcher, turn: Turn,
                             domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """`action._run`, waiting through a restart of the knowledge base's database (STORE_RETRY_S)
    rather than turning the answer into an apology; a failed attempt's messages are dropped."""
    start = len(dispatcher.messages)
    return retrying_sync(lambda: action._run(dispatcher, turn, domain), f"answering with {action.name()}",
                         before_retry=lambda: dispatcher.messages.__delitem__(slice(start, None)))


class SafeAction(Action, metaclass=ABCMeta):
    """Base of every replying action. Subclasses implement `answer`, never `run`.

    `run` reads the tracker once into a `Turn`, and everything below it works from that value.
    Abstract, so the action server does not register the base class itself as an action.
    """

    # A question that must still be asked after a condition the knowledge base does not know
    # (the booking form's): the reply is the preface's "check with your doctor", then the question.
    keeps_its_question = False
    # The answer right after a crisis reply repeats the crisis line once (not the crisis reply itself).
    reminds_of_crisis_line = True

    def health_related(self, turn: Turn) -> bool:
        """Whether the answer is about health, so the not-medical-advice note belongs with it."""
        return False

    @abstractmethod
    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        """The reply to the latest message; the safety preface is added around it by `run`."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return self.respond(dispatcher, Turn.read(tracker), domain)

    def respond(self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """The reply with its safety preface; an action that must answer something before safety
        (the "delete our conversation?" question) overrides this, not `run`."""
        return waiting_for_the_database(self, dispatcher, turn, domain)

    def _run(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        crisis_events = answer_crisis(dispatcher, turn)
        if crisis_events is not None:
            return crisis_events
        catalogue = queries.catalogue()
        profile = turn.profile
        preface = safety_preface(list(turn.entities), profile, screen(profile, catalogue.severities), catalogue)
        if preface.mode is Mode.EMERGENCY:
            dispatcher.utter_message(text=queries.settings("emergency")["message"])
            return []
        start = len(dispatcher.messages)
        if preface.unknown and _only_reports_unknown(turn) and not self.keeps_its_question:
            events: List[Dict[Text, Any]] = []
            dispatcher.utter_message(
                text=replies.contact_line(queries.settings("spa")),
                buttons=[replies.button("Talk to a person", "/request_human")],
            )
        else:
            events = list(self.answer(dispatcher, turn, domain, preface))
        answer = dispatcher.messages[start:]
        del dispatcher.messages[start:]
        # One preface per message: the booking form asks its first question in the same turn as
        # action_advise, which has already said it.
        said = turn.replied
        if preface.lines and not said:
            dispatcher.utter_message(text=preface.text)
        if (preface.lines and not said) or self.health_related(turn):
            notice = turn.health_notice_needed()
            if notice:
                dispatcher.utter_message(text=replies.HEALTH_NOTICE)
                events.append(notice)
        support = turn.slot(CRISIS_SUPPORT)
        gentle = support in (CRISIS_GIVEN, CRISIS_REMINDED)
        asked = gentle and not crisis_protocol.stays_gentle(turn.intent)
        if not preface.allows_offers or (gentle and not asked):
            answer = [_without_offers(message) for message in answer]
        answer = [m for m in answer if m.get("text") or m.get("buttons") or m.get("response")]
        if not answer and not preface.allows_offers and not said and len(dispatcher.messages) == start:
            # The whole answer was an invitation to book ("when can I come in?"): say why not.
            answer = [{"text": replies.no_booking_for_now(queries.settings("spa"))}]
        dispatcher.messages.extend(answer)
        if support == CRISIS_GIVEN and not said and self.reminds_of_crisis_line:
            dispatcher.utter_message(text=crisis_line_reminder())
            events.append(SlotSet(CRISIS_SUPPORT, CRISIS_REMINDED))
        if asked:
            # They asked for a massage themselves: from now on, what they asked for is answered in full.
            events.append(SlotSet(CRISIS_SUPPORT, CRISIS_ASKED))
        return events


def _only_reports_unknown(turn: Turn) -> bool:
    return turn.intent in NOT_A_QUESTION and not any(
        e.get("entity") in NEEDS_ENTITIES and not e.get("role") for e in turn.entities
    )


def _without_offers(message: Dict[Text, Any]) -> Dict[Text, Any]:
    message = dict(message)
    if message.get("text"):
        message["text"] = strip_offers(message["text"])
    if message.get("buttons"):
        message["buttons"] = [b for b in message["buttons"] if not blocks_offer(b)]
    return message


class ActionSmallTalk(SafeAction):
    """Greetings, thanks, goodbye and "are you a bot?", after the safety preface like every reply."""

    def name(self) -> Text:
        return "action_small_talk"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        text = replies.SMALL_TALK.get(turn.intent)
        if text:
            dispatcher.utter_message(text=text)
        return []


class ActionEmergency(Action):
    """Urgent advice only: no recommendation, no booking, nothing else in the reply."""

    def name(self) -> Text:
        return "action_emergency"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return waiting_for_the_database(self, dispatcher, Turn.read(tracker), domain)

    def _run(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        crisis_events = answer_crisis(dispatcher, turn)
        if crisis_events is not None:
            return crisis_events
        dispatcher.utter_message(text=queries.settings("emergency")["message"])
        return []


class ActionCrisis(SafeAction):
    """The crisis reply (bot/advice/crisis.py); `SafeAction.run` gives it before anything else."""

    reminds_of_crisis_line = False

    def name(self) -> Text:
        return "action_crisis"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        # Reached only when the intent was set without a crisis entity (a typed "/report_crisis"):
        # the suicide-tier reply is the safe answer then.
        reply = crisis_protocol.crisis_reply(crisis_protocol.Crisis(crisis_protocol.SUICIDE), *_crisis_wording())
        dispatcher.utter_message(text=reply.text)
        return [SlotSet(CRISIS_SUPPORT, CRISIS_GIVEN)]
