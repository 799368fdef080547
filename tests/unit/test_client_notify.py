"""What the client is told about their appointment, and how it reaches them: the calendar file
shows the spa's own clock through a daylight-saving change, every message names the code, the
time and the therapist and nothing from the intake, the email with its .ics reaches a real SMTP
server (aiosmtpd), and the text reaches a stand-in for Twilio's API with the account's login."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Dict, Iterator, List, Optional

import pytest
from icalendar import Calendar

from bot.booking import client_notify, sms
from bot.booking.appointments import Appointment
from bot.booking.client_notify import CANCELLED, CONFIRMED, KINDS, MOVED, REMINDER
from tests.channels.fake_apis import FakeApis
from tests.unit.test_booking_notify import Inbox, free_port, serve

SID, TOKEN, NUMBER = "AC" + "1" * 32, "twilio-token", "+15550100000"
CLIENT_EMAIL, CLIENT_PHONE = "dana@example.com", "+12025550143"
# 10:00 in London on the Sunday the clocks go forward: 09:00 UTC, not 10:00.
LONDON_START = datetime(2027, 3, 28, 9, 0, tzinfo=timezone.utc)
SPA: Dict[str, str] = {
    "name": "Harbour Light Massage Studio", "phone": "+44 20 7946 0100", "email": "hello@harbourlight.example",
    "address": "48 Water Street, London", "timezone": "Europe/London",
    "cancellation": "Please give us at least 24 hours' notice if you need to cancel or move your appointment, "
                    "so we can offer the time to someone else. Late cancellations may be charged half the price.",
    "booking_url": "https://harbourlight.example/book",
}
INTAKE_WORDS = ("Pregnan", "prenatal", "back", "sleep", "Stiffness", "gentle")


def appointment(starts_at: datetime = LONDON_START, **changes: Any) -> Appointment:
    values: Dict[str, Any] = dict(
        code="K7QX", therapist_id="maria", room_id="r1", technique="swedish", service="Swedish massage",
        minutes=60, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=75), status="confirmed",
        sender_id="conversation-1", channel="web", name="Dana Reyes", phone=CLIENT_PHONE, email=CLIENT_EMAIL,
        booking_request="ABCD", created_at=starts_at - timedelta(days=3),
        updated_at=starts_at - timedelta(days=3, seconds=-40),
    )
    values.update(changes)
    return Appointment(**values)


def parse(ics: bytes) -> Calendar:
    return Calendar.from_ical(ics)


def the_event(calendar: Calendar) -> Any:
    (event,) = calendar.walk("VEVENT")
    return event


# --- stand-ins -------------------------------------------------------------------------------

class TwilioStandIn(FakeApis):
    """tests/channels/fake_apis.py's Twilio, which also keeps the Authorization header and can
    answer with an error."""

    def __init__(self) -> None:
        self.authorizations: List[Optional[str]] = []
        self.fail_with: Optional[int] = None
        super().__init__()

    def messages(self) -> List[Dict[str, str]]:
        return [call["body"] for call in self.calls_to("/Messages.json")]

    def _handler(self) -> type:
        recording = super()._handler()
        fake = self

        class Handler(recording):  # type: ignore[valid-type, misc]
            def do_POST(self) -> None:
                fake.authorizations.append(self.headers.get("Authorization"))
                if fake.fail_with is None:
                    return recording.do_POST(self)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(fake.fail_with)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as fake:
        monkeypatch.setenv("TWILIO_API_URL", fake.url)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        monkeypatch.setenv("TWILIO_NUMBER", NUMBER)
        yield fake


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    received = Inbox()
    controller = serve(received)
    for name in ("SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    monkeypatch.setenv("SMTP_STARTTLS", "off")
    monkeypatch.setenv("BOOKING_NOTIFY_TO", "front-desk@spa.example")
    yield received
    controller.stop()


@pytest.fixture
def no_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)


def calendar_part(email: EmailMessage) -> EmailMessage:
    (part,) = [part for part in email.iter_attachments() if part.get_content_type() == "text/calendar"]
    return part


# --- the calendar file -----------------------------------------------------------------------

def test_the_calendar_entry_shows_the_spa_clock_through_the_clocks_going_forward() -> None:
    calendar = parse(client_notify.appointment_ics(appointment(), SPA, "Maria Lopez"))
    event = the_event(calendar)
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.hour, start.minute, str(start.tzinfo)) == (10, 0, "Europe/London")
    assert start.astimezone(timezone.utc) == LONDON_START
    assert end - start == timedelta(minutes=60)  # the service, not the room-turning buffer
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert "DTSTART;TZID=Europe/London:20270328T100000" in client_notify.appointment_ics(
        appointment(), SPA, "Maria Lopez").decode()


def test_the_calendar_entry_says_what_where_and_how_to_change_it() -> None:
    calendar = parse(client_notify.appointment_ics(appointment(), SPA, "Maria Lopez", sequence=3))
    event = the_event(calendar)
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    assert str(event["UID"]) == "K7QX@harbourlight.example"
    assert str(event["SUMMARY"]) == "Swedish massage, 60 minutes at Harbour Light Massage Studio"
    assert str(event["LOCATION"]) == SPA["address"]
    description = str(event["DESCRIPTION"])
    assert "K7QX" in description and "Maria" in description and "Lopez" not in description
    assert SPA["phone"] in description
    assert str(event["STATUS"]) == "CONFIRMED" and event["SEQUENCE"] == 3 and event.get("DTSTAMP")
    assert str(event["ORGANIZER"]) == "mailto:hello@harbourlight.example"
    assert str(event["ATTENDEE"]) == f"mailto:{CLIENT_EMAIL}"


def test_a_cancellation_updates_the_same_entry() -> None:
    booked = the_event(parse(client_notify.appointment_ics(appointment(), SPA, None)))
    calendar = parse(client_notify.appointment_ics(appointment(status="cancelled"), SPA, None,
                                                   method="CANCEL", sequence=7))
    cancelled = the_event(calendar)
    assert str(calendar["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["UID"] == booked["UID"] and cancelled["SEQUENCE"] == 7


def test_without_a_spa_email_the_uid_still_has_a_domain() -> None:
    spa = {key: value for key, value in SPA.items() if key != "email"}
    event = the_event(parse(client_notify.appointment_ics(appointment(), spa, None)))
    assert str(event["UID"]) == "K7QX@massage-assistant" and "ORGANIZER" not in event


def test_each_change_has_a_higher_sequence() -> None:
    booked = appointment()
    moved = appointment(updated_at=booked.updated_at + timedelta(hours=2))
    assert client_notify.revision(moved) > client_notify.revision(booked) >= 0


# --- the words -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_every_notice_names_the_code_the_spa_time_and_the_therapist(kind: str) -> None:
    subject, body, text = client_notify.client_texts(kind, appointment(), SPA, "Maria Lopez")
    for message in (subject, body, text):
        assert "K7QX" in message and "Sunday 28 March at 10 am" in message
    for message in (body, text):
        assert "Maria" in message and "Lopez" not in message
    assert len(text) < client_notify.SMS_LIMIT
    assert text.endswith(client_notify.REPLY_TO_REBOOK if kind == CANCELLED else client_notify.REPLY_TO_CHANGE)
    assert "CANCEL" not in text  # Twilio treats a reply of CANCEL as "never text me again"


@pytest.mark.parametrize("kind", [CONFIRMED, MOVED, REMINDER])
def test_a_live_appointment_carries_the_address_and_the_cancellation_notice(kind: str) -> None:
    _, body, text = client_notify.client_texts(kind, appointment(), SPA, "Maria Lopez")
    assert SPA["address"] in body and SPA["cancellation"] in body and SPA["phone"] in body
    assert SPA["address"] in text and "at least 24 hours' notice" in text
    assert "Late cancellations" not in text  # the first sentence only, to stay short


def test_a_cancellation_says_so_without_the_policy() -> None:
    subject, body, text = client_notify.client_texts(CANCELLED, appointment(), SPA, "Maria Lopez")
    assert "cancelled" in subject and "is cancelled" in body and "is cancelled" in text
    assert "notice" not in body and "notice" not in text and SPA["booking_url"] in body


def test_a_move_says_both_times() -> None:
    earlier = LONDON_START - timedelta(days=1)
    subject, body, text = client_notify.client_texts(MOVED, appointment(), SPA, "Maria", previous_start=earlier)
    assert "moved to Sunday 28 March at 10 am" in subject
    assert "from Saturday 27 March at 9 am to Sunday 28 March at 10 am" in body
    assert "(it was Saturday 27 March at 9 am)" in text


def test_the_time_is_said_in_the_spa_zone_not_utc() -> None:
    spa = dict(SPA, timezone="America/New_York")
    _, body, _ = client_notify.client_texts(CONFIRMED, appointment(), spa, "Maria")
    assert "Sunday 28 March at 5 am" in body  # 09:00 UTC is 05:00 in New York (already on summer time)


def test_a_long_spa_name_drops_the_optional_parts_before_the_text_gets_long() -> None:
    spa = dict(SPA, name="The Very Long Named Harbour Light Therapeutic Massage and Wellness Studio",
               address="Unit 14, The Old Biscuit Factory, 100 Clements Road, Bermondsey, London SE16 4DG")
    _, _, text = client_notify.client_texts(MOVED, appointment(), spa, "Maria", previous_start=LONDON_START)
    assert len(text) < client_notify.SMS_LIMIT and "K7QX" in text and text.endswith(client_notify.REPLY_TO_CHANGE)


def test_no_name_no_therapist_and_no_spa_details_still_read_well() -> None:
    _, body, text = client_notify.client_texts(REMINDER, appointment(name=None, service=None), {}, None)
    assert body.startswith("Hello,\n") and "with" not in text and text.startswith("A reminder: your massage is on")
    assert "Sunday 28 March at 9 am" in text  # UTC when the spa has no time zone


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        client_notify.client_texts("rescheduled", appointment(), SPA, None)


# --- sending ---------------------------------------------------------------------------------

def test_the_booking_email_reaches_the_client_with_the_calendar_file(inbox: Inbox, no_texts: None) -> None:
    client_notify.notify_client(CONFIRMED, appointment(), spa=SPA, therapist_name="Maria Lopez")
    assert client_notify.wait_for_pending(timeout=10)
    (email,) = inbox.messages
    assert inbox.recipients == [[CLIENT_EMAIL]]
    assert email["From"] == "front-desk@spa.example" and email["Reply-To"] == SPA["email"]
    assert email["Subject"] == "Your massage is booked for Sunday 28 March at 10 am (K7QX)"
    assert "Hello Dana," in email.get_body(("plain",)).get_content()
    part = calendar_part(email)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "appointment.ics"
    start = the_event(parse(part.get_content().encode())).decoded("dtstart")
    assert (start.hour, str(start.tzinfo)) == (10, "Europe/London")


def test_the_cancellation_email_removes_the_calendar_entry(inbox: Inbox, no_texts: None) -> None:
    client_notify.notify_client(CANCELLED, appointment(status="cancelled"), spa=SPA, therapist_name="Maria")
    assert client_notify.wait_for_pending(timeout=10)
    part = calendar_part(inbox.messages[0])
    assert part.get_param("method") == "CANCEL" and "METHOD:CANCEL" in part.get_content()


def test_the_text_reaches_twilio_with_the_account_login(twilio: TwilioStandIn, no_email: None) -> None:
    client_notify.notify_client(CONFIRMED, appointment(), spa=SPA, therapist_name="Maria Lopez")
    assert client_notify.wait_for_pending(timeout=10)
    (call,) = twilio.calls_to(f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert call["body"]["To"] == CLIENT_PHONE and call["body"]["From"] == NUMBER
    assert "K7QX" in call["body"]["Body"] and "Maria" in call["body"]["Body"]
    assert twilio.authorizations == ["Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()]


def test_a_whatsapp_number_is_written_to_from_the_whatsapp_side(twilio: TwilioStandIn) -> None:
    settings = sms.sms_settings()
    assert settings is not None
    sms.send_sms("whatsapp:+447700900123", "Hello", settings)
    (message,) = twilio.messages()
    assert message["To"] == "whatsapp:+447700900123" and message["From"] == f"whatsapp:{NUMBER}"


def test_twilio_refusing_a_message_raises_for_the_caller_to_log(twilio: TwilioStandIn) -> None:
    twilio.fail_with = 400
    settings = sms.sms_settings()
    assert settings is not None
    with pytest.raises(sms.SmsRejected) as refused:
        sms.send_sms(CLIENT_PHONE, "Hello", settings)
    assert refused.value.status == 400 and TOKEN not in repr(settings)


def test_texts_are_off_without_all_three_twilio_settings() -> None:
    assert sms.sms_settings({}) is None
    assert sms.sms_settings({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}) is None
    settings = sms.sms_settings({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER})
    assert settings is not None and sms.messages_url(settings) == \
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


def test_email_and_text_go_out_together_and_neither_carries_the_intake(inbox: Inbox, twilio: TwilioStandIn) -> None:
    client_notify.notify_client(REMINDER, appointment(), spa=SPA, therapist_name="Maria Lopez")
    assert client_notify.wait_for_pending(timeout=10)
    (email,) = inbox.messages
    (text,) = twilio.messages()
    for message in (email.get_body(("plain",)).get_content(), email["Subject"],
                    calendar_part(email).get_content(), text["Body"]):
        assert not any(word in message for word in INTAKE_WORDS), message


def test_nothing_is_sent_when_nothing_is_configured(no_email: None, no_texts: None) -> None:
    client_notify.notify_client(CONFIRMED, appointment(), spa=SPA, therapist_name="Maria")
    assert client_notify.wait_for_pending(timeout=5)


def test_without_an_email_or_a_phone_only_the_other_goes_out(inbox: Inbox, twilio: TwilioStandIn) -> None:
    client_notify.notify_client(CONFIRMED, appointment(email=None), spa=SPA, therapist_name="Maria")
    client_notify.notify_client(CONFIRMED, appointment(phone=None), spa=SPA, therapist_name="Maria")
    assert client_notify.wait_for_pending(timeout=10)
    assert len(inbox.messages) == 1 and len(twilio.messages()) == 1


def test_a_broken_mail_server_is_logged_without_personal_data_and_the_text_still_goes(
    inbox: Inbox, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    client_notify.notify_client(CONFIRMED, appointment(), spa=SPA, therapist_name="Maria Lopez")
    assert client_notify.wait_for_pending(timeout=15)
    assert "Could not email the confirmed notice for appointment K7QX (ConnectionRefusedError)" in caplog.text
    assert len(twilio.messages()) == 1
    for private in ("Dana", "Reyes", "202555", CLIENT_EMAIL, "Maria", "Sunday"):
        assert private not in caplog.text


def test_the_caller_does_not_wait(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = Inbox(delay_s=1.0)
    controller = serve(slow)
    try:
        monkeypatch.setenv("SMTP_PORT", str(controller.port))
        started = datetime.now()
        client_notify.notify_client(CONFIRMED, appointment(), spa=SPA, therapist_name="Maria")
        assert (datetime.now() - started).total_seconds() < 0.5
        assert client_notify.wait_for_pending(timeout=15) and len(slow.messages) == 1
    finally:
        controller.stop()
