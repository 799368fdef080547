"""The staff page, a Sanic blueprint mounted at /staff on Rasa's own server.

Reception sees the booking requests made in the chat, opens one, changes its status, prints the
intake sheet and downloads it for a calendar or a spreadsheet. It has its own login (the HTTP
API token is not needed here); every change is a POST from this site carrying the session's
CSRF token.
"""
from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import re
from datetime import datetime
from functools import partial
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Union
from urllib.parse import quote, urlencode, urlparse

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.booking import store
from bot.booking.models import STATUSES
from bot.staff import config as staff_config
from bot.staff import exports, render
from bot.staff.passwords import dummy_verify, verify_password
from bot.staff.sessions import LOGIN_COOKIE, LOGIN_FORM_SECONDS, SESSION_COOKIE, Session, SessionSigner, csrf_matches
from bot.staff.throttle import FAILURE_DELAY_S, LoginThrottle

logger = logging.getLogger(__name__)

PREFIX = "/staff"
# The owner's pages: each module has `routes(page: StaffPage) -> [(handler, uri, methods, name)]`,
# and every handler starts with `page.owner_session(request)` or `page.owner_post(request)`.
OWNER_PAGES: tuple = ("bot.staff.dashboard", "bot.staff.review_pages", "bot.staff.content_pages",
                      "bot.staff.team_pages")
# Pages for every staff account (reception and owners), registered the same way; their handlers
# start with `page.staff_session(request)` or `page.staff_post(request)`.
# bot.booking.feeds is the exception: its calendar feeds have no login, a secret token in the URL.
STAFF_PAGES: tuple = ("bot.staff.diary_pages", "bot.booking.feeds")
CODE = re.compile(r"^[A-Za-z0-9]{1,8}$")
MAX_QUERY_CHARS = 120
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    # Not "no-referrer": with it, browsers send `Origin: null` on the page's own form posts.
    "Referrer-Policy": "same-origin",
}


def is_staff_path(path: str) -> bool:
    """Requests the staff page answers (with its own login instead of the API token)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def mount(app: Sanic, config: Optional[staff_config.StaffConfig] = None, database_url: Optional[str] = None) -> None:
    """Add the staff page to Rasa's app (called by bot/security/hooks.py)."""
    settings = config if config is not None else staff_config.load()
    app.blueprint(StaffPage(settings, database_url).blueprint())
    logger.info("Staff page at %s/: %s.", PREFIX,
                f"{len(settings.accounts)} account(s)" if settings.enabled else "switched off (no STAFF_ACCOUNTS)")


def is_https(request: Request) -> bool:
    """Over TLS directly or behind a proxy that says so: then the cookie is marked Secure."""
    forwarded = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    return request.scheme in ("https", "wss") or forwarded == "https"


def same_origin(request: Request) -> bool:
    """A form posted from this site: Origin (or Referer) names this host, and the browser does not
    say the request is cross-site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # not a browser form from elsewhere; the CSRF token still has to match
    return urlparse(source).netloc == request.host


def safe_next(target: Optional[str]) -> str:
    """Only a staff page may be the target after login (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def html(body: str, status: int = 200, headers: Optional[Mapping[str, str]] = None) -> HTTPResponse:
    return response.html(body, status=status, headers={**SECURITY_HEADERS, **(headers or {})})


def set_cookie(res: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    res.cookies[name] = value
    cookie = res.cookies[name]
    cookie["path"] = PREFIX
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"
    cookie["max-age"] = max_age
    if is_https(request):
        cookie["secure"] = True


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Database work and password hashing off the event loop, so the chat is not held up."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args, **kwargs))


class StaffPage:
    def __init__(self, config: staff_config.StaffConfig, database_url: Optional[str] = None) -> None:
        self.config, self.database_url = config, database_url
        self.signer = SessionSigner(config.secret_key, config.session_seconds)
        self.throttle = LoginThrottle()

    # -- helpers ---------------------------------------------------------------------------

    def session(self, request: Request) -> Optional[Session]:
        session = self.signer.load(request.cookies.get(SESSION_COOKIE))
        if session is None or session.user not in self.config.accounts:
            return None  # the account was removed
        return dataclasses.replace(session, role=self.config.role(session.user))

    def owner_session(self, request: Request) -> Union[Session, HTTPResponse]:
        """The session of an owner, or the response for anyone else: the login page when nobody
        is logged in, "not allowed" for reception (every method; checked before anything runs)."""
        session = self.session(request)
        if session is None:
            return self.to_login(request)
        if session.role != staff_config.OWNER:
            logger.warning("Staff page: a reception account asked for an owner's page.")
            return self.message("Owners only", "This page is for the spa's owner. Ask the owner if you "
                                "need something changed here.", 403, session)
        return session

    def staff_session(self, request: Request) -> Union[Session, HTTPResponse]:
        """The session of anyone logged in (reception or owner), or the way to the login page."""
        session = self.session(request)
        return self.to_login(request) if session is None else session

    async def staff_post(self, request: Request) -> Union[Session, HTTPResponse]:
        """A staff form post from this site with the session's CSRF token, or the response."""
        session = self.staff_session(request)
        if isinstance(session, HTTPResponse):
            return session
        if await self.checked_post(request) is None:
            return self.refused(session)
        return session

    async def owner_post(self, request: Request) -> Union[Session, HTTPResponse]:
        """An owner's form post from this site with the session's CSRF token, or the response."""
        session = self.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        if await self.checked_post(request) is None:
            return self.refused(session)
        return session

    async def spa(self) -> Dict[str, str]:
        try:
            from bot.knowledge import queries

            return await in_thread(queries.settings, "spa")
        except Exception:  # the knowledge base may not be loaded; the page works without it
            return {}

    def message(self, title: str, text: str, status: int, session: Optional[Session] = None) -> HTTPResponse:
        return html(render.render("message.html", title=title, text=text, session=session), status=status)

    def refused(self, session: Optional[Session] = None) -> HTTPResponse:
        logger.warning("Staff page: refused a form without a valid CSRF token or from another site.")
        return self.message("Not allowed", "This form has expired or did not come from the staff page. "
                            "Go back, reload the page and try again.", 403, session)

    async def checked_post(self, request: Request) -> Optional[Session]:
        """The session of a POST that came from this site with the session's CSRF token."""
        session = self.session(request)
        if session is None or not same_origin(request):
            return None
        if not csrf_matches(request.form.get("csrf"), session.csrf):
            return None
        return session

    def to_login(self, request: Request) -> HTTPResponse:
        """Off to the login, then back to the page asked for (the list after a form post)."""
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        if request.method != "GET":
            target = PREFIX + "/"
        return response.redirect(f"{PREFIX}/login?next={quote(target, safe='')}", status=303)

    # -- the routes ------------------------------------------------------------------------

    def blueprint(self) -> Blueprint:
        bp = Blueprint("staff_page", url_prefix=PREFIX, strict_slashes=True)
        enabled = self.config.enabled

        def page(handler: Callable[..., Awaitable[HTTPResponse]], always: bool = False) -> Callable[..., Awaitable[HTTPResponse]]:
            """A plain function for Sanic (it tags handlers), answering "switched off" when disabled."""
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                if not enabled and not always:
                    return html(render.render("disabled.html", session=None), status=503)
                try:
                    return await handler(request, *args, **kwargs)
                except SQLAlchemyError as failure:
                    logger.error("Staff page: the booking database failed (%s).", type(failure).__name__)
                    return self.message("Booking requests unavailable", "The booking database cannot be read "
                                        "right now. If this is a new installation, run make kb once.", 503,
                                        self.session(request))

            wrapped.__name__ = handler.__name__
            return wrapped

        bp.add_route(page(self.root, always=True), "", methods=["GET"], name="staff_root")
        bp.add_route(page(self.requests), "/", methods=["GET"], name="staff_requests")
        bp.add_route(page(self.login_form), "/login", methods=["GET"], name="staff_login_form")
        bp.add_route(page(self.login), "/login", methods=["POST"], name="staff_login")
        bp.add_route(page(self.logout), "/logout", methods=["POST"], name="staff_logout")
        bp.add_route(page(self.stylesheet, always=True), "/static/staff.css", methods=["GET"], name="staff_css")
        bp.add_route(page(self.export_csv), "/requests.csv", methods=["GET"], name="staff_csv")
        bp.add_route(page(self.request_or_ics), "/requests/<ref>", methods=["GET"], name="staff_request")
        bp.add_route(page(self.print_sheet), "/requests/<code>/print", methods=["GET"], name="staff_print")
        bp.add_route(page(self.change_status), "/requests/<code>/status", methods=["POST"], name="staff_status")
        for module_name in OWNER_PAGES + STAFF_PAGES:
            for handler, uri, methods, name in importlib.import_module(module_name).routes(self):
                bp.add_route(page(handler), uri, methods=methods, name=name)
        return bp

    async def root(self, request: Request) -> HTTPResponse:
        return response.redirect(PREFIX + "/", status=301)

    async def stylesheet(self, request: Request) -> HTTPResponse:
        return await response.file(str(render.STATIC / "staff.css"), mime_type="text/css",
                                   headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    async def login_form(self, request: Request, error: str = "", status: int = 200) -> HTTPResponse:
        if not error and self.session(request) is not None:
            return response.redirect(safe_next(request.args.get("next")), status=303)
        cookie, token = self.signer.login_form_token(request.cookies.get(LOGIN_COOKIE))
        target = request.form.get("next") if request.method == "POST" else request.args.get("next")
        body = render.render("login.html", session=None, csrf=token, error=error, next=safe_next(target),
                             ask_name=not self.config.shared_only, logged_out=request.args.get("out") == "1")
        res = html(body, status=status)
        set_cookie(res, request, LOGIN_COOKIE, cookie, LOGIN_FORM_SECONDS)
        return res

    async def login(self, request: Request) -> HTTPResponse:
        if not same_origin(request) or not self.signer.login_form_matches(request.cookies.get(LOGIN_COOKIE),
                                                                          request.form.get("csrf")):
            return self.refused()
        user = (request.form.get("username") or "").strip() if not self.config.shared_only else staff_config.SHARED_ACCOUNT
        password = request.form.get("password") or ""
        address = f"address:{request.remote_addr or request.ip}"
        account = f"account:{user.casefold()[:64]}"
        wait = self.throttle.retry_after(address, account)
        if wait is not None:
            logger.warning("Staff login: too many failed attempts; refused for %d s.", wait)
            res = await self.login_form(request, "Too many failed attempts. Please wait a few minutes and try again.", 429)
            res.headers["Retry-After"] = str(wait)
            return res
        stored = self.config.accounts.get(user)
        if stored is None:
            await in_thread(dummy_verify, password)
            ok = False
        else:
            ok = await in_thread(verify_password, password, stored)
        if not ok:
            self.throttle.failed(address, account)
            logger.warning("Staff login failed.")
            await asyncio.sleep(FAILURE_DELAY_S)
            return await self.login_form(request, "That name and password do not match an account.", 401)
        self.throttle.succeeded(address)
        session = self.signer.new(user)
        res = response.redirect(safe_next(request.form.get("next")), status=303)
        set_cookie(res, request, SESSION_COOKIE, self.signer.dump(session), int(self.config.session_seconds))
        set_cookie(res, request, LOGIN_COOKIE, "", 0)
        logger.info("Staff login.")
        return res

    async def logout(self, request: Request) -> HTTPResponse:
        session = await self.checked_post(request)
        if session is None:
            return self.refused(self.session(request)) if self.session(request) else self.to_login(request)
        self.signer.end(session)
        res = response.redirect(f"{PREFIX}/login?out=1", status=303)
        set_cookie(res, request, SESSION_COOKIE, "", 0)
        return res

    def search_args(self, request: Request) -> tuple:
        query = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
        status = request.args.get("status") or ""
        return query, (status if status in STATUSES else "")

    async def requests(self, request: Request) -> HTTPResponse:
        session = self.session(request)
        if session is None:
            return self.to_login(request)
        query, status = self.search_args(request)
        found = await in_thread(store.search, query or None, status or None, url=self.database_url)
        spa = await self.spa()
        zone = exports.spa_zone(spa.get("timezone"))
        filters = {k: v for k, v in (("q", query), ("status", status)) if v}
        body = render.render(
            "list.html", session=session, spa=render.spa_details(spa), rows=[render.row(r, zone) for r in found],
            query=query, status=status, status_options=render.status_options(status),
            csv_url=f"{PREFIX}/requests.csv" + (f"?{urlencode(filters)}" if filters else ""),
            filtered=bool(filters), limit=200)
        return html(body)

    async def find(self, code: str) -> Any:
        if not CODE.match(code or ""):
            return None
        return await in_thread(store.get_by_code, code, url=self.database_url)

    async def request_or_ics(self, request: Request, ref: str) -> HTTPResponse:
        if ref.lower().endswith(".ics"):
            return await self.calendar(request, ref[:-4])
        found = await self.logged_in_booking(request, ref)
        if isinstance(found, HTTPResponse):
            return found
        session, booking, spa, zone = found
        changed = request.args.get("changed")
        body = render.render("detail.html", session=session, spa=render.spa_details(spa),
                             r=render.detail(booking, zone), changed=changed if changed in STATUSES else "")
        return html(body)

    async def logged_in_booking(self, request: Request, code: str) -> Any:
        """(session, booking, spa settings, spa time zone) for a page about one request, or the
        response to send instead: the login page, or "not found"."""
        session = self.session(request)
        if session is None:
            return self.to_login(request)
        booking = await self.find(code)
        if booking is None:
            return self.message("Not found", "There is no booking request with that code.", 404, session)
        spa = await self.spa()
        return session, booking, spa, exports.spa_zone(spa.get("timezone"))

    async def print_sheet(self, request: Request, code: str) -> HTTPResponse:
        found = await self.logged_in_booking(request, code)
        if isinstance(found, HTTPResponse):
            return found
        _, booking, spa, zone = found
        body = render.render("print.html", spa=render.spa_details(spa), r=render.detail(booking, zone),
                             printed=render.created_text(datetime.utcnow(), zone))
        return html(body)

    async def change_status(self, request: Request, code: str) -> HTTPResponse:
        session = await self.checked_post(request)
        if session is None:
            current = self.session(request)
            return self.refused(current) if current else self.to_login(request)
        new_status = request.form.get("status") or ""
        if not CODE.match(code):
            return self.message("Not found", "There is no booking request with that code.", 404, session)
        try:
            booking = await in_thread(store.set_status, code, new_status, url=self.database_url)
        except LookupError:
            return self.message("Not found", "There is no booking request with that code.", 404, session)
        except store.InvalidTransition:
            return self.message("Status not changed", "That change is not possible from the request's current "
                                "status. Reload the request to see where it stands.", 409, session)
        logger.info("Staff changed booking request %s to %s.", booking.code, booking.status)
        return response.redirect(f"{PREFIX}/requests/{booking.code}?changed={booking.status}", status=303)

    async def export_csv(self, request: Request) -> HTTPResponse:
        session = self.session(request)
        if session is None:
            return self.to_login(request)
        query, status = self.search_args(request)
        found = await in_thread(store.search, query or None, status or None, limit=10_000, url=self.database_url)
        name = exports.csv_filename(datetime.utcnow())
        return response.raw(("\ufeff" + exports.csv_text(found)).encode("utf-8"), content_type="text/csv; charset=utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    async def calendar(self, request: Request, code: str) -> HTTPResponse:
        session = self.session(request)
        if session is None:
            return self.to_login(request)
        booking = await self.find(code)
        if booking is None:
            return self.message("Not found", "There is no booking request with that code.", 404, session)
        if booking.preferred_at is None:
            return self.message("No time yet", "This request has no preferred time, so there is nothing to put "
                                "in a calendar. Agree on a time with the person first.", 409, session)
        body = exports.icalendar_bytes(booking, await self.spa())
        return response.raw(body, content_type="text/calendar; charset=utf-8",
                            headers={**SECURITY_HEADERS,
                                     "Content-Disposition": f'attachment; filename="{exports.ics_filename(booking.code)}"'})
