"""The owner's review page: /staff/review lists what the assistant missed (bot/staff/review.py),
a form under each message saves the right topic, and /staff/review/reviewed.yml downloads the
training examples the labels make (bot/staff/review_export.py).

Listed in OWNER_PAGES (bot/staff/web.py): every handler starts with the owner check, so
reception gets "not allowed" on every route and method before anything is read. The messages
come from the tracker store of the Rasa server the page runs in.
"""
from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.security.settings import Settings
from bot.staff import exports, render, review, review_choices, review_export
from bot.staff.review_choices import Choice
from bot.staff.web import PREFIX, SECURITY_HEADERS, StaffPage, html, in_thread

logger = logging.getLogger(__name__)

PAGE_URL = f"{PREFIX}/review"
MAX_REPLY_CHARS = 600
REASONS = {
    "fallback": "It did not understand",
    "ambiguous": "It could not choose between two topics",
    "low_confidence": "It answered, but was unsure",
}


def routes(page: StaffPage) -> List[Tuple[Any, str, List[str], str]]:
    pages = ReviewPages(page)
    return [
        (pages.review, "/review", ["GET"], "staff_review"),
        (pages.label, "/review/<event_id:int>", ["POST"], "staff_review_label"),
        (pages.download, "/review/reviewed.yml", ["GET"], "staff_review_download"),
    ]


def percent(confidence: Optional[float]) -> Optional[int]:
    return None if confidence is None else int(round(confidence * 100))


def clip(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def page_number(raw: Optional[str]) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def row(item: review.Missed, zone: Any, choice: Optional[Choice]) -> Dict[str, Any]:
    """What the page shows of one message, with the form's values when it comes back with an error."""
    return {
        "id": item.event_id, "text": item.text, "times": item.times, "channel": item.channel,
        "when": render.created_text(datetime.utcfromtimestamp(item.timestamp), zone),
        "reason": REASONS.get(item.reason, item.reason),
        "guess": review_choices.label(item.guess) if item.guess else "",
        "guess_intent": item.guess or "", "confidence": percent(item.confidence),
        "runner_up": review_choices.label(item.runner_up) if item.runner_up else "",
        "replies": [clip(r) for r in item.replies],
        "error": choice.error if choice else "", "values": choice.values if choice else {},
    }


class ReviewPages:
    def __init__(self, page: StaffPage) -> None:
        self.page = page

    @property
    def url(self) -> Optional[str]:
        return self.page.database_url

    @staticmethod
    def store(request: Request) -> Any:
        """The tracker store of the Rasa server this page runs in."""
        return getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)

    def unavailable(self, session: Any, why: str) -> HTTPResponse:
        return self.page.message("Conversations unavailable", why, 503, session)

    async def review(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        return await self.listing(request, session, page_number(request.args.get("page")))

    async def listing(self, request: Request, session: Any, number: int,
                      errors: Optional[Dict[int, Choice]] = None, status: int = 200) -> HTTPResponse:
        store = self.store(request)
        if store is None:
            return self.unavailable(session, "The assistant has not finished starting. Try again in a minute.")
        days = Settings.from_env().retention_days
        known = await in_thread(review.labelled, self.url)
        try:
            items, capped = await in_thread(review.find_missed, store, known, time.time(), days)
            pages = max(1, math.ceil(len(items) / review.PER_PAGE))
            number = min(number, pages)
            shown = items[(number - 1) * review.PER_PAGE:number * review.PER_PAGE]
            await in_thread(review.add_replies, store, shown)
        except LookupError:
            return self.unavailable(session, "This page reads the conversations from the SQL tracker store "
                                    "(SQLite or PostgreSQL), and this server keeps them elsewhere.")
        except SQLAlchemyError as failure:
            logger.error("Review page: the tracker store failed (%s).", type(failure).__name__)
            return self.unavailable(session, "The conversations cannot be read right now. Try again in a minute.")
        spa = await self.page.spa()
        zone = exports.spa_zone(spa.get("timezone"))
        errors = errors or {}
        shown_ids = {item.event_id for item in shown}
        body = render.render(
            "review.html", session=session, spa=render.spa_details(spa),
            rows=[row(item, zone, errors.get(item.event_id)) for item in shown],
            total=len(items), page=number, pages=pages, capped=capped, days=days,
            low=percent(review.thresholds().low_confidence),
            lost_error=next((c.error for i, c in errors.items() if i not in shown_ids), ""),
            saved=request.args.get("saved") == "1", export_failed=request.args.get("export") == "failed",
            groups=review_choices.topic_groups(sorted(review_export.domain_intents())),
            not_for_us=(review_choices.NOT_FOR_US, review_choices.label(review_choices.NOT_FOR_US)),
            dismiss=(review_choices.DISMISSED, review_choices.label(review_choices.DISMISSED)),
            entity_fields=[(kind, title, review_choices.knowledge_entities()[kind])
                           for kind, title in review_choices.ENTITY_FIELDS],
            page_url=PAGE_URL)
        return html(body, status=status)

    async def label(self, request: Request, event_id: int) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        store = self.store(request)
        if store is None:
            return self.unavailable(session, "The assistant has not finished starting. Try again in a minute.")
        try:
            item = await in_thread(review.one_missed, store, event_id, time.time(), Settings.from_env().retention_days)
        except LookupError:
            item = None
        if item is None:
            return self.page.message("Not waiting for review", "That message is no longer waiting for review: "
                                     "it has a label already, or its conversation was deleted.", 404, session)
        number = page_number(request.form.get("page"))
        topics = review_choices.allowed_topics(sorted(review_export.domain_intents()))
        form = {name: request.form.get(name) or "" for name in request.form}
        choice = review_choices.read_form(form, item.text, topics, review_choices.knowledge_entities())
        if choice.error:
            return await self.listing(request, session, number, {event_id: choice}, status=400)
        await in_thread(review.save_label, item, choice.intent, choice.entities, session.user, self.url)
        logger.info("Review page: a missed message was labelled (%s).", choice.intent)
        exported = await self.export()
        return response.redirect(f"{PAGE_URL}?saved=1&page={number}" + ("" if exported else "&export=failed"),
                                 status=303)

    async def export(self) -> bool:
        """Rewrite data/nlu/reviewed.yml; a server that may not write there still keeps the label."""
        try:
            count = await in_thread(review_export.export, self.url)
        except OSError as failure:
            logger.error("Review page: could not write the reviewed examples (%s).", type(failure).__name__)
            return False
        logger.info("Review page: %d reviewed examples written for training.", count)
        return True

    async def download(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        found = await in_thread(review_export.current_examples, self.url)
        return response.raw(review_export.nlu_yaml(found).encode("utf-8"),
                            content_type="application/yaml; charset=utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="reviewed.yml"'})
