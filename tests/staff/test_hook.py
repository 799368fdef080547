"""The security hook mounts the staff page and lets it through without the API token."""
from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from bot.security.hooks import secure_app
from bot.security.settings import Settings
from bot.staff.config import StaffConfig
from tests.security.test_hooks import FakeRequest


def check_for(name: str) -> Any:
    app = Sanic(name)
    secure_app(app, Settings.from_env({}, port=5005), "t0ken", False, staff=StaffConfig())
    check = app.request_middleware[0]
    return app, (lambda request: asyncio.run(check(request)))


def test_staff_paths_skip_the_token_check_but_nothing_else() -> None:
    app, check = check_for("staff_hook_paths")
    for path in ("/staff", "/staff/", "/staff/requests/ABCD", "/staff/login"):
        assert check(FakeRequest(path)) is None
        assert check(FakeRequest(path, "POST")) is None
    assert check(FakeRequest("/staffroom")).status == 401
    assert check(FakeRequest("/status")).status == 401
    assert check(FakeRequest("/staff/login", "POST", origin="https://evil.example")).status == 403
    assert app.config.REQUEST_MAX_SIZE == Settings().max_request_bytes


def test_the_staff_routes_are_on_the_app() -> None:
    app, _ = check_for("staff_hook_routes")
    paths = {route.path for route in app.router.routes}
    assert {"staff/", "staff/login", "staff/requests/<ref:str>", "staff/requests.csv"} <= paths
