"""The spa's booking email, sent to a real local SMTP server (aiosmtpd): what it says, who gets
it, and that a missing or broken mail server never gets in the booking's way."""
from __future__ import annotations

import asyncio
import smtplib
import socket
import time
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.booking import notify, store
from bot.booking.models import BookingRequest
from bot.knowledge import migrate

INTAKE = {
    "conditions": [{"id": "pregnancy", "name": "Pregnancy", "severity": "relative",
                    "modification": "See a certified prenatal massage therapist."}],
    "areas": ["Lower back", "Neck"],
    "goals": ["Better sleep"],
    "symptoms": ["Stiffness"],
    "pressure": "gentle",
    "audiences": ["Office workers"],
}


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.messages: List[EmailMessage] = []
        self.recipients: List[List[str]] = []
        self.logins: List[str] = []
        self.delay_s = delay_s

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay_s)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(inbox: Inbox, **options: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    received = Inbox()
    controller = serve(received)
    received.port = controller.port  # type: ignore[attr-defined]
    yield received
    controller.stop()


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, inbox: Inbox) -> pytest.MonkeyPatch:
    for name in ("SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "STAFF_PAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(inbox.port))  # type: ignore[attr-defined]
    monkeypatch.setenv("SMTP_STARTTLS", "off")
    monkeypatch.setenv("BOOKING_NOTIFY_TO", "front-desk@spa.example, owner@spa.example")
    monkeypatch.setenv("STAFF_PAGE_URL", "https://chat.spa.example/")
    return monkeypatch


@pytest.fixture
def request_(tmp_path: Path) -> BookingRequest:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    migrate.upgrade(url)
    return store.create_request(
        sender_id="conversation-1", channel="web", technique="swedish", technique_name="Swedish massage",
        minutes=60, preferred_at=datetime(2026, 12, 1, 17, 0), preferred_text="next Tuesday after 5",
        name="Dana Reyes", phone="+12025550143", email="dana@example.com", intake=INTAKE, url=url,
        now=datetime(2026, 11, 28, 9, 30))


def settings(port: int, **changes: Any) -> notify.SmtpSettings:
    values = dict(host="127.0.0.1", port=port, starttls=False, sender="assistant@spa.example",
                  recipients=("front-desk@spa.example",))
    values.update(changes)
    return notify.SmtpSettings(**values)


def test_each_new_request_emails_the_spa_with_everything_staff_need(
    smtp_env: pytest.MonkeyPatch, inbox: Inbox, request_: BookingRequest
) -> None:
    notify.notify_new_request(request_)
    assert notify.wait_for_pending(timeout=10)
    assert len(inbox.messages) == 1
    email = inbox.messages[0]
    code = request_.code
    assert email["Subject"] == f"New booking request {code}: Swedish massage, 60 minutes"
    assert inbox.recipients == [["front-desk@spa.example", "owner@spa.example"]]
    assert email["From"] == "front-desk@spa.example" and email["Reply-To"] == "dana@example.com"
    body = email.get_content()
    for expected in (
        f"Reference: {code}", "Service: Swedish massage, 60 minutes",
        'Preferred time: Tuesday 1 December at 5 pm (spa time); they wrote "next Tuesday after 5"',
        "Name: Dana Reyes", "Phone: +1 202-555-0143", "Email: dana@example.com", "website chat",
        "- Condition: Pregnancy — Modification: See a certified prenatal massage therapist.",
        "- Areas: lower back, neck", "- Goals: better sleep", "- Symptoms: stiffness",
        "- Pressure: gentle", "- About you: office workers",
        f"Open the request: https://chat.spa.example/staff/requests/{code}",
    ):
        assert expected in body, expected
    order = [body.index(part) for part in ("Condition:", "Areas:", "Goals:", "Symptoms:", "Pressure:", "About you:")]
    assert order == sorted(order)


def test_the_subject_never_carries_health_details(inbox: Inbox, request_: BookingRequest) -> None:
    message = notify.build_message(request_, settings(inbox.port))  # type: ignore[attr-defined]
    assert "Pregnan" not in message["Subject"] and "back" not in message["Subject"]


def test_nothing_is_sent_without_smtp_host(
    smtp_env: pytest.MonkeyPatch, inbox: Inbox, request_: BookingRequest
) -> None:
    smtp_env.delenv("SMTP_HOST")
    notify.notify_new_request(request_)
    assert notify.wait_for_pending(timeout=5)
    assert inbox.messages == [] and notify.smtp_settings({}) is None


def test_an_unreachable_mail_server_is_logged_not_raised(
    smtp_env: pytest.MonkeyPatch, request_: BookingRequest, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_env.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    notify.notify_new_request(request_)
    assert notify.wait_for_pending(timeout=15)
    assert f"Could not email the spa about booking request {request_.code}" in caplog.text
    for private in ("Dana", "202", "dana@example.com", "Pregnancy", "Tuesday"):
        assert private not in caplog.text


def test_the_caller_does_not_wait_for_the_mail_server(
    smtp_env: pytest.MonkeyPatch, request_: BookingRequest
) -> None:
    slow = Inbox(delay_s=1.5)
    controller = serve(slow)
    try:
        smtp_env.setenv("SMTP_PORT", str(controller.port))
        started = time.monotonic()
        notify.notify_new_request(request_)
        assert time.monotonic() - started < 0.5
        assert notify.wait_for_pending(timeout=15) and len(slow.messages) == 1
    finally:
        controller.stop()


def test_a_password_is_never_sent_to_a_server_without_starttls(inbox: Inbox, request_: BookingRequest) -> None:
    with pytest.raises(smtplib.SMTPNotSupportedError):
        notify.send_notification(request_, settings(inbox.port, starttls=True, user="spa",  # type: ignore[attr-defined]
                                                    password="s3cret"))
    assert inbox.messages == []


def test_it_logs_in_when_a_user_is_configured(request_: BookingRequest) -> None:
    received = Inbox()
    controller = serve(received, authenticator=received.authenticate, auth_require_tls=False)
    try:
        notify.send_notification(request_, settings(controller.port, user="spa", password="s3cret"))
    finally:
        controller.stop()
    assert received.logins == ["spa"] and len(received.messages) == 1


def test_a_kiosk_request_without_contact_says_to_ask_at_reception() -> None:
    fields = {"code": "ACDE", "channel": "kiosk", "technique_name": None, "minutes": None,
              "preferred_at": None, "preferred_text": "after lunch", "intake": {}}
    body = "\n".join(notify.body_lines(fields))
    assert "Contact: at the reception kiosk: ask in person" in body
    assert "Service: Massage (no technique chosen)" in body
    assert 'Preferred time: "after lunch" (not read as a date: please confirm)' in body
    assert "- nothing about conditions, areas or goals" in body and "Open the request" not in body


@pytest.mark.parametrize("base", ["https://chat.spa.example", "https://chat.spa.example/staff/",
                                  "https://chat.spa.example/staff/requests"])
def test_the_staff_link_works_with_or_without_the_staff_path(base: str) -> None:
    assert notify.staff_link(base, "ACDE") == "https://chat.spa.example/staff/requests/ACDE"


def test_settings_default_to_starttls_except_on_local_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"SMTP_HOST": "mail.example", "BOOKING_NOTIFY_TO": "spa@example.com"}
    assert notify.smtp_settings(env).port == 587 and notify.smtp_settings(env).starttls
    assert not notify.smtp_settings({**env, "SMTP_PORT": "25"}).starttls
    assert not notify.smtp_settings({**env, "SMTP_PORT": "1025"}).starttls
    assert notify.smtp_settings({**env, "SMTP_PORT": "1025", "SMTP_STARTTLS": "1"}).starttls
    implicit = notify.smtp_settings({**env, "SMTP_PORT": "465"})
    assert implicit.ssl and not implicit.starttls
    assert notify.smtp_settings({**env, "SMTP_USER": "bookings@spa.example"}).sender == "bookings@spa.example"
    assert notify.smtp_settings({**env, "SMTP_FROM": "Spa <noreply@spa.example>"}).sender == "Spa <noreply@spa.example>"


def test_the_spa_email_in_the_knowledge_base_is_the_default_recipient(kb_database: str) -> None:
    configured = notify.smtp_settings({"SMTP_HOST": "mail.example"})
    assert configured.recipients == ("hello@harbourlight.example",)
    assert configured.sender == "hello@harbourlight.example"
