"""The spa's own content on the staff page: edits checked by the loader's schema, every save a new
version with the knowledge-base rows rewritten, undo by restoring, diffs, export and import, and
only an owner, with the session's CSRF token, can change anything."""
from __future__ import annotations

import importlib
import io
import re
import zipfile
from html import unescape
from typing import Dict, Iterator, List, Tuple

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import content, migrate, models, price_list
from bot.knowledge.db import get_engine
from bot.knowledge.loader import KnowledgeBaseError, load, read_knowledge_base_texts, read_texts
from bot.knowledge.prices import Price, parse_amount, price_reply
from bot.staff.config import StaffConfig
from bot.staff.web import StaffPage
from tests.conftest import KB_DIR
from tests.staff.conftest import PASSWORD, InProcessServer, add_request, build_app
from tests.staff.test_http import csrf_in

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def roles(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={"olive": password_hash, "owen": password_hash, "rhea": password_hash},
                       roles={"olive": "owner", "owen": "owner", "rhea": "reception"}, secret_key=b"c" * 32)


@pytest.fixture
def server(database: str, roles: StaffConfig) -> Iterator[InProcessServer]:
    with InProcessServer(build_app(roles, {})) as running:
        yield running


def log_in(server: InProcessServer, name: str = "olive") -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{server.url}/staff/login")
    answer = browser.post(f"{server.url}/staff/login", allow_redirects=False,
                          data={"csrf": csrf_in(form.text), "username": name, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    return browser


def form_values(page: str) -> Dict[str, str]:
    """The named fields of the page's last edit form, as a browser would send them."""
    fields: Dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        fields[unescape(name)] = unescape(value)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[unescape(name)] = unescape(value)
    return fields


def price_rows(url: str) -> List[Tuple[str, int, str]]:
    with Session(get_engine(url)) as session:
        rows = session.execute(select(models.Price).order_by(models.Price.position)).scalars()
        return [(r.service, r.minutes, r.price) for r in rows]


def topic_answer(url: str, topic_id: str) -> str:
    with Session(get_engine(url)) as session:
        return session.get(models.Topic, topic_id).answer


def saved_numbers(url: str) -> List[int]:
    with Session(get_engine(url)) as session:
        return list(session.scalars(select(models.ContentVersion.number).order_by(models.ContentVersion.number)))


def change_price(browser: requests.Session, server: InProcessServer, minutes: int, price: str,
                 step: str = "save") -> requests.Response:
    form = form_values(browser.get(f"{server.url}/staff/content/prices").text)
    row = next(key[:-len("-minutes")] for key, value in form.items() if key.endswith("-minutes") and value == str(minutes))
    form[f"{row}-price"] = price
    return browser.post(f"{server.url}/staff/content/prices", data={**form, "step": step}, allow_redirects=False)


def change_answer(browser: requests.Session, server: InProcessServer, kind: str, entry: str, text: str,
                  step: str = "save") -> requests.Response:
    path = f"{server.url}/staff/content/answers/{kind}/{entry}"
    form = form_values(browser.get(path).text)
    return browser.post(path, data={**form, "answer": text, "step": step}, allow_redirects=False)


# --- one schema: the loader's ---------------------------------------------------------------

def test_a_form_is_checked_by_the_loaders_own_schema(database: str, server: InProcessServer) -> None:
    spa_yml = read_texts(KB_DIR)["spa.yml"].replace("minutes: 60, price: 95", "minutes: 60, price: lots")
    with pytest.raises(KnowledgeBaseError) as from_loader:
        read_knowledge_base_texts({**read_texts(KB_DIR), "spa.yml": spa_yml})
    answer = change_price(log_in(server), server, 60, "lots")
    assert answer.status_code == 422
    assert str(from_loader.value) == "spa.yml, entry 'Massage, 60 min': field 'price' must be an amount like 55 or " \
                                     "49.50, without the currency sign, not 'lots'"
    assert unescape(answer.text).count(str(from_loader.value)) == 2  # the summary and next to the field
    assert re.search(r'id="price-2-price"[^>]*aria-describedby="price-2-price-error" aria-invalid="true"', answer.text)
    assert saved_numbers(database) == [] and price_rows(database)[2] == ("Massage", 60, "95")


@pytest.mark.parametrize("field, value, message", [
    ("spa-email", "not an email", "field 'email' must be an email address"),
    ("spa-opening_hours", "Mon-Sta 09:00-19:00", "field 'opening_hours' cannot be read"),
    ("spa-timezone", "Harbour/Town", "field 'timezone' must be a time zone name"),
    ("spa-closed_dates", "2026-12-25, Christmas", "field 'closed_dates' must list dates written as YYYY-MM-DD"),
    ("spa-booking_url", "harbourlight.example/book", "field 'booking_url' must be a full https:// address"),
    ("spa-tipping", "", "field 'tipping' cannot be empty: the first-visit answer 'tipping' ends with it"),
    ("spa-name", "  ", "field 'name' cannot be empty"),
])
def test_a_bad_detail_is_shown_next_to_its_field(database: str, server: InProcessServer, field: str, value: str,
                                                  message: str) -> None:
    browser = log_in(server)
    form = form_values(browser.get(f"{server.url}/staff/content/details").text)
    answer = browser.post(f"{server.url}/staff/content/details", data={**form, field: value, "step": "save"})
    assert answer.status_code == 422
    next_to_field = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', answer.text)
    assert next_to_field and unescape(next_to_field.group(1)).startswith(f"spa.yml, entry 'spa': {message}")
    assert saved_numbers(database) == []


def test_an_emptied_answer_is_saved_empty_and_a_field_left_out_is_kept(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    form = form_values(browser.get(f"{server.url}/staff/content/details").text)
    form.update({"spa-parking": "", "spa-transit": ""})
    del form["spa-payment"]
    preview = browser.post(f"{server.url}/staff/content/details", data={**form, "step": "preview"})
    assert "I don&#39;t have that information here, sorry." in preview.text
    saved = browser.post(f"{server.url}/staff/content/details", data={**form, "step": "save"}, allow_redirects=False)
    assert saved.status_code == 303
    with Session(get_engine(database)) as session:
        assert session.get(models.Setting, ("spa", "parking")).value == ""
        assert session.get(models.Setting, ("spa", "payment")).value.startswith("We take cash")
    assert content.current().summary == "Spa details: parking, public transport"


def test_safety_content_is_shown_but_cannot_be_edited(server: InProcessServer) -> None:
    page = log_in(server).get(f"{server.url}/staff/content").text
    assert "Safety content (read-only)" in page and "Blood clot or deep vein thrombosis (DVT)" in page
    assert "988" in page  # the US crisis line, read-only
    details = log_in(server).get(f"{server.url}/staff/content/details").text
    assert 'name="spa-country"' not in details and 'name="spa-tipping"' in details


def test_the_country_cannot_be_changed_by_an_import(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    page = browser.get(f"{server.url}/staff/content/import").text
    spa_yml = read_texts(KB_DIR)["spa.yml"].replace("country: US", "country: GB")
    answer = browser.post(f"{server.url}/staff/content/import", data=form_values(page),
                          files=[("files", ("spa.yml", spa_yml.encode()))])
    assert answer.status_code == 422
    assert "spa.yml, entry &#39;spa&#39;: field &#39;country&#39; cannot be changed here" in answer.text


# --- saving, versions, undo ---------------------------------------------------------------------

def test_a_preview_shows_the_reply_and_the_change_and_saves_nothing(database: str, server: InProcessServer) -> None:
    answer = change_price(log_in(server), server, 60, "99.5", step="preview")
    assert answer.status_code == 200
    text = unescape(answer.text)
    assert "Massage: $55 for 30 minutes, $75 for 45 minutes, $99.50 for 60 minutes" in text
    assert "- {service: Massage, minutes: 60, price: 99.5}" in text  # the new line of spa.yml
    assert "- {service: Massage, minutes: 60, price: 95}" in text  # and the old one
    assert saved_numbers(database) == [] and price_rows(database)[2] == ("Massage", 60, "95")


def test_saving_makes_a_new_version_and_rewrites_the_rows(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    saved = change_price(browser, server, 60, "99")
    assert saved.status_code == 303 and saved.headers["Location"] == "/staff/content?saved=2"
    assert saved_numbers(database) == [1, 2]  # data/kb became version 1, the edit version 2
    assert price_rows(database) == [("Massage", 30, "55"), ("Massage", 45, "75"), ("Massage", 60, "99")]
    assert price_list.price_list()[-1] == Price("Massage", 60, "99")  # what the action server reads
    edited = change_answer(browser, server, "faq", "insurance", "Often. Ask your **insurance provider**.")
    assert edited.headers["Location"] == "/staff/content?saved=3"
    assert topic_answer(database, "insurance") == "Often. Ask your **insurance provider**."
    history = unescape(browser.get(f"{server.url}/staff/content/history").text)
    assert "FAQ answer: Insurance" in history and "Prices" in history and "Defaults (data/kb)" in history
    assert history.index("Version 3") < history.index("Version 2") < history.index("Version 1")
    shown = browser.get(f"{server.url}/staff/content?saved=3").text
    assert "Saved as version 3." in shown and "Undo: restore version 2" in shown


def test_an_edit_keeps_the_files_comments_and_layout(database: str, server: InProcessServer) -> None:
    change_answer(log_in(server), server, "faq", "insurance", "Often. Some plans pay back part of the cost.")
    before, after = content.version(1).files, content.current().files
    assert after["spa.yml"] == before["spa.yml"] and after["first_visit.yml"] == before["first_visit.yml"]
    changes = content.diff(before, after)
    assert [(c.name, c.added, c.removed) for c in changes] == [("topics.yml", 1, 3)]  # only the answer's lines
    assert "# Answers to the common questions." in after["topics.yml"]


def test_restoring_brings_the_old_reply_back_as_a_new_version(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    change_price(browser, server, 60, "120")
    page = browser.get(f"{server.url}/staff/content/history").text
    restored = browser.post(f"{server.url}/staff/content/history/1/restore",
                            data={"csrf": csrf_in(page), "base": "2"}, allow_redirects=False)
    assert restored.status_code == 303 and restored.headers["Location"] == "/staff/content?saved=3&restored=1"
    assert saved_numbers(database) == [1, 2, 3]
    assert content.current().files == content.default_files() and content.current().restored_from == 1
    assert price_rows(database)[2] == ("Massage", 60, "95")
    assert "Version 1 restored: it is now version 3." in browser.get(f"{server.url}{restored.headers['Location']}").text


def test_a_version_page_shows_what_changed_escaped(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    change_answer(browser, server, "first-visit", "shaving", "No need to shave. <script>alert(1)</script>")
    page = browser.get(f"{server.url}/staff/content/history/2").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<tr class="diff-added">' in page and '<tr class="diff-removed">' in page
    assert "first_visit.yml: 1 line added, 2 removed" in page
    assert "Restore version" not in page  # it is the version in use
    first = browser.get(f"{server.url}/staff/content/history/1").text
    assert "Restore version 1" in first and "What restoring it would change now" in first
    assert browser.get(f"{server.url}/staff/content/history/9").status_code == 404


def test_a_change_saved_meanwhile_is_never_overwritten(database: str, server: InProcessServer) -> None:
    olive, owen = log_in(server, "olive"), log_in(server, "owen")
    path = f"{server.url}/staff/content/answers/faq/insurance"
    owens_form = form_values(owen.get(path).text)
    change_answer(olive, server, "faq", "insurance", "Olive's answer.")
    late = owen.post(path, data={**owens_form, "answer": "Owen's answer.", "step": "save"}, allow_redirects=False)
    assert late.status_code == 409 and "Version 2 was saved after you opened this page" in unescape(late.text)
    assert topic_answer(database, "insurance") == "Olive's answer." and saved_numbers(database) == [1, 2]


def test_make_kb_keeps_the_spas_saved_content(database: str, server: InProcessServer) -> None:
    change_price(log_in(server), server, 30, "60")
    load(KB_DIR, database)  # what `make kb` does
    assert price_rows(database)[0] == ("Massage", 30, "60")


def test_without_saved_versions_data_kb_is_version_one(database: str, server: InProcessServer) -> None:
    first = content.current()
    assert (first.number, first.saved, first.summary) == (1, False, "Defaults (data/kb)")
    page = log_in(server).get(f"{server.url}/staff/content/history").text
    assert "Version 1" in page and "not saved yet" in page and "Restore" not in page.split("<tbody>")[1]


# --- export and import ------------------------------------------------------------------------

def test_the_export_of_the_defaults_is_data_kb_byte_for_byte(server: InProcessServer) -> None:
    browser = log_in(server)
    archive = browser.get(f"{server.url}/staff/content/export.zip")
    assert archive.headers["Content-Type"] == "application/zip"
    assert archive.headers["Content-Disposition"] == 'attachment; filename="spa-content-v1.zip"'
    with zipfile.ZipFile(io.BytesIO(archive.content)) as unpacked:
        assert sorted(unpacked.namelist()) == sorted(content.SPA_FILES)
        for name in content.SPA_FILES:
            assert unpacked.read(name) == (KB_DIR / name).read_bytes(), name
    for name in content.SPA_FILES:
        one = browser.get(f"{server.url}/staff/content/export/{name}")
        assert one.content == (KB_DIR / name).read_bytes() and name in one.headers["Content-Disposition"]
    assert browser.get(f"{server.url}/staff/content/export/crisis.yml").status_code == 404


def test_an_export_imports_back_unchanged(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    change_price(browser, server, 45, "80")
    exported = browser.get(f"{server.url}/staff/content/export.zip").content
    page = browser.get(f"{server.url}/staff/content/import").text
    answer = browser.post(f"{server.url}/staff/content/import", data=form_values(page),
                          files=[("files", ("spa-content-v2.zip", exported))])
    assert answer.status_code == 200 and "there is nothing to import" in answer.text


def test_an_import_is_shown_as_a_diff_then_applied_when_confirmed(database: str, server: InProcessServer) -> None:
    browser = log_in(server)
    topics = read_texts(KB_DIR)["topics.yml"].replace("Sometimes. Some health plans", "Often. Some health plans")
    page = browser.get(f"{server.url}/staff/content/import").text
    check = browser.post(f"{server.url}/staff/content/import", data=form_values(page),
                         files=[("files", ("topics.yml", topics.replace("\n", "\r\n").encode()))])
    assert check.status_code == 200 and "Confirm the import" in check.text
    assert "topics.yml: 1 line added, 1 removed" in check.text and "Often. Some health plans" in check.text
    assert saved_numbers(database) == []  # nothing applied yet
    confirmed = browser.post(f"{server.url}/staff/content/import/confirm", data=form_values(check.text),
                             allow_redirects=False)
    assert confirmed.status_code == 303 and saved_numbers(database) == [1, 2]
    assert topic_answer(database, "insurance").startswith("Often. Some health plans")
    assert content.current().files["topics.yml"] == topics and content.current().summary == "Imported topics.yml"


@pytest.mark.parametrize("name, old, new, message", [
    ("spa.yml", "minutes: 45, price: 75", "minutes: 45, price: seventy",
     "spa.yml, entry 'Massage, 45 min': field 'price' must be an amount like 55"),
    ("spa.yml", "minutes: 45, price: 75", "minutes: forty-five, price: 75",
     "spa.yml, entry 'Massage, forty-five min': field 'minutes' must be a whole number of minutes"),
    ("first_visit.yml", "    answer: Customs differ", "    reply: Customs differ",
     "first_visit.yml, entry 'tipping': missing field(s) answer"),
    ("topics.yml", "    intent: ask_insurance\n", "    intent: ask_insurance\n    tone: warm\n",
     "topics.yml, entry 'insurance': unknown field(s) tone"),
    ("spa.yml", "  email: hello@harbourlight.example", "  email: hello at harbourlight",
     "spa.yml, entry 'spa': field 'email' must be an email address"),
])
def test_an_import_with_a_bad_field_names_it_and_changes_nothing(database: str, server: InProcessServer, name: str,
                                                                 old: str, new: str, message: str) -> None:
    browser = log_in(server)
    text = read_texts(KB_DIR)[name]
    assert old in text
    page = browser.get(f"{server.url}/staff/content/import").text
    answer = browser.post(f"{server.url}/staff/content/import", data=form_values(page),
                          files=[("files", (name, text.replace(old, new, 1).encode()))])
    assert answer.status_code == 422 and message in unescape(answer.text)
    assert saved_numbers(database) == [] and price_rows(database)[1] == ("Massage", 45, "75")


@pytest.mark.parametrize("upload, message", [
    (("conditions.yml", b"conditions: []\n"), "conditions.yml is not one of the spa's files"),
    (("topics.yml", b"\xff\xfe not text"), "topics.yml is not a UTF-8 text file"),
    (("content.zip", b"PK not a zip"), "content.zip is not a readable .zip file"),
])
def test_an_import_of_other_files_is_refused(database: str, server: InProcessServer, upload: Tuple[str, bytes],
                                             message: str) -> None:
    browser = log_in(server)
    page = browser.get(f"{server.url}/staff/content/import").text
    answer = browser.post(f"{server.url}/staff/content/import", data=form_values(page), files=[("files", upload)])
    assert answer.status_code == 422 and message in unescape(answer.text) and saved_numbers(database) == []


# --- who may do what --------------------------------------------------------------------------

def content_routes(config: StaffConfig) -> List[Tuple[str, Tuple[str, ...]]]:
    page = StaffPage(config)
    return [("/staff" + re.sub(r"<[^>]+>", "1", uri), tuple(methods))
            for _, uri, methods, _ in importlib.import_module("bot.staff.content_pages").routes(page)]


def test_reception_gets_403_on_every_content_route_and_method(database: str, server: InProcessServer,
                                                            roles: StaffConfig) -> None:
    reception = log_in(server, "rhea")
    csrf = csrf_in(reception.get(f"{server.url}/staff/").text)
    routes = content_routes(roles)
    assert len(routes) == 11
    for path, declared in routes:
        for method in declared:
            answer = reception.request(method, server.url + path, data={"csrf": csrf, "base": "1", "step": "save"},
                                       allow_redirects=False)
            assert answer.status_code == 403, (method, path, answer.status_code)
    assert saved_numbers(database) == []


def test_nobody_logged_in_goes_to_the_login(server: InProcessServer, roles: StaffConfig) -> None:
    for path, declared in content_routes(roles):
        for method in declared:
            answer = requests.request(method, server.url + path, allow_redirects=False)
            assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login"), path


def test_a_post_without_the_sessions_csrf_token_is_refused(database: str, server: InProcessServer) -> None:
    olive, owen = log_in(server, "olive"), log_in(server, "owen")
    form = form_values(olive.get(f"{server.url}/staff/content/prices").text)
    form["price-2-price"] = "150"
    owens_token = csrf_in(owen.get(f"{server.url}/staff/content").text)
    for data, headers in (({**form, "csrf": ""}, {}), ({**form, "csrf": owens_token}, {}),
                          ({k: v for k, v in form.items() if k != "csrf"}, {}),
                          (form, {"Origin": "https://evil.example"}), (form, {"Sec-Fetch-Site": "cross-site"})):
        answer = olive.post(f"{server.url}/staff/content/prices", data={**data, "step": "save"}, headers=headers,
                            allow_redirects=False)
        assert answer.status_code == 403
    restore = olive.post(f"{server.url}/staff/content/history/1/restore", data={"base": "1"}, allow_redirects=False)
    assert restore.status_code == 403
    assert saved_numbers(database) == [] and price_rows(database)[2] == ("Massage", 60, "95")


def test_booking_requests_are_untouched_by_a_save(database: str, server: InProcessServer) -> None:
    booking = add_request(database)
    change_price(log_in(server), server, 60, "100")
    from bot.booking import store

    assert store.get_by_code(booking.code, url=database) is not None


# --- the price reply ----------------------------------------------------------------------------

def test_the_price_reply_is_built_from_the_price_lines() -> None:
    spa = {"name": "Harbour Light", "currency": "£", "prices_note": "Gift cards too."}
    lines = [Price("Massage", 30, "55"), Price("Hot stone", 75, "110.50"), Price("Massage", 60, "95")]
    assert price_reply(spa, lines) == ("Our prices at Harbour Light:\n- Massage: £55 for 30 minutes, £95 for 60 minutes\n"
                                       "- Hot stone: £110.50 for 75 minutes\nGift cards too.")
    assert price_reply(spa, []) is None
    assert [parse_amount(v) for v in (55, 49.5, "49.50", "0")] == ["55", "49.50", "49.50", "0"]
    for bad in ("$55", "-1", "1.005", True, "nan", None):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_the_content_migration_steps_down_and_keeps_bookings(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    load(KB_DIR, url)
    code = add_request(url).code
    migrate.downgrade(url, migrate.CRISIS_REVISION)
    from sqlalchemy import inspect

    names = set(inspect(get_engine(url)).get_table_names())
    assert "content_versions" not in names and "prices" not in names and "booking_requests" in names
    load(KB_DIR, url)
    from bot.booking import store

    assert store.get_by_code(code, url=url) is not None and len(price_rows(url)) == 3
