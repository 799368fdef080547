"""Roles: reception handles booking requests; only an owner reaches the owner's pages, on every
route and with every method, and the page shows each person their role."""
from __future__ import annotations

import importlib
import re
from typing import Iterator, List, Tuple

import pytest
import requests

from bot.staff.config import StaffConfig
from bot.staff.web import OWNER_PAGES, StaffPage
from tests.staff.conftest import PASSWORD, InProcessServer, build_app
from tests.staff.test_http import csrf_in, logged_in

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def owner_routes(config: StaffConfig) -> List[Tuple[str, Tuple[str, ...]]]:
    """(path with sample parameters, methods) of every owner page."""
    page = StaffPage(config)
    found = []
    for module_name in OWNER_PAGES:
        for _, uri, methods, _ in importlib.import_module(module_name).routes(page):
            found.append(("/staff" + re.sub(r"<[^>]+>", "1", uri), tuple(methods)))
    return found


@pytest.fixture
def two_roles(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={"olive": password_hash, "rhea": password_hash}, roles={"olive": "owner"},
                       secret_key=b"s" * 32)


@pytest.fixture
def server(database: str, two_roles: StaffConfig) -> Iterator[InProcessServer]:
    with InProcessServer(build_app(two_roles, {})) as running:
        yield running


def log_in(server: InProcessServer, name: str) -> requests.Session:
    return logged_in(server, PASSWORD, name)


def test_there_are_owner_pages(two_roles: StaffConfig) -> None:
    paths = {path for path, _ in owner_routes(two_roles)}
    assert {"/staff/content", "/staff/content/history", "/staff/review", "/staff/dashboard"} <= paths


def test_reception_reaches_no_owner_page_with_any_method(server: InProcessServer, two_roles: StaffConfig) -> None:
    reception = log_in(server, "rhea")
    csrf = csrf_in(reception.get(f"{server.url}/staff/").text)
    for path, declared in owner_routes(two_roles):
        for method in METHODS:
            answer = reception.request(method, server.url + path, data={"csrf": csrf}, allow_redirects=False)
            expected = {403} if method in declared else {405}
            assert answer.status_code in expected, (method, path, answer.status_code)


def test_nobody_logged_in_is_sent_to_the_login(server: InProcessServer, two_roles: StaffConfig) -> None:
    for path, declared in owner_routes(two_roles):
        if "GET" in declared:
            answer = requests.get(server.url + path, allow_redirects=False)
            assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login"), path


def test_the_page_shows_the_role_and_the_owner_links(server: InProcessServer) -> None:
    reception = log_in(server, "rhea").get(f"{server.url}/staff/").text
    owner = log_in(server, "olive").get(f"{server.url}/staff/").text
    assert "Log out rhea (reception)" in reception and 'href="/staff/dashboard"' not in reception
    assert "Log out olive (owner)" in owner and 'href="/staff/dashboard"' in owner
