"""The owner's dashboard at /staff/dashboard: how the assistant is used and what it stops.

Conversations per day and channel, the topics people ask about, safety stops and crisis
replies, fallbacks, and the booking funnel, over the last 7, 30 or 90 days (`?days=`), each chart
with its numbers as CSV at /staff/dashboard/<chart>.csv. The figures come from the tracker store
this server already writes to (bot/staff/dashboard_figures.py), are counted in a worker thread
and kept for CACHE_SECONDS, so a page view costs one count per period however often it is
reloaded, and the chat is never held up by it. No message text is ever shown.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.retention import innermost
from bot.staff import charts, render
from bot.staff.charts import BARS, COLUMNS, LINE, Chart, Series
from bot.staff.dashboard_figures import Tally, compute
from bot.staff.web import SECURITY_HEADERS, html, in_thread

logger = logging.getLogger(__name__)

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
CACHE_SECONDS = 60.0
TOP_TOPICS = 12
CHART_KEYS = ("conversations", "channels", "topics", "safety", "fallbacks", "funnel")
CHANNEL_LABELS = {"web": "Website chat", "kiosk": "Reception kiosk", "rest": "REST API", "twilio": "SMS",
                  "telegram": "Telegram", "slack": "Slack", "unknown": "Unknown"}
# Turns of the conversation rather than things asked about; safety and fallbacks have charts of their own.
NOT_TOPICS = {"greet", "goodbye", "thanks", "affirm", "deny", "nlu_fallback", "report_crisis", "report_emergency"}
TOPIC_LABELS = {
    "greet": "Greeting", "goodbye": "Goodbye", "thanks": "Thanks", "affirm": "Yes", "deny": "No",
    "delete_conversation": "Delete my conversation", "bot_challenge": "Am I talking to a bot?",
    "ask_capabilities": "What the assistant can do", "out_of_scope": "Something it does not cover",
    "request_human": "Talk to a person", "book_session": "Book a session",
    "describe_problem": "How they feel (advice)", "report_emergency": "Emergency", "report_crisis": "Crisis",
    "ask_mental_health": "Mental health", "ask_what_is": "What therapeutic massage is",
    "ask_vs_relaxation": "Versus relaxation massage", "ask_benefits": "Benefits",
    "ask_physical_benefits": "Physical benefits", "ask_mental_benefits": "Mental benefits",
    "ask_techniques": "Techniques", "ask_session": "What happens in a session",
    "ask_who_benefits": "Who it helps", "ask_frequency": "How often to come",
    "ask_contraindications": "When not to have massage", "ask_find_therapist": "Finding a therapist",
    "ask_painful": "Does it hurt?", "ask_insurance": "Insurance", "ask_vs_deep_tissue": "Versus deep tissue",
    "ask_self_massage": "Self-massage", "ask_pregnancy": "Massage in pregnancy",
    "ask_session_length": "Session length", "ask_price": "Prices", "ask_why": "Why that recommendation",
    "ask_aftercare": "Aftercare", "ask_first_visit": "First visit", "ask_source": "Where the facts come from",
    "change_booking": "Change a booking", "cancel_booking": "Cancel a booking",
    "ask_hours": "Opening hours", "ask_location": "Where the spa is", "ask_parking": "Parking",
    "ask_accessibility": "Accessibility", "ask_gift_cards": "Gift cards", "ask_packages": "Packages",
    "ask_couples": "Couples massage", "ask_payment": "Payment", "ask_age_rules": "Age rules",
    "ask_late_arrival": "Arriving late", "ask_what_to_bring": "What to bring", "ask_facilities": "Facilities",
    "ask_walk_in": "Walk-ins", "ask_booking_ahead": "How far ahead to book", "ask_waiting_list": "Waiting list",
    "request_sexual_services": "Inappropriate requests",
}
SAFETY = (("red_flags", "Red flags", "#9b1c17"), ("absolute_contraindications", "Absolute contraindications", "#b35900"),
          ("crisis_replies", "Crisis replies", "#7a3d8f"))
EMPTY_TEXT = {
    "conversations": "No conversations in this period.",
    "channels": "No conversations in this period.",
    "topics": "No questions in this period.",
    "safety": "No safety stops or crisis replies in this period.",
    "fallbacks": "No fallbacks in this period: the assistant understood every message.",
    "funnel": "No recommendations, booking offers or booking requests in this period.",
}


def topic_label(intent: str) -> str:
    """A name the owner recognises; an intent added later still reads as words."""
    if intent in TOPIC_LABELS:
        return TOPIC_LABELS[intent]
    words = intent[4:] if intent.startswith("ask_") else intent
    return words.replace("_", " ").strip().capitalize() or intent


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel.replace("_", " ").capitalize())


def parse_period(value: Optional[str]) -> Optional[int]:
    """The period asked for in days (the default when none is asked for); None when it is not one
    the page offers."""
    if value is None or value == "":
        return DEFAULT_PERIOD
    return int(value) if value in {str(p) for p in PERIODS} else None


def short_day(day: str) -> str:
    moment = date.fromisoformat(day)
    return f"{moment.day} {moment.strftime('%b')}"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


def build_charts(tally: Tally) -> List[Chart]:
    """The dashboard's charts, in the order the page shows them."""
    days, axis = tally.days, tuple(short_day(d) for d in tally.days)
    channels = sorted(tally.per_channel, key=lambda c: (-tally.per_channel[c], c))
    topics = [(i, n) for i, n in tally.intents.most_common() if i not in NOT_TOPICS]
    shown, rest = topics[:TOP_TOPICS], sum(n for _, n in topics[TOP_TOPICS:])
    topic_names = [topic_label(i) for i, _ in shown] + (["Other topics"] if rest else [])
    topic_counts = [n for _, n in shown] + ([rest] if rest else [])
    steps = (("Recommendation given", tally.recommended), ("Booking offered", tally.offered),
             ("Booking request made", tally.requested), ("Request confirmed", tally.confirmed))
    return [
        Chart("conversations", "Conversations per day",
              "Conversations each day, by the channel they came in on. A conversation that goes on over "
              "several days counts once on each of them.", COLUMNS, "Day (UTC)", days,
              tuple(Series(channel_label(c), tuple(tally.per_day.get(c, {}).get(d, 0) for d in days))
                    for c in channels), axis_labels=axis, unit="Conversations"),
        Chart("channels", "Conversations per channel",
              "How many conversations in the period came in on each channel.", BARS, "Channel",
              tuple(channel_label(c) for c in channels),
              (Series("Conversations", tuple(tally.per_channel[c] for c in channels)),),
              notes=tuple(percent(tally.per_channel[c], tally.conversations) for c in channels), note_heading="Share of conversations"),
        Chart("topics", "Topics people asked about",
              f"Messages per topic, the {TOP_TOPICS} most asked first; greetings, yes and no, safety and "
              "fallbacks are left out.", BARS, "Topic", tuple(topic_names), (Series("Messages", tuple(topic_counts)),)),
        Chart("safety", "Safety stops and crisis replies",
              "Red flags got only the urgent message; absolute contraindications were never answered with "
              "a recommendation or a booking; crisis replies gave care and a crisis line. What people wrote "
              "is never shown.", COLUMNS, "Day (UTC)", days,
              tuple(Series(name, tally.daily(metric), colour) for metric, name, colour in SAFETY),
              axis_labels=axis, unit="Times"),
        Chart("fallbacks", "Fallbacks per day",
              "Messages the assistant did not understand well enough to answer.", LINE, "Day (UTC)", days,
              (Series("Fallbacks", tally.daily("fallbacks"), "#1d4f91"),), axis_labels=axis, unit="Messages"),
        Chart("funnel", "Booking funnel",
              "Conversations that reached each step. Requests and confirmations come from the booking "
              "requests made in the period (confirmed includes those already done).", BARS, "Step",
              tuple(name for name, _ in steps), (Series("Conversations", tuple(n for _, n in steps)),),
              notes=tuple(percent(n, tally.conversations) for _, n in steps), note_heading="Share of conversations"),
    ]


def tracker_engine(app: Any) -> Optional[Engine]:
    """The database of the tracker store this server writes conversations to (SQLite by default,
    PostgreSQL in production), or None when it is not an SQL store or the assistant is still
    starting."""
    agent = getattr(app.ctx, "agent", None)
    store = innermost(getattr(agent, "tracker_store", None))
    engine = getattr(store, "engine", None)
    return engine if isinstance(engine, Engine) else None


class FigureCache:
    """Each period's tally for CACHE_SECONDS; one count at a time per period, shared by every
    request that arrives while it runs."""

    def __init__(self, seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.entries: Dict[Tuple[Any, ...], Tuple[float, Tally]] = {}
        self.pending: Dict[Tuple[Any, ...], "asyncio.Future[Tally]"] = {}

    async def get(self, key: Tuple[Any, ...], work: Callable[[], Awaitable[Tally]]) -> Tally:
        now = self.clock()
        hit = self.entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        task = self.pending.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self.pending[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)  # a visitor who leaves does not cancel the others' count

    def _finished(self, key: Tuple[Any, ...], task: "asyncio.Future[Tally]") -> None:
        self.pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        now = self.clock()
        self.entries = {k: v for k, v in self.entries.items() if now - v[0] < self.seconds}
        self.entries[key] = (now, task.result())


@dataclass
class Dashboard:
    """The dashboard's two routes, sharing one cache: the CSV of a chart is the chart just seen."""

    page: Any  # bot.staff.web.StaffPage
    cache: FigureCache

    async def tally(self, request: Request, days: int) -> Union[Tally, HTTPResponse]:
        engine = tracker_engine(request.app)
        session = self.page.session(request)
        if engine is None:
            return self.page.message("Dashboard unavailable", "The conversations cannot be read yet: the assistant "
                                     "is still starting, or it keeps conversations somewhere other than an SQL "
                                     "tracker store. Reload in a minute.", 503, session)
        today = datetime.now(timezone.utc).date()
        try:
            return await self.cache.get((days, today.isoformat()),
                                        lambda: in_thread(compute, engine, self.page.database_url, days, today))
        except SQLAlchemyError as failure:
            logger.error("Dashboard: the figures could not be read (%s).", type(failure).__name__)
            return self.page.message("Dashboard unavailable", "The conversations or booking requests cannot be "
                                     "read right now. Try again in a minute.", 503, session)

    def period_or_refusal(self, request: Request, session: Any) -> Union[int, HTTPResponse]:
        days = parse_period(request.args.get("days"))
        if days is None:
            return self.page.message("Unknown period", "Choose a period of 7, 30 or 90 days.", 400, session)
        return days

    async def show(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        days = self.period_or_refusal(request, session)
        if isinstance(days, HTTPResponse):
            return days
        tally = await self.tally(request, days)
        if isinstance(tally, HTTPResponse):
            return tally
        built = build_charts(tally)
        body = render.render(
            "dashboard.html", session=session, spa=render.spa_details(await self.page.spa()), days=days,
            periods=[{"days": p, "current": p == days} for p in PERIODS],
            first=date.fromisoformat(tally.days[0]), last=date.fromisoformat(tally.days[-1]),
            updated=datetime.fromtimestamp(tally.computed_at, tz=timezone.utc).strftime("%H:%M UTC"),
            empty=tally.conversations == 0 and tally.requested == 0, tiles=tiles(tally),
            charts=[{"chart": c, "svg": charts.svg(c), "empty_text": EMPTY_TEXT[c.key]} for c in built])
        return html(body)

    async def csv(self, request: Request, name: str) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        key = name[:-4] if name.endswith(".csv") else ""
        if key not in CHART_KEYS:
            return self.page.message("Not found", "There is no chart with that name.", 404, session)
        days = self.period_or_refusal(request, session)
        if isinstance(days, HTTPResponse):
            return days
        tally = await self.tally(request, days)
        if isinstance(tally, HTTPResponse):
            return tally
        chart = next(c for c in build_charts(tally) if c.key == key)
        filename = f"dashboard-{key}-{tally.days[0]}-to-{tally.days[-1]}.csv"
        return response.raw(("\ufeff" + charts.csv_text(chart)).encode("utf-8"), content_type="text/csv; charset=utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


def tiles(tally: Tally) -> List[Dict[str, str]]:
    """The headline numbers above the charts."""
    fallbacks = tally.total("fallbacks")
    share = f"{round(100 * fallbacks / tally.messages)}% of messages" if tally.messages else ""
    stops = tally.total("red_flags") + tally.total("absolute_contraindications")
    return [
        {"label": "Conversations", "value": str(tally.conversations), "note": f"{tally.messages} messages"},
        {"label": "Recommended", "value": str(tally.recommended), "note": f"{tally.offered} offered a booking"},
        {"label": "Booking requests", "value": str(tally.requested), "note": f"{tally.confirmed} confirmed"},
        {"label": "Safety stops", "value": str(stops), "note": "red flags, absolute contraindications"},
        {"label": "Crisis replies", "value": str(tally.total("crisis_replies")), "note": "crisis line given"},
        {"label": "Fallbacks", "value": str(fallbacks), "note": share},
    ]


def routes(page: Any) -> List[Tuple[Callable[..., Awaitable[HTTPResponse]], str, List[str], str]]:
    """The dashboard's pages for the staff blueprint (bot.staff.web.OWNER_PAGES)."""
    dashboard = Dashboard(page, FigureCache())
    return [(dashboard.show, "/dashboard", ["GET"], "staff_dashboard"),
            (dashboard.csv, "/dashboard/<name>", ["GET"], "staff_dashboard_csv")]
