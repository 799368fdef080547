"""Buttons on channels that have none (SMS): numbered options, and a reply of "2" picks option 2."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence


def numbered_text(text: str, buttons: Sequence[Mapping[str, Any]]) -> str:
    """The message with its buttons as a numbered list the person can answer with a number."""
    options = "\n".join(f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, 1))
    return f"{text}\nReply with a number:\n{options}" if text else f"Reply with a number:\n{options}"


def last_buttons(events: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The buttons of the assistant's latest message, if its latest message had any."""
    buttons: List[Dict[str, Any]] = []
    for event in events:
        if event.get("event") == "bot":
            buttons = list((event.get("data") or {}).get("buttons") or [])
    return buttons


def resolve_numbered_reply(text: Optional[str], buttons: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """"2" becomes the second option's payload; anything else is left as it is."""
    if text is None:
        return None
    choice = text.strip().rstrip(".")
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        return str(buttons[int(choice) - 1].get("payload") or text)
    return text
