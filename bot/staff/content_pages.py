"""The owner's content editor at /staff/content: the spa's details, prices and answers, with
history, undo, export and import (the storage and the rules are bot/knowledge/content.py).

Each form previews the reply as the assistant will say it and what will change in the files
before anything is saved; the checks are the loader's own, shown next to the field they are about.
Safety content (conditions, red flags, crisis lines, the emergency message) is shown read-only.
Plain forms, no scripts: the staff page's CSP allows none. Every handler starts with the owner
check, and every form post carries the session's CSRF token.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qs

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.knowledge import content, front_desk
from bot.knowledge.content import FIRST_VISIT_FILE, SPA_FILE, SPA_FILES, TOPICS_FILE, ContentError, Version
from bot.knowledge.db import KB_DIR
from bot.knowledge.loader import KnowledgeBase, KnowledgeBaseError, entry_label
from bot.knowledge.prices import Price, price_reply
from bot.staff import exports, render
from bot.staff.sessions import Session
from bot.staff.web import PREFIX, SECURITY_HEADERS, html, in_thread

logger = logging.getLogger(__name__)

BASE = f"{PREFIX}/content"
# The spa's details as the form groups them: (key, label, hint). Keys the spa adds later are
# listed under "Other" with a label made from the key.
SPA_FIELD_GROUPS: Tuple[Tuple[str, Tuple[Tuple[str, str, str], ...]], ...] = (
    ("Contact and opening hours", (
        ("name", "Spa name", ""),
        ("phone", "Phone", "As people should dial it, for example +1 555 0100."),
        ("email", "Email", ""),
        ("booking_url", "Online booking link", "A full https:// address, or leave empty."),
        ("address", "Address", ""),
        ("directions", "How to find us", ""),
        ("hours", "Opening hours, in words", "What the assistant says, for example: Monday to Saturday, 9 am to 7 pm."),
        ("opening_hours", "Bookable hours", 'What the booking form reads, for example: Mon-Fri 09:00-19:00; Sat 10:00-16:00.'),
        ("timezone", "Time zone", "A time zone name, for example America/New_York."),
        ("closed_dates", "Closed dates", "Dates written as YYYY-MM-DD, separated by commas."),
        ("holidays", "Holidays, in words", ""),
    )),
    ("Policies", (
        ("tipping", "Tipping", "Said after the first-visit answer about tips."),
        ("cancellation", "Cancelling or moving a booking", "Said after the first-visit answer about cancelling."),
        ("late_arrival", "Arriving late", ""),
        ("age_policy", "Age rules", ""),
    )),
    ("Front-desk answers", (
        ("parking", "Parking", "Leave a field empty and the assistant gives your phone and email instead."),
        ("transit", "Public transport", ""),
        ("accessibility", "Accessibility", ""),
        ("gift_cards", "Gift cards", ""),
        ("packages", "Packages and memberships", ""),
        ("couples", "Couples massage", ""),
        ("payment", "Payment", ""),
        ("what_to_bring", "What to bring", ""),
        ("facilities", "Facilities", ""),
        ("walk_ins", "Walk-ins", ""),
        ("booking_ahead", "Booking ahead", ""),
        ("waiting_list", "Waiting list", ""),
    )),
)
PRICE_SETTINGS = (
    ("currency", "Currency sign", "Written before each amount, for example $ or £."),
    ("prices_note", "Said after the price list", "For example: gift cards and packages are also available."),
)
SHORT_FIELDS = {"name", "phone", "email", "booking_url", "address", "opening_hours", "timezone", "closed_dates",
                "currency"}
NOT_ON_DETAILS = set(content.READ_ONLY_SPA_FIELDS) | {name for name, _, _ in PRICE_SETTINGS}
KINDS = {"faq": (TOPICS_FILE, "FAQ answer"), "first-visit": (FIRST_VISIT_FILE, "First-visit answer")}
BLANK_PRICE_ROWS = 3
MAX_PRICE_ROWS = 200
PRICE_FIELD = re.compile(r"^price-(\d{1,3})-(?:service|minutes|price)$")
ENTRY_ID = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Problem:
    """A message for the owner; `field` is the id of the form field it belongs to, if any."""

    text: str
    field: Optional[str] = None


def routes(page: Any) -> List[Tuple[Callable[..., Any], str, List[str], str]]:
    pages = ContentPages(page)
    return [
        (pages.overview, "/content", ["GET"], "staff_content"),
        (pages.details, "/content/details", ["GET", "POST"], "staff_content_details"),
        (pages.prices, "/content/prices", ["GET", "POST"], "staff_content_prices"),
        (pages.answer, "/content/answers/<kind>/<entry_id>", ["GET", "POST"], "staff_content_answer"),
        (pages.history, "/content/history", ["GET"], "staff_content_history"),
        (pages.version_page, "/content/history/<number:int>", ["GET"], "staff_content_version"),
        (pages.restore, "/content/history/<number:int>/restore", ["POST"], "staff_content_restore"),
        (pages.export_zip, "/content/export.zip", ["GET"], "staff_content_export_zip"),
        (pages.export_file, "/content/export/<name>", ["GET"], "staff_content_export_file"),
        (pages.import_form, "/content/import", ["GET", "POST"], "staff_content_import"),
        (pages.import_confirm, "/content/import/confirm", ["POST"], "staff_content_import_confirm"),
    ]


# --- what the pages show --------------------------------------------------------------------

def field_label(name: str) -> str:
    for _, fields in SPA_FIELD_GROUPS:
        for key, label, _ in fields:
            if key == name:
                return label
    labels = {key: label for key, label, _ in PRICE_SETTINGS}
    return labels.get(name, name.replace("_", " ").capitalize())


def spa_groups(spa: Mapping[str, str], values: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The details form: every field of the spa section the owner may edit, grouped."""
    listed = {key for _, fields in SPA_FIELD_GROUPS for key, _, _ in fields}
    groups = [(title, [f for f in fields if f[0] in spa]) for title, fields in SPA_FIELD_GROUPS]
    others = [(key, field_label(key), "") for key in spa if key not in listed and key not in NOT_ON_DETAILS]
    if others:
        groups.append(("Other", others))
    return [{"title": title, "fields": [form_field(key, label, hint, values.get(key, spa.get(key, "")))
                                        for key, label, hint in fields]} for title, fields in groups if fields]


def form_field(key: str, label: str, hint: str, value: str) -> Dict[str, Any]:
    return {"key": key, "id": f"spa-{key}", "label": label, "hint": hint, "value": value,
            "long": key not in SHORT_FIELDS or "\n" in value}


def reply_lines(text: Optional[str]) -> List[List[Tuple[str, bool]]]:
    """A reply as the chat shows it: lines of (text, bold) pieces (**bold** as in the widget)."""
    lines = []
    for line in (text or "").split("\n"):
        pieces = re.split(r"\*\*(.+?)\*\*", line)
        lines.append([(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece])
    return lines


def prices_of(kb: KnowledgeBase) -> List[Price]:
    return [Price(e["service"], e["minutes"], e["price"]) for e in kb.entries["prices"]]


def etiquette_reply(entry: Mapping[str, Any], spa: Mapping[str, str]) -> str:
    """As actions/knowledge.py says a first-visit answer: its name, the answer, then the spa's policy."""
    text = f"**{entry['name']}**: {str(entry['answer']).strip()}"
    policy = spa.get(str(entry.get("policy"))) if entry.get("policy") else None
    return f"{text} {policy}" if policy else text


def topic_reply(entry: Mapping[str, Any]) -> str:
    return str(entry["answer"]).strip()


def details_previews(before: KnowledgeBase, after: KnowledgeBase) -> List[Dict[str, Any]]:
    """The replies an edit of the spa's details changes, as the assistant will say them."""
    old, new = before.settings["spa"], after.settings["spa"]
    changed = {key for key in set(old) | set(new) if old.get(key) != new.get(key)}
    previews = []
    for intent, keys in front_desk.FRONT_DESK_SETTINGS.items():
        if changed & set(keys):
            found = front_desk.answer(intent, new, "")
            if found is not None:
                previews.append({"title": f"Asked about {field_label(keys[0]).lower()}", "lines": reply_lines(found.text)})
    for entry in after.entries["etiquette"]:
        if entry.get("policy") in changed:
            previews.append({"title": f"First visit: {entry['name']}", "lines": reply_lines(etiquette_reply(entry, new))})
    if changed & {"name", "currency", "prices_note"}:
        previews.append({"title": "Asked about prices", "lines": reply_lines(price_reply(new, prices_of(after)))})
    return previews


def problem_for(error: KnowledgeBaseError, fields: Mapping[Tuple[str, str, str], str]) -> Problem:
    """The loader's message, placed at the form field it is about when the form has it."""
    key = (error.path.name, str(error.entry), str(error.field))
    return Problem(str(error), fields.get(key))


def number(text: Optional[str]) -> Optional[int]:
    return int(text) if text and text.isdigit() else None


# --- the pages ------------------------------------------------------------------------------

class ContentPages:
    def __init__(self, page: Any, kb_dir: Any = KB_DIR) -> None:
        self.page, self.kb_dir = page, kb_dir

    @property
    def url(self) -> Optional[str]:
        return self.page.database_url

    async def current(self) -> Tuple[Version, KnowledgeBase]:
        version = await in_thread(content.current, self.url, self.kb_dir)
        return version, await in_thread(content.validate, version.files, self.kb_dir)

    def render(self, template: str, session: Session, kb: KnowledgeBase, status: int = 200, **context: Any) -> HTTPResponse:
        body = render.render(template, session=session, spa=render.spa_details(kb.settings["spa"]), **context)
        return html(body, status=status)

    def when(self, version: Version, kb: KnowledgeBase) -> str:
        if version.created_at is None:
            return "not saved yet"
        return render.created_text(version.created_at, exports.spa_zone(kb.settings["spa"].get("timezone")))

    def described(self, version: Version, kb: KnowledgeBase) -> Dict[str, Any]:
        return {"number": version.number, "when": self.when(version, kb), "author": version.author,
                "summary": version.summary, "saved": version.saved, "restored_from": version.restored_from}

    # -- overview --

    async def overview(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        saved = number(request.args.get("saved"))
        spa = kb.settings["spa"]
        return self.render(
            "content.html", session, kb, version=self.described(version, kb),
            saved=saved if saved == version.number and version.saved else None,
            restored=number(request.args.get("restored")),
            spa_fields=[(field_label(key), spa[key]) for key in ("name", "phone", "email", "hours", "address")
                        if key in spa],
            prices=[{"service": p.service, "minutes": p.minutes, "price": f"{spa.get('currency', '')}{p.price}"}
                    for p in prices_of(kb)],
            topics=[{"id": e["id"], "title": e["title"], "answer": topic_reply(e)} for e in kb.entries["topics"]],
            etiquette=[{"id": e["id"], "title": e["name"], "answer": str(e["answer"]).strip(), "policy": e.get("policy")}
                       for e in kb.entries["etiquette"]],
            safety=self.safety(kb), files=SPA_FILES)

    @staticmethod
    def safety(kb: KnowledgeBase) -> Dict[str, Any]:
        """Read-only: what the spa cannot change here, and where it comes from."""
        country = kb.settings["spa"]["country"]
        crisis = next(({**e, "sources": e.get("sources") or []} for e in kb.entries["crisis"]
                       if str(e["id"]) == country), None)
        return {
            "country": country, "crisis": crisis, "emergency": kb.settings["emergency"].get("message", ""),
            "crisis_messages": sorted(kb.settings["crisis_messages"].items()),
            "conditions": [{"name": c["name"], "severity": c["severity"],
                            "advice": str(c.get("advice") or c.get("modification") or "").strip(),
                            "sources": c.get("sources") or []} for c in kb.entries["conditions"]],
            "red_flags": [str(r["name"]) for r in kb.entries["red_flags"]],
        }

    # -- the edit forms --

    async def details(self, request: Request) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        spa = kb.settings["spa"]
        editable = [key for key in spa if key not in NOT_ON_DETAILS]
        form = posted(request)
        values = {key: form[f"spa-{key}"] for key in editable if f"spa-{key}" in form}  # one left out stays as it is
        fields = {(SPA_FILE, "spa", key): f"spa-{key}" for key in editable}

        def page_for(problems: Sequence[Problem], status: int, **extra: Any) -> HTTPResponse:
            return self.render("content_details.html", session, kb, status=status, base=version.number,
                               groups=spa_groups(spa, values), problems=problems, **extra)

        if request.method == "GET":
            return page_for([], 200, previews=[], changes=[])
        changed = [key for key, value in values.items() if content.clean_text(value) != spa[key].strip()]
        summary = "Spa details: " + ", ".join(field_label(key).lower() for key in changed)
        return await self.edit(request, session, version, kb, page_for, fields, summary,
                               lambda files: content.edit_spa_details(files, values), details_previews)

    async def prices(self, request: Request) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        spa = kb.settings["spa"]
        if request.method == "POST":
            form = posted(request)
            lines = sorted({int(found.group(1)) for found in map(PRICE_FIELD.match, form) if found})
            rows = [{name: form.get(f"price-{i}-{name}", "") for name in ("service", "minutes", "price")}
                    for i in lines[:MAX_PRICE_ROWS]]
            settings = {key: form[f"spa-{key}"] for key, _, _ in PRICE_SETTINGS if key in spa and f"spa-{key}" in form}
        else:
            rows = [{"service": p.service, "minutes": str(p.minutes), "price": p.price} for p in prices_of(kb)]
            settings = {key: spa.get(key, "") for key, _, _ in PRICE_SETTINGS if key in spa}
        shown = rows + [{"service": "", "minutes": "", "price": ""}] * max(0, BLANK_PRICE_ROWS - sum(
            not any(r.values()) for r in rows))
        fields = {(SPA_FILE, "spa", key): f"spa-{key}" for key, _, _ in PRICE_SETTINGS}
        position = 0
        for i, row in enumerate(rows):
            if any(str(v).strip() for v in row.values()):
                position += 1
                label = entry_label("prices", {k: _typed(k, v) for k, v in row.items()}, position)
                for name in ("service", "minutes", "price"):
                    fields[(SPA_FILE, label, name)] = f"price-{i}-{name}"  # a duplicate is the later row

        def page_for(problems: Sequence[Problem], status: int, **extra: Any) -> HTTPResponse:
            return self.render("content_prices.html", session, kb, status=status, base=version.number,
                               rows=shown, settings=[form_field(key, label, hint, settings.get(key, spa.get(key, "")))
                                                     for key, label, hint in PRICE_SETTINGS if key in spa],
                               problems=problems, **extra)

        if request.method == "GET":
            return page_for([], 200, previews=[], changes=[])

        def previews(before: KnowledgeBase, after: KnowledgeBase) -> List[Dict[str, Any]]:
            reply = price_reply(after.settings["spa"], prices_of(after))
            return [{"title": "Asked about prices", "lines": reply_lines(reply or "(no prices listed: the assistant "
                                                                               "gives only its general answer)")}]

        return await self.edit(request, session, version, kb, page_for, fields, "Prices",
                               lambda files: content.edit_prices(files, rows, settings), previews)

    async def answer(self, request: Request, kind: str, entry_id: str) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        file_name, what = KINDS.get(kind, ("", ""))
        section = content.ANSWER_SECTIONS.get(file_name, "")
        entry = next((e for e in kb.entries.get(section, []) if str(e["id"]) == entry_id), None)
        if entry is None or not ENTRY_ID.match(entry_id):
            return self.page.message("Not found", "There is no answer with that name.", 404, session)
        title = entry.get("title") or entry.get("name")
        text = posted(request).get("answer", "") if request.method == "POST" else str(entry["answer"]).strip()
        fields = {(file_name, entry_id, "answer"): "answer"}

        def page_for(problems: Sequence[Problem], status: int, **extra: Any) -> HTTPResponse:
            return self.render("content_answer.html", session, kb, status=status, base=version.number,
                               what=what, title=title, kind=kind, entry_id=entry_id, text=text,
                               policy=entry.get("policy"), offer_contact=bool(entry.get("offer_contact")),
                               problems=problems, **extra)

        if request.method == "GET":
            return page_for([], 200, previews=[], changes=[])

        def previews(before: KnowledgeBase, after: KnowledgeBase) -> List[Dict[str, Any]]:
            new = next(e for e in after.entries[section] if str(e["id"]) == entry_id)
            reply = etiquette_reply(new, after.settings["spa"]) if section == "etiquette" else topic_reply(new)
            return [{"title": f"Asked: {title}", "lines": reply_lines(reply)}]

        return await self.edit(request, session, version, kb, page_for, fields, f"{what}: {title}",
                               lambda files: content.edit_answer(files, file_name, entry_id, text), previews)

    async def owner(self, request: Request) -> Union[Session, HTTPResponse]:
        """An owner's GET, or an owner's form post with its CSRF token."""
        if request.method == "POST":
            return await self.page.owner_post(request)
        return self.page.owner_session(request)

    async def edit(self, request: Request, session: Session, version: Version, kb: KnowledgeBase,
                   page_for: Callable[..., HTTPResponse], fields: Mapping[Tuple[str, str, str], str], summary: str,
                   change: Callable[[Mapping[str, str]], Dict[str, str]],
                   previews: Callable[[KnowledgeBase, KnowledgeBase], List[Dict[str, Any]]]) -> HTTPResponse:
        """Preview or save one form's change: the edited files are checked by the loader; saving
        stores a new version (refused when another was saved since the form was opened)."""
        files = change(version.files)
        try:
            content.check_read_only(version.files, files)
            after = await in_thread(content.validate, files, self.kb_dir)
        except KnowledgeBaseError as error:
            return page_for([problem_for(error, fields)], 422, previews=[], changes=[])
        changes = content.diff(version.files, files)
        if request.form.get("step") != "save":
            return page_for([], 200, previews=previews(kb, after), changes=changes, previewed=True)
        base = number(request.form.get("base"))
        try:
            saved = await in_thread(content.save, files, session.user, summary, base, self.url, self.kb_dir)
        except KnowledgeBaseError as error:
            return page_for([problem_for(error, fields)], 422, previews=[], changes=[])
        except content.NoChange as error:
            return page_for([Problem(str(error))], 200, previews=[], changes=[])
        except ContentError as error:
            return page_for([Problem(str(error))], 409, previews=previews(kb, after), changes=changes)
        logger.info("Staff content: an owner saved version %d.", saved.number)
        return response.redirect(f"{BASE}?saved={saved.number}", status=303)

    # -- history and undo --

    async def history(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        found = await in_thread(content.versions, self.url, self.kb_dir)
        return self.render("history.html", session, kb, current=version.number,
                           versions=[self.described(v, kb) for v in found])

    async def version_page(self, request: Request, number: int) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        current, kb = await self.current()
        shown = await in_thread(content.version, number, self.url, self.kb_dir)
        if shown is None:
            return self.page.message("Not found", "There is no version with that number.", 404, session)
        previous = await in_thread(content.version, number - 1, self.url, self.kb_dir) if number > 1 else None
        return self.render(
            "history_version.html", session, kb, version=self.described(shown, kb), current=current.number,
            changes=content.diff(previous.files, shown.files) if previous else [],
            restoring=content.diff(current.files, shown.files) if shown.number != current.number else [])

    async def restore(self, request: Request, number: int) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        try:
            saved = await in_thread(content.restore, number, session.user, content_base(request), self.url, self.kb_dir)
        except KnowledgeBaseError as error:
            return self.page.message("Not restored", f"Version {number} no longer passes the checks: {error}", 422,
                                     session)
        except ContentError as error:
            return self.page.message("Not restored", str(error), 409, session)
        logger.info("Staff content: an owner restored version %d as version %d.", number, saved.number)
        return response.redirect(f"{BASE}?saved={saved.number}&restored={number}", status=303)

    # -- export and import --

    async def exported(self, request: Request) -> Union[Tuple[Session, Version], HTTPResponse]:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        asked = number(request.args.get("version"))
        if asked is None:
            return session, await in_thread(content.current, self.url, self.kb_dir)
        found = await in_thread(content.version, asked, self.url, self.kb_dir)
        if found is None:
            return self.page.message("Not found", "There is no version with that number.", 404, session)
        return session, found

    async def export_zip(self, request: Request) -> HTTPResponse:
        found = await self.exported(request)
        if isinstance(found, HTTPResponse):
            return found
        _, version = found
        body = content.export_zip(version.files, version.created_at)
        return response.raw(body, content_type="application/zip", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="spa-content-v{version.number}.zip"'})

    async def export_file(self, request: Request, name: str) -> HTTPResponse:
        found = await self.exported(request)
        if isinstance(found, HTTPResponse):
            return found
        session, version = found
        if name not in SPA_FILES:
            return self.page.message("Not found", "That is not one of the spa's files.", 404, session)
        return response.raw(version.files[name].encode("utf-8"), content_type="application/yaml; charset=utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"',
                                     "X-Content-Type-Options": "nosniff"})

    async def import_form(self, request: Request) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        version, kb = await self.current()
        if request.method == "GET":
            return self.render("import.html", session, kb, base=version.number, problems=[])
        uploads = [(upload.name, upload.body) for upload in request.files.getlist("files") or []]
        try:
            files = {**version.files, **content.read_upload(uploads)}
            content.check_read_only(version.files, files)
            await in_thread(content.validate, files, self.kb_dir)
        except (ContentError, KnowledgeBaseError) as error:
            return self.render("import.html", session, kb, status=422, base=version.number,
                               problems=[Problem(str(error))])
        changes = content.diff(version.files, files)
        return self.render("import_confirm.html", session, kb, base=version.number, changes=changes,
                           files=sorted((name, files[name]) for name in SPA_FILES if name in {c.name for c in changes}))

    async def import_confirm(self, request: Request) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        form = posted(request)
        files = {name: form[f"file-{name}"] for name in SPA_FILES if f"file-{name}" in form}
        try:
            if not files:
                raise content.NoChange("The import had nothing to apply. Choose the files again.")
            saved = await in_thread(content.save, files, session.user, "Imported " + ", ".join(sorted(files)),
                                    content_base(request), self.url, self.kb_dir)
        except (ContentError, KnowledgeBaseError) as error:
            version, kb = await self.current()
            return self.render("import.html", session, kb, status=422 if isinstance(error, KnowledgeBaseError) else 409,
                               base=version.number, problems=[Problem(str(error))])
        logger.info("Staff content: an owner imported files as version %d.", saved.number)
        return response.redirect(f"{BASE}?saved={saved.number}", status=303)


def content_base(request: Request) -> Optional[int]:
    return number(request.form.get("base"))


def posted(request: Request) -> Dict[str, str]:
    """The posted fields, empty ones included: Sanic's `request.form` drops them, and emptying a
    field is an edit (the assistant then gives the phone number instead)."""
    if (request.content_type or "").split(";")[0].strip() == "application/x-www-form-urlencoded":
        parsed = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    else:
        parsed = dict(request.form)
    return {name: values[0] for name, values in parsed.items() if values}


def _typed(name: str, value: str) -> Any:
    """A typed price field as the YAML will hold it, so the loader's entry names can be matched."""
    value = " ".join(str(value).split())
    if name == "minutes" and value.isdigit():
        return int(value)
    return value
