"""Each message is handled once per conversation, identified by its message id.

The channels set `UserMessage.message_id` from what the client or the messaging app sends (the
widget's and kiosk's id per message, kept across "Try again"; REST's optional `message_id`;
Twilio's MessageSid, Telegram's update_id, Slack's event_id). Rasa stores it with the user's
event. `handle` takes the conversation's lock, reads the stored conversation, and when that id is
already there answers with the replies stored after it instead of running the turn again. The
check lives in the shared tracker store, under the shared lock, so it holds across replicas, and
it expires with the conversation (retention, "forget me").

A channel that sends its replies through the app's API (SMS, Telegram, Slack) sends nothing for
a duplicate: the app re-delivers a webhook when it missed the answer to the HTTP request, not the
reply, which went out already.
"""
from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

MESSAGE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:@+-]{1,128}$")
CLIENT_ID = "_client_message_id"  # set on a UserMessage whose id came from outside
# The conversation read for the duplicate check, kept for the turn's own first read (same task,
# same lock).
read_this_turn: ContextVar[Optional[Tuple[str, Optional[DialogueStateTracker]]]] = ContextVar(
    "read_this_turn", default=None)


def valid_message_id(value: Any) -> bool:
    return isinstance(value, str) and bool(MESSAGE_ID_PATTERN.match(value))


def with_message_id(message: UserMessage, message_id: Optional[str]) -> UserMessage:
    """Give `message` the id its sender chose (ignored when it is not a valid id)."""
    if valid_message_id(message_id):
        message.message_id = message_id
        setattr(message, CLIENT_ID, True)
    return message


def has_client_id(message: UserMessage) -> bool:
    return bool(getattr(message, CLIENT_ID, False))


def replies_to(tracker: Optional[DialogueStateTracker], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The replies the conversation stored for `message_id` (as Rasa sent them), or None when it
    has not handled that message."""
    if tracker is None:
        return None
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and event.message_id == message_id:
            replies = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


async def handle(agent: Any, message: UserMessage) -> None:
    """Rasa's `Agent.handle_message`, answering a message id the conversation already handled
    from the stored conversation instead of handling it again."""
    if not agent.is_ready():
        logger.info("Ignoring a message: no model is loaded.")
        return
    async with agent.lock_store.lock(message.sender_id):
        if has_client_id(message):
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            stored = replies_to(tracker, message.message_id)
            if stored is None:
                read_this_turn.set((message.sender_id, tracker))  # the processor's read, saved
            else:
                logger.info("A %s message was sent again; answered from the stored turn.", message.input_channel)
                if isinstance(message.output_channel, CollectingOutputChannel):
                    for reply in stored:
                        await message.output_channel.send_response(message.sender_id, reply)
                return
        try:
            await agent.processor.handle_message(message)
        finally:
            read_this_turn.set(None)


def take_read(sender_id: str) -> Optional[DialogueStateTracker]:
    """The conversation as `handle` read it under this turn's lock, once (the tracker store's
    first read of the turn returns it instead of reading the database again)."""
    read = read_this_turn.get()
    if read is None or read[0] != sender_id:
        return None
    read_this_turn.set(None)
    return read[1]
