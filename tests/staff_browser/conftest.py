"""The real servers (scripts/run.sh, as `make run` starts them) with a staff account and their own
database, and headless Chromium driven by Playwright."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from bot.knowledge.loader import load
from bot.staff.passwords import hash_password
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.conftest import KB_DIR

STAFF_NAME = "reception"
STAFF_PASSWORD = "harbour-light-frontdesk"
OWNER_NAME = "owner"
OWNER_PASSWORD = "harbour-light-owner-keys"


@pytest.fixture(scope="package")
def staff_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The knowledge base and the booking table, shared with the servers through DATABASE_URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('staff-db') / 'knowledge.db'}"
    load(KB_DIR, url)
    return url


@pytest.fixture(scope="package")
def staff_servers(tmp_path_factory: pytest.TempPathFactory, staff_database: str) -> Iterator[Dict[str, Any]]:
    from tests.servers import start_servers

    accounts = f"{STAFF_NAME}:{hash_password(STAFF_PASSWORD)},{OWNER_NAME}:owner:{hash_password(OWNER_PASSWORD)}"
    env = {"DATABASE_URL": staff_database, "STAFF_ACCOUNTS": accounts,
           "STAFF_SECRET_KEY": secrets.token_urlsafe(32)}
    yield from start_servers(tmp_path_factory, extra_env=env)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Package scope, like tests/browser: Playwright's sync API holds an event loop while open."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: install the Debian package 'chromium' (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
