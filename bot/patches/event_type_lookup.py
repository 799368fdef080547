"""Look event classes up by type name in a dictionary instead of walking every Event subclass.

Why: rasa 3.6's `Event.resolve_by_type` (used for every event it deserialises: every turn the
SQL tracker store rebuilds the conversation from its stored events) calls
`all_subclasses(Event)`, which walks the class tree and runs `inspect.isabstract` on each of the
~35 event classes, for every single event. Under the bench's load with 100-turn conversations it
was the largest single cost of the Rasa server: 24 % of its CPU (py-spy; bench/README.md).

The answer only depends on which Event classes are imported, so a name found once is kept.
A name not yet in the dictionary falls back to the upstream function, which also sees event
classes imported later; a class already found can't be displaced by one imported later, because
upstream returns the first match and existing classes come first in `__subclasses__()` order.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the upstream source changes.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Text, Type

from rasa.shared.core.events import Event

UPSTREAM_SOURCES = {
    "rasa.shared.core.events.Event.resolve_by_type":
        "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
    "rasa.shared.utils.common.all_subclasses": "28c2e6df9c15daea296f630b83d0b2391636581164056082458a32647d6761d1",
}

UPSTREAM: Callable[..., Optional[Type[Event]]] = Event.__dict__.get(
    "_upstream_resolve_by_type", Event.__dict__["resolve_by_type"]
).__func__
_found: Dict[Text, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Drop-in for `Event.resolve_by_type`: same class, same `None`/default/ValueError otherwise."""
    cls = _found.get(type_name)
    if cls is not None:
        return cls
    cls = UPSTREAM(type_name, default)
    if cls is not None and cls is not default and getattr(cls, "type_name", None) == type_name:
        _found[type_name] = cls
    return cls


def apply() -> None:
    """Install the patch (idempotent)."""
    Event._upstream_resolve_by_type = staticmethod(UPSTREAM)  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
