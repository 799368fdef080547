"""bot/analytics: which events count as what, and the figures kept per day and channel
(SQLite here; PostgreSQL in the stack tests)."""
from __future__ import annotations

import sqlalchemy as sa

from bot.analytics.consumer import Figures, report_html
from bot.analytics.figures import count

T = 1_780_000_000.0  # a fixed day


def user(sender: str, text: str, intent: str, channel: str = "web", entities: list = ()) -> dict:
    return {"event": "user", "sender_id": sender, "timestamp": T, "text": text, "input_channel": channel,
            "parse_data": {"intent": {"name": intent}, "entities": list(entities)}}


def test_what_counts() -> None:
    assert count(user("a", "??", "nlu_fallback"), set(), None).metrics == ["fallbacks"]
    fever = {"entity": "condition", "value": "fever"}
    assert count(user("a", "I have a fever", "describe", entities=[fever]), {"fever"}, None).metrics == \
        ["absolute_contraindications"]
    negated = dict(fever, role="negated")
    assert count(user("a", "no fever", "describe", entities=[negated]), {"fever"}, None).metrics == []
    assert count(user("a", "chest pain", "report_emergency"), set(), None).metrics == ["red_flags"]
    assert count({"event": "action", "name": "action_handoff", "timestamp": T}, set(), None).metrics == ["handoffs"]
    offer = {"event": "bot", "timestamp": T, "text": "Would you like to know more about the first option, or shall I help you book?",
             "data": {"buttons": [{"title": "Book a session", "payload": "/book_session"}]}}
    assert count(offer, set(), None).metrics == ["recommendations", "booking_offers"]


def test_figures_per_day_and_channel_and_the_unanswered_messages() -> None:
    figures = Figures(sa.create_engine("sqlite://", future=True))
    for event in [user("a", "hi", "greet", "web"), user("a", "what about reiki", "nlu_fallback", "web"),
                  {"event": "action", "name": "action_handoff", "sender_id": "a", "timestamp": T},
                  user("b", "hello", "greet", "kiosk"), user("b", "<b>reiki</b>", "nlu_fallback", "kiosk")]:
        figures.record(event)
    report = figures.report(days=100000)
    (day,) = report["days"]
    assert report["days"][day]["web"]["conversations"] == 1 and report["days"][day]["web"]["handoffs"] == 1
    assert report["days"][day]["kiosk"]["fallbacks"] == 1
    assert {u["text"] for u in report["unanswered"]} == {"what about reiki", "<b>reiki</b>"}
    page = report_html(report)
    assert "&lt;b&gt;reiki&lt;/b&gt;" in page and "<b>reiki" not in page
