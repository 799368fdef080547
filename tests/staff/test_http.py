"""The staff page over HTTP, served by a Sanic app built with the same hook as Rasa's server."""
from __future__ import annotations

import re
from typing import Any, Optional

import pytest
import requests

from bot.booking import store
from bot.staff.config import StaffConfig
from tests.staff.conftest import API_TOKEN, PASSWORD, InProcessServer, add_request, build_app


def csrf_in(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def logged_in(server: InProcessServer, password: str = PASSWORD, name: str = "alice") -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{server.url}/staff/login")
    answer = browser.post(f"{server.url}/staff/login", allow_redirects=False,
                          data={"csrf": csrf_in(form.text), "username": name, "password": password})
    assert answer.status_code == 303, answer.text
    return browser


def post_status(browser: requests.Session, server: InProcessServer, code: str, status: str,
                csrf: Optional[str], **headers: Any) -> requests.Response:
    data = {"status": status}
    if csrf is not None:
        data["csrf"] = csrf
    return browser.post(f"{server.url}/staff/requests/{code}/status", data=data, headers=headers, allow_redirects=False)


def test_without_accounts_the_page_says_it_is_switched_off(database: str) -> None:
    with InProcessServer(build_app(StaffConfig(), {})) as server:
        answer = requests.get(f"{server.url}/staff/")
        assert answer.status_code == 503 and "switched off" in answer.text
        assert requests.post(f"{server.url}/staff/login", data={"password": "anything"}).status_code == 503


def test_pages_need_a_login_but_not_the_api_token(staff_server: InProcessServer) -> None:
    for path in ("/staff/", "/staff/requests.csv", "/staff/requests/ABCD", "/staff/requests/ABCD.ics"):
        answer = requests.get(staff_server.url + path, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login?next=")
    assert requests.get(f"{staff_server.url}/status").status_code == 401  # the API keeps its token
    assert requests.get(f"{staff_server.url}/status", params={"token": API_TOKEN}).ok


def test_the_other_protections_still_apply(staff_server: InProcessServer) -> None:
    page = requests.get(f"{staff_server.url}/staff/login")
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    too_big = requests.post(f"{staff_server.url}/staff/login", data={"password": "x" * 30000})
    assert too_big.status_code == 413
    foreign = requests.post(f"{staff_server.url}/staff/login", data={}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_a_wrong_password_is_refused(staff_server: InProcessServer) -> None:
    browser = requests.Session()
    form = browser.get(f"{staff_server.url}/staff/login")
    answer = browser.post(f"{staff_server.url}/staff/login", allow_redirects=False,
                          data={"csrf": csrf_in(form.text), "username": "alice", "password": "wrong password"})
    assert answer.status_code == 401 and "do not match" in answer.text
    assert "staff_session" not in browser.cookies
    assert browser.get(f"{staff_server.url}/staff/", allow_redirects=False).status_code == 303


def test_a_login_form_without_its_token_is_refused(staff_server: InProcessServer) -> None:
    answer = requests.post(f"{staff_server.url}/staff/login", data={"username": "alice", "password": PASSWORD},
                           allow_redirects=False)
    assert answer.status_code == 403 and "staff_session" not in answer.cookies


def test_the_session_cookie_is_http_only_same_site_and_secure_over_tls(staff_server: InProcessServer) -> None:
    for headers, secure in (({}, False), ({"X-Forwarded-Proto": "https"}, True)):
        browser = requests.Session()
        form = browser.get(f"{staff_server.url}/staff/login")
        answer = browser.post(f"{staff_server.url}/staff/login", allow_redirects=False, headers=headers,
                              data={"csrf": csrf_in(form.text), "username": "alice", "password": PASSWORD})
        cookie = [c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith("staff_session=")][0]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff" in cookie
        assert "Max-Age=28800" in cookie
        assert ("Secure" in cookie) is secure


def test_logging_in_goes_back_to_the_page_asked_for_but_never_off_site(staff_server: InProcessServer) -> None:
    for target, expected in (("/staff/requests/ABCD", "/staff/requests/ABCD"), ("https://evil.example/", "/staff/"),
                             ("//evil.example/staff/", "/staff/")):
        browser = requests.Session()
        form = browser.get(f"{staff_server.url}/staff/login", params={"next": target})
        answer = browser.post(f"{staff_server.url}/staff/login", allow_redirects=False,
                              data={"csrf": csrf_in(form.text), "username": "alice", "password": PASSWORD,
                                    "next": target})
        assert answer.headers["Location"] == expected


def test_the_list_shows_requests_newest_first_with_their_intake(database: str, staff_server: InProcessServer) -> None:
    older = add_request(database, name="Dana Rivers")
    kiosk = add_request(database, name=None, phone=None, email=None, channel="kiosk", intake={"areas": ["feet"]})
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/").text
    assert page.index(kiosk.code) < page.index(older.code)
    assert "at reception (kiosk)" in page and "Dana Rivers" in page
    assert "Swedish massage, 45 min" in page and "Tue 01 Dec 2026, 14:30" in page
    assert "Adapt the session" in page and "Pregnancy, Arthritis · lower back, neck" in page


def test_typed_markup_is_shown_as_text(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database, name="<script>alert(1)</script>", preferred_text="<img src=x onerror=alert(1)>",
                          intake={"areas": ["<b>neck</b>"]})
    browser = logged_in(staff_server)
    for path in ("/staff/", f"/staff/requests/{booking.code}", f"/staff/requests/{booking.code}/print"):
        page = browser.get(staff_server.url + path).text
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>neck" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_by_code_or_name_and_filter_by_status(database: str, staff_server: InProcessServer) -> None:
    dana = add_request(database, name="Dana Rivers")
    sam = add_request(database, name="Sam Okafor")
    store.set_status(sam.code, "confirmed", url=database)
    browser = logged_in(staff_server)
    by_name = browser.get(f"{staff_server.url}/staff/", params={"q": "rivers"}).text
    assert dana.code in by_name and sam.code not in by_name
    by_code = browser.get(f"{staff_server.url}/staff/", params={"q": sam.code.lower()}).text
    assert sam.code in by_code and dana.code not in by_code
    confirmed = browser.get(f"{staff_server.url}/staff/", params={"status": "confirmed"}).text
    assert sam.code in confirmed and dana.code not in confirmed
    assert 'href="/staff/requests.csv?status=confirmed"' in confirmed


def test_a_status_change_needs_the_session_csrf_token(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/requests/{booking.code}")
    assert "Confirm" in page.text and "Cancel request" in page.text
    assert post_status(browser, staff_server, booking.code, "confirmed", None).status_code == 403
    assert post_status(browser, staff_server, booking.code, "confirmed", "not-the-token").status_code == 403
    other = logged_in(staff_server)
    other_token = csrf_in(other.get(f"{staff_server.url}/staff/").text)
    assert post_status(browser, staff_server, booking.code, "confirmed", other_token).status_code == 403
    assert store.get_by_code(booking.code, url=database).status == "new"
    token = csrf_in(page.text)
    foreign = post_status(browser, staff_server, booking.code, "confirmed", token, Origin="https://www.spa.example")
    assert foreign.status_code == 403  # an allowed widget origin, but not the staff page itself
    assert post_status(browser, staff_server, booking.code, "confirmed", token,
                       **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    done = post_status(browser, staff_server, booking.code, "confirmed", token, Origin=staff_server.url)
    assert done.status_code == 303 and done.headers["Location"] == f"/staff/requests/{booking.code}?changed=confirmed"
    assert store.get_by_code(booking.code, url=database).status == "confirmed"
    shown = browser.get(staff_server.url + done.headers["Location"]).text
    assert "Status changed to confirmed." in shown and "Mark as done" in shown


def test_a_change_the_workflow_does_not_allow_is_refused(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    browser = logged_in(staff_server)
    token = csrf_in(browser.get(f"{staff_server.url}/staff/").text)
    assert post_status(browser, staff_server, booking.code, "done", token).status_code == 409
    assert post_status(browser, staff_server, booking.code, "bogus", token).status_code == 409
    assert post_status(browser, staff_server, "ZZZZ", "confirmed", token).status_code == 404
    assert store.get_by_code(booking.code, url=database).status == "new"


def test_a_post_without_a_session_goes_to_the_login(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    answer = requests.post(f"{staff_server.url}/staff/requests/{booking.code}/status", data={"status": "confirmed"},
                           allow_redirects=False)
    assert answer.status_code == 303 and store.get_by_code(booking.code, url=database).status == "new"


def test_the_detail_page_puts_conditions_and_their_modifications_first(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    page = logged_in(staff_server).get(f"{staff_server.url}/staff/requests/{booking.code}").text
    assert page.index("Pregnancy") < page.index("Arthritis") < page.index("lower back, neck")
    assert "Book a certified prenatal therapist; side-lying position." in page
    assert 'href="tel:+15550100123"' in page and "dana@example.com" in page
    assert f'href="/staff/requests/{booking.code}.ics"' in page


def test_unknown_codes_are_not_found(staff_server: InProcessServer) -> None:
    browser = logged_in(staff_server)
    for path in ("/staff/requests/ZZZZ", "/staff/requests/ZZZZ.ics", "/staff/requests/ZZZZ/print",
                 "/staff/requests/%3Cx%3E"):
        assert browser.get(staff_server.url + path).status_code == 404


def test_the_print_sheet_has_no_navigation(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    page = logged_in(staff_server).get(f"{staff_server.url}/staff/requests/{booking.code}/print").text
    assert "Intake sheet" in page and "<nav" not in page and "Log out" not in page
    assert "Therapist's notes" in page


def test_csv_export_follows_the_search_and_defuses_formulas(database: str, staff_server: InProcessServer) -> None:
    add_request(database, name="=HYPERLINK(\"http://evil.example\")")
    add_request(database, name="Sam Okafor")
    browser = logged_in(staff_server)
    answer = browser.get(f"{staff_server.url}/staff/requests.csv", params={"q": "hyperlink"})
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="booking-requests-\d{8}-\d{4}\.csv"', answer.headers["Content-Disposition"])
    text = answer.content.decode("utf-8-sig")
    assert text.startswith("code,created_utc,status,name")
    assert "'=HYPERLINK" in text and "Sam Okafor" not in text and "'+15550100123" in text


def test_icalendar_download(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database)
    answer = logged_in(staff_server).get(f"{staff_server.url}/staff/requests/{booking.code}.ics")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="booking-{booking.code}.ics"'
    body = answer.content.decode()
    assert "DTSTART;TZID=America/New_York:20261201T143000" in body and "DURATION:PT45M" in body
    assert f"SUMMARY:Massage: Swedish massage ({booking.code})" in body


def test_icalendar_needs_a_preferred_time(database: str, staff_server: InProcessServer) -> None:
    booking = add_request(database, preferred_at=None)
    browser = logged_in(staff_server)
    assert browser.get(f"{staff_server.url}/staff/requests/{booking.code}.ics").status_code == 409
    assert ".ics" not in browser.get(f"{staff_server.url}/staff/requests/{booking.code}").text


def test_logout_ends_the_session_even_for_a_copied_cookie(staff_server: InProcessServer) -> None:
    browser = logged_in(staff_server)
    copied = browser.cookies.get("staff_session")
    token = csrf_in(browser.get(f"{staff_server.url}/staff/").text)
    assert browser.post(f"{staff_server.url}/staff/logout", data={}, allow_redirects=False).status_code == 403
    out = browser.post(f"{staff_server.url}/staff/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status_code == 303 and out.headers["Location"] == "/staff/login?out=1"
    replay = requests.get(f"{staff_server.url}/staff/", cookies={"staff_session": copied}, allow_redirects=False)
    assert replay.status_code == 303


def test_a_shared_account_logs_in_with_the_password_alone(database: str, password_hash: str) -> None:
    config = StaffConfig(accounts={"staff": password_hash}, secret_key=b"k" * 32)
    with InProcessServer(build_app(config, {})) as server:
        browser = requests.Session()
        form = browser.get(f"{server.url}/staff/login").text
        assert 'name="username"' not in form
        answer = browser.post(f"{server.url}/staff/login", data={"csrf": csrf_in(form), "password": PASSWORD},
                              allow_redirects=False)
        assert answer.status_code == 303


@pytest.mark.parametrize("path", ["/staff", "/staff/static/staff.css"])
def test_public_bits(staff_server: InProcessServer, path: str) -> None:
    answer = requests.get(staff_server.url + path, allow_redirects=False)
    assert answer.status_code in (200, 301)


def test_a_missing_booking_table_gets_a_clear_page_not_a_crash(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                              staff_config: StaffConfig) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    with InProcessServer(build_app(staff_config, {})) as server:
        answer = logged_in(server).get(f"{server.url}/staff/")
        assert answer.status_code == 503 and "make kb" in answer.text
