"""The emergency reply: runs whatever else the message was about."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import queries


class ActionEmergency(Action):
    """Urgent advice only: no recommendation, no booking, nothing else in the reply."""

    def name(self) -> Text:
        return "action_emergency"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=queries.settings("emergency")["message"])
        return []
