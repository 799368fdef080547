"""'Forget me': the person asks for their conversation to be deleted, confirms, and it is.

The deletion itself happens in the tracker store (bot/retention.py): this action sets the
`forget_requested` slot, and when Rasa saves the turn the store deletes the whole conversation
instead. That works in every channel and with SQLite and PostgreSQL alike; deleting rows from
here would be undone, because Rasa saves the tracker again after the action.

This is not a SafeAction on purpose: deleting one's data is not health advice, and it must work
even in a conversation where every answer is otherwise the urgent-care message.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.tracker_state import PENDING_QUESTION, Turn

FORGET_QUESTION = "forget"
FORGET_SLOT = "forget_requested"  # read by bot.retention.PrivateSQLTrackerStore
# Channels whose clients read the custom message and start a new conversation themselves.
WEB_CHANNELS = {"web", "kiosk", "rest"}

ASK = ("Do you want me to delete our conversation? Everything you told me in this chat will be "
       "removed from our system, including any booking request you made here. I can't undo it.")
DONE = ("Done: I've deleted our conversation from our system. If you write again, we'll start fresh.")
KEPT = "OK, I haven't deleted anything."
NOT_SURE = ("I haven't deleted anything. If you want me to, say \"delete my conversation\" and then "
            "\"yes\".")


class ActionForgetConversation(Action):
    """"Delete my conversation": asks for confirmation first."""

    def name(self) -> Text:
        return "action_forget_conversation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            text=ASK,
            buttons=[replies.button("Yes, delete it", "/affirm"), replies.button("No, keep it", "/deny")],
        )
        return [SlotSet(PENDING_QUESTION, FORGET_QUESTION)]


def forget_pending(turn: Turn) -> bool:
    return turn.slot(PENDING_QUESTION) == FORGET_QUESTION


def answer_forget_question(dispatcher: CollectingDispatcher, turn: Turn) -> List[Dict[Text, Any]]:
    """The answer to ASK: "yes" deletes the conversation when this turn is saved."""
    intent = turn.intent
    if intent == "affirm":
        dispatcher.utter_message(text=DONE)
        if turn.channel in WEB_CHANNELS:
            dispatcher.utter_message(json_message={"conversation_deleted": True})
        return [SlotSet(PENDING_QUESTION, None), SlotSet(FORGET_SLOT, True)]
    dispatcher.utter_message(text=KEPT if intent == "deny" else NOT_SURE)
    return [SlotSet(PENDING_QUESTION, None)]
