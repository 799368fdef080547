"""bot/analytics: which events count as what, and the figures kept per day and channel
(SQLite here; PostgreSQL in the stack tests)."""
from __future__ import annotations

import sqlalchemy as sa

from bot.analytics.consumer import Figures, conversations, daily, fallbacks, report_html
from bot.analytics.figures import count
from tests.safety.crisis_sets import crisis_cases

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



def test_an_event_delivered_twice_is_counted_once() -> None:
    """The outbox relay publishes at least once: the same event_id again changes nothing."""
    figures = Figures(sa.create_engine("sqlite://", future=True))
    fallback = dict(user("c", "do you do cupping", "nlu_fallback", "web"), event_id="41")
    for event in (fallback, fallback, dict(fallback, event_id="42")):
        figures.record(event)
    (day,) = figures.report(days=100000)["days"].values()
    assert day["web"]["fallbacks"] == 2 and day["web"]["conversations"] == 1


def crisis(tier: str, role: str = "") -> dict:
    entity = {"entity": "crisis", "value": tier, "start": 0, "end": 5}
    return dict(entity, role=role) if role else entity


def said(tier: str) -> str:
    """A message from someone in crisis, from the crisis set (tests/safety/crisis_set.yml)."""
    return next(c["text"] for c in crisis_cases() if c["tier"] == tier and c["about"] == "self")


def test_crisis_replies_are_counted_by_tier_and_their_text_is_never_kept() -> None:
    counted = count(user("a", said("suicide"), "report_crisis", entities=[crisis("suicide")]), set(), None)
    assert counted.metrics == ["crisis_replies", "crisis_suicide"] and counted.private
    assert counted.fallback_text is None
    # Someone else's crisis gets a crisis reply too; the most urgent tier of a message counts.
    both = [crisis("abuse"), crisis("danger_now", role="other")]
    assert count(user("a", "...", "report_crisis", entities=both), set(), None).metrics == \
        ["crisis_replies", "crisis_danger_now"]
    assert count(user("a", "...", "report_crisis"), set(), None).metrics == ["crisis_replies"]
    # Ordinary talk with the same words is not a crisis, and stays a fallback text if unanswered.
    knot = count(user("a", "this knot is killing me", "nlu_fallback"), set(), None)
    assert knot.metrics == ["fallbacks"] and knot.fallback_text == "this knot is killing me" and not knot.private
    # A crisis message the NLU sent to the fallback (a model without the crisis layer) is not kept.
    missed = count(user("a", said("suicide"), "nlu_fallback"), set(), None)
    assert missed.metrics == ["fallbacks"] and missed.fallback_text is None and missed.private
    fallback = {"event": "action", "name": "action_default_fallback", "timestamp": T}
    assert count(fallback, set(), said("abuse")).fallback_text is None
    assert count(fallback, set(), "what about reiki").fallback_text == "what about reiki"


def test_the_report_counts_crisis_replies_per_day_channel_and_tier_and_keeps_no_text() -> None:
    figures = Figures(sa.create_engine("sqlite://", future=True))
    for event in [user("a", "hi", "greet", "web"),
                  user("a", said("abuse"), "report_crisis", "web", [crisis("abuse")]),
                  {"event": "bot", "sender_id": "a", "timestamp": T, "text": "I'm sorry this is happening.",
                   "data": {"buttons": [{"title": "Delete this conversation", "payload": "/delete_conversation"}]}},
                  # Whatever follows, the crisis message is not kept as "the message before a fallback".
                  {"event": "action", "name": "action_default_fallback", "sender_id": "a", "timestamp": T},
                  user("b", said("danger_now"), "report_crisis", "kiosk", [crisis("danger_now")]),
                  user("c", said("suicide"), "nlu_fallback", "telegram"),
                  user("d", "what about reiki", "nlu_fallback", "kiosk")]:
        figures.record(event)
    report = figures.report(days=100000)
    (day,) = report["days"]
    web, kiosk = report["days"][day]["web"], report["days"][day]["kiosk"]
    assert (web["crisis_replies"], web["crisis_abuse"], web["crisis_suicide"], web["crisis_danger_now"]) == (1, 1, 0, 0)
    assert (kiosk["crisis_replies"], kiosk["crisis_danger_now"], kiosk["crisis_abuse"]) == (1, 1, 0)
    assert report["days"][day]["telegram"]["crisis_replies"] == 0  # no crisis reply was given there
    assert report["unanswered"] == [{"text": "what about reiki", "count": 1}]
    assert "a" not in figures.last_user_text and "c" not in figures.last_user_text
    with figures.engine.connect() as c:
        kept = " ".join(str(v) for table in (fallbacks, conversations, daily)
                        for row in c.execute(sa.select(table)) for v in row)
    assert not any(said(tier) in kept for tier in ("abuse", "danger_now", "suicide"))
    page = report_html(report)
    assert "crisis replies" in page and "crisis: abuse" in page and said("abuse") not in page


def test_the_purge_removes_crisis_messages_kept_before_the_crisis_layer() -> None:
    figures = Figures(sa.create_engine("sqlite://", future=True))
    with figures.engine.begin() as c:
        for text in (said("suicide"), "this knot is killing me"):
            c.execute(fallbacks.insert().values(day="2026-01-01", channel="web", text=text))
    figures.purge(0)
    with figures.engine.connect() as c:
        assert [r.text for r in c.execute(sa.select(fallbacks.c.text))] == ["this knot is killing me"]
