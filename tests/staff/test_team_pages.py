"""The owner's team pages over HTTP: therapists added and edited with their week, bad hours
refused at their field with nothing changed, time off stored as UTC instants from the spa's
clock, rooms added, renamed and kept while booked, and none of it reachable by reception."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from html import unescape
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking.appointments import Appointment, Room, Therapist, TherapistHours, TherapistTimeOff
from bot.knowledge.db import get_engine
from bot.staff.config import StaffConfig
from bot.staff.web import StaffPage
from bot.staff import team_pages
from tests.staff.conftest import PASSWORD, InProcessServer, build_app
from tests.staff.test_http import csrf_in, logged_in

UTC = timezone.utc
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def roles(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={"olive": password_hash, "rhea": password_hash}, roles={"olive": "owner"},
                       secret_key=b"t" * 32)


@pytest.fixture
def server(database: str, roles: StaffConfig) -> Iterator[InProcessServer]:
    with InProcessServer(build_app(roles, {})) as running:
        yield running


@pytest.fixture
def owner(server: InProcessServer) -> requests.Session:
    return logged_in(server, PASSWORD, "olive")


def post(browser: requests.Session, server: InProcessServer, path: str,
         fields: Sequence[Tuple[str, str]]) -> requests.Response:
    """A form post with the session's CSRF token, as the page's own form sends it."""
    csrf = csrf_in(browser.get(f"{server.url}/staff/team").text)
    return browser.post(f"{server.url}/staff/team{path}", data=[("csrf", csrf), *fields], allow_redirects=False)


def therapist_fields(name: str, techniques: Sequence[str] = ("swedish",), hours: Optional[Dict[int, str]] = None,
                     active: bool = True, **extra: str) -> List[Tuple[str, str]]:
    fields = [("name", name), ("gender", extra.get("gender", ""))]
    fields += [("techniques", t) for t in techniques]
    fields += [("certifications", c) for c in extra.get("certifications", "").split(",") if c]
    fields += [(f"hours-{day}", (hours or {}).get(day, "")) for day in range(7)]
    return fields + [("active", "1" if active else "0")]


def text_of(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def therapist(url: str, therapist_id: str) -> Optional[Therapist]:
    with Session(get_engine(url)) as session:
        return session.get(Therapist, therapist_id)


def therapist_ids(url: str) -> List[str]:
    with Session(get_engine(url)) as session:
        return sorted(session.execute(select(Therapist.id)).scalars())


def hours_of(url: str, therapist_id: str) -> List[Tuple[int, time, time]]:
    with Session(get_engine(url)) as session:
        rows = session.execute(select(TherapistHours).where(TherapistHours.therapist_id == therapist_id)
                               .order_by(TherapistHours.weekday, TherapistHours.start_time)).scalars()
        return [(r.weekday, r.start_time, r.end_time) for r in rows]


def time_off_of(url: str, therapist_id: str) -> List[TherapistTimeOff]:
    with Session(get_engine(url)) as session:
        return list(session.execute(select(TherapistTimeOff).where(TherapistTimeOff.therapist_id == therapist_id))
                    .scalars())


def add_therapist(owner: requests.Session, server: InProcessServer, name: str, **kwargs: object) -> str:
    answer = post(owner, server, "/therapists/new", therapist_fields(name, **kwargs))  # type: ignore[arg-type]
    assert answer.status_code == 303, text_of(answer.text)
    found = re.match(r"^/staff/team/therapists/([a-z0-9-]+)\?done=added$", answer.headers["Location"])
    assert found, answer.headers["Location"]
    return found.group(1)


def test_a_new_therapist_with_hours_appears_on_the_team(owner: requests.Session, server: InProcessServer,
                                                        database: str) -> None:
    therapist_id = add_therapist(owner, server, "María López", techniques=("swedish", "deep_tissue"),
                                 hours={0: "9-13, 13:30-17", 1: "9:00–13:00, 13:30–17:00", 2: "9am-1pm, 1:30pm-5pm",
                                        3: "09:00-13:00,13:30-17:00", 4: "9-13, 13.30-17", 5: "10-16"},
                                 gender="female", certifications="prenatal")
    assert therapist_id == "maria-lopez"
    saved = therapist(database, therapist_id)
    assert saved is not None and (saved.name, saved.gender, saved.techniques, saved.certifications, saved.active) == (
        "María López", "female", ["swedish", "deep_tissue"], ["prenatal"], True)
    assert (5, time(10), time(16)) in hours_of(database, therapist_id) and len(hours_of(database, therapist_id)) == 11

    confirmed = owner.get(f"{server.url}/staff/team/therapists/{therapist_id}?done=added")
    assert "Therapist added." in confirmed.text and 'value="10:00-16:00"' in confirmed.text
    team = text_of(owner.get(f"{server.url}/staff/team").text)
    assert "María López" in team and "Mon–Fri 9:00–13:00, 13:30–17:00; Sat 10:00–16:00" in team
    assert "Swedish" in team and "Prenatal massage" in team and "Female" in team
    assert add_therapist(owner, server, "Maria Lopez") == "maria-lopez-2"  # ids never collide


def test_editing_techniques_and_retiring_keeps_the_therapist(owner: requests.Session, server: InProcessServer,
                                                            database: str) -> None:
    therapist_id = add_therapist(owner, server, "Sam Reed", techniques=("swedish",), hours={2: "12-20"})
    answer = post(owner, server, f"/therapists/{therapist_id}",
                  therapist_fields("Sam Reed", techniques=("sports", "trigger_point"), hours={2: "12-20"},
                                   active=False))
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?done=saved")
    saved = therapist(database, therapist_id)
    assert saved is not None and saved.techniques == ["sports", "trigger_point"] and saved.active is False
    assert hours_of(database, therapist_id) == [(2, time(12), time(20))]
    assert "Retired" in text_of(owner.get(f"{server.url}/staff/team").text)


def test_bad_hours_are_shown_at_their_day_and_change_nothing(owner: requests.Session, server: InProcessServer,
                                                             database: str) -> None:
    therapist_id = add_therapist(owner, server, "Ines Park", hours={0: "9-17"})
    answer = post(owner, server, f"/therapists/{therapist_id}",
                  therapist_fields("Ines Renamed", techniques=("reflexology",), hours={0: "9-13, 12-17", 5: "16-10"}))
    assert answer.status_code == 422
    assert 'id="hours-0-error"' in answer.text and 'id="hours-5-error"' in answer.text
    page = text_of(answer.text)
    assert "Monday: 9:00–13:00 and 12:00–17:00 overlap." in page and "Saturday: “16-10” ends before it starts." in page
    assert 'value="9-13, 12-17"' in answer.text  # what was typed stays in the field to be fixed
    saved = therapist(database, therapist_id)
    assert saved is not None and saved.name == "Ines Park" and saved.techniques == ["swedish"]
    assert hours_of(database, therapist_id) == [(0, time(9), time(17))]


def test_a_new_therapist_needs_a_name(owner: requests.Session, server: InProcessServer, database: str) -> None:
    before = therapist_ids(database)
    answer = post(owner, server, "/therapists/new", therapist_fields("  "))
    assert answer.status_code == 422 and "Write the therapist" in answer.text
    assert therapist_ids(database) == before


def test_time_off_is_stored_in_utc_from_the_spas_midnights(owner: requests.Session, server: InProcessServer,
                                                           database: str) -> None:
    therapist_id = add_therapist(owner, server, "Noor Haddad", hours={6: "10-16"})
    answer = post(owner, server, f"/therapists/{therapist_id}/time-off",
                  [("from", "2027-03-14"), ("to", ""), ("start", ""), ("end", ""), ("reason", "Family visit")])
    assert answer.status_code == 303 and "done=off-added" in answer.headers["Location"]
    [entry] = time_off_of(database, therapist_id)
    # New York's clocks go forward that night: local midnight to local midnight is 23 hours.
    assert entry.starts_at == datetime(2027, 3, 14, 5, tzinfo=UTC)
    assert entry.ends_at == datetime(2027, 3, 15, 4, tzinfo=UTC)
    assert entry.ends_at - entry.starts_at == timedelta(hours=23) and entry.reason == "Family visit"

    page = owner.get(f"{server.url}{answer.headers['Location']}")
    assert "Time off added." in page.text and "Sun 14 Mar 2027, all day: Family visit" in text_of(page.text)
    assert "Sun 14 Mar 2027, all day (Family visit)" in text_of(owner.get(f"{server.url}/staff/team").text)

    removed = post(owner, server, f"/therapists/{therapist_id}/time-off/{entry.id}/remove", [])
    assert removed.status_code == 303 and "done=off-removed" in removed.headers["Location"]
    assert time_off_of(database, therapist_id) == []
    assert post(owner, server, f"/therapists/{therapist_id}/time-off/{entry.id}/remove", []).status_code == 404


def test_part_of_a_day_off_and_a_refused_one(owner: requests.Session, server: InProcessServer, database: str) -> None:
    therapist_id = add_therapist(owner, server, "Ola Berg")
    answer = post(owner, server, f"/therapists/{therapist_id}/time-off",
                  [("from", "2027-06-01"), ("start", "13:00"), ("end", "17:30")])
    assert answer.status_code == 303
    [entry] = time_off_of(database, therapist_id)
    assert entry.starts_at == datetime(2027, 6, 1, 17, tzinfo=UTC)  # 13:00 EDT
    assert entry.ends_at == datetime(2027, 6, 1, 21, 30, tzinfo=UTC)

    refused = post(owner, server, f"/therapists/{therapist_id}/time-off",
                   [("from", "2027-06-09"), ("to", "2027-06-02")])
    assert refused.status_code == 422 and 'id="off-to-error"' in refused.text
    assert "The time off ends before it starts." in refused.text and len(time_off_of(database, therapist_id)) == 1


def test_rooms_are_added_renamed_and_kept_while_booked(owner: requests.Session, server: InProcessServer,
                                                       database: str) -> None:
    answer = post(owner, server, "/rooms/new", [("name", "Garden room"), ("kind", "treatment")])
    assert answer.status_code == 303 and "done=room-added" in answer.headers["Location"]
    team = owner.get(f"{server.url}{answer.headers['Location']}")
    assert "Room added." in team.text and 'href="/staff/team/rooms/garden-room"' in team.text

    renamed = post(owner, server, "/rooms/garden-room", [("name", "Cedar suite"), ("kind", "couples")])
    assert renamed.status_code == 303 and "done=room-saved" in renamed.headers["Location"]
    with Session(get_engine(database)) as session:
        room = session.get(Room, "garden-room")
        assert room is not None and (room.name, room.kind) == ("Cedar suite", "couples")
    assert "Couples room" in text_of(owner.get(f"{server.url}/staff/team").text)

    bad = post(owner, server, "/rooms/garden-room", [("name", ""), ("kind", "sauna")])
    assert bad.status_code == 422 and 'id="room-name-error"' in bad.text and 'id="room-kind-error"' in bad.text

    therapist_id = add_therapist(owner, server, "Kai Moss")
    book(database, therapist_id, "garden-room")
    page = text_of(owner.get(f"{server.url}/staff/team/rooms/garden-room").text)
    assert "Cedar suite has 1 upcoming appointment. Move or cancel them first" in page
    refused = post(owner, server, "/rooms/garden-room/remove", [])
    assert refused.status_code == 409 and "1 upcoming appointment" in refused.text
    with Session(get_engine(database)) as session:
        assert session.get(Room, "garden-room") is not None

    post(owner, server, "/rooms/new", [("name", "Spare room"), ("kind", "treatment")])
    removed = post(owner, server, "/rooms/spare-room/remove", [])
    assert removed.status_code == 303 and "done=room-removed" in removed.headers["Location"]
    with Session(get_engine(database)) as session:
        assert session.get(Room, "spare-room") is None


def book(url: str, therapist_id: str, room_id: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(get_engine(url)) as session, session.begin():
        session.add(Appointment(code="TEAM1", therapist_id=therapist_id, room_id=room_id, technique="swedish",
                                minutes=60, starts_at=now + timedelta(days=2),
                                ends_at=now + timedelta(days=2, minutes=75),
                                status="confirmed", sender_id="test", channel="web", created_at=now, updated_at=now))


def test_a_form_without_the_csrf_token_changes_nothing(owner: requests.Session, server: InProcessServer,
                                                      database: str) -> None:
    answer = owner.post(f"{server.url}/staff/team/rooms/new", data={"name": "Sneaky", "kind": "treatment"},
                        allow_redirects=False)
    assert answer.status_code == 403
    with Session(get_engine(database)) as session:
        assert "Sneaky" not in session.execute(select(Room.name)).scalars().all()


def test_unknown_ids_are_not_found(owner: requests.Session, server: InProcessServer) -> None:
    assert owner.get(f"{server.url}/staff/team/therapists/nobody").status_code == 404
    assert owner.get(f"{server.url}/staff/team/rooms/nowhere").status_code == 404


def test_reception_gets_403_on_every_team_route(server: InProcessServer, roles: StaffConfig, database: str) -> None:
    owner = logged_in(server, PASSWORD, "olive")
    therapist_id = add_therapist(owner, server, "Lee Chan")
    post(owner, server, "/rooms/new", [("name", "Blue room"), ("kind", "treatment")])
    reception = logged_in(server, PASSWORD, "rhea")
    csrf = csrf_in(reception.get(f"{server.url}/staff/").text)
    samples = {"therapist_id": therapist_id, "room_id": "blue-room", "entry:int": "1"}
    routes = team_pages.routes(StaffPage(roles))
    assert len(routes) == 8
    for _, uri, methods, _ in routes:
        path = "/staff" + re.sub(r"<([^>]+)>", lambda found: samples[found.group(1)], uri)
        for method in methods:
            answer = reception.request(method, server.url + path, data={"csrf": csrf, "name": "x", "kind": "couples"},
                                       allow_redirects=False)
            assert answer.status_code == 403 and "Owners only" in answer.text, (method, path)
    saved = therapist(database, therapist_id)
    assert saved is not None and saved.name == "Lee Chan"
    assert 'href="/staff/team"' not in reception.get(f"{server.url}/staff/").text
