"""The appointment store, on SQLite and on PostgreSQL: a time is held, confirmed, moved,
cancelled or missed; a therapist or a room is never booked twice over, even when twenty requests
race for three times; an unconfirmed hold lets its time go; a reminder is claimed once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, List, Tuple

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.booking import appointment_store as appointments
from bot.booking import store as requests
from bot.booking.appointment_store import HoldExpired, InvalidTransition, SlotTaken
from bot.booking.appointments import Appointment, Room, Therapist
from bot.knowledge import migrate
from bot.knowledge.db import get_engine
from tests.conftest import throwaway_postgres

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
TEN = NOW.replace(hour=10)
THERAPISTS = ("maria", "sam", "alex")
ROOMS = ("r1", "r2", "r3")


def at(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


def _seed(url: str) -> None:
    with Session(get_engine(url), future=True) as session, session.begin():
        for therapist in THERAPISTS:
            session.add(Therapist(id=therapist, name=therapist.title(), techniques=["swedish"],
                                  certifications=[], active=True))
        for room in ROOMS:
            session.add(Room(id=room, name=room.upper(), kind="treatment"))


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('appointments') / 'kb.db'}"
    migrate.upgrade(url)
    _seed(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture(scope="module")
def postgresql_database() -> Iterator[str]:
    """A throwaway database on the machine's PostgreSQL, dropped afterwards."""
    with throwaway_postgres("appt_test") as url:
        migrate.upgrade(url)
        _seed(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    database = request.getfixturevalue(f"{request.param}_database")
    yield database
    with Session(get_engine(database), future=True) as session, session.begin():
        session.execute(delete(Appointment))


@pytest.fixture
def postgres_url(postgresql_database: str) -> Iterator[str]:
    yield postgresql_database
    with Session(get_engine(postgresql_database), future=True) as session, session.begin():
        session.execute(delete(Appointment))


def book(url: str, starts_at: datetime, therapist: str = "maria", room: str = "r1",
         minutes: int = 45, buffer: int = 15, now: datetime = NOW, **extra: object) -> Appointment:
    return appointments.hold(therapist_id=therapist, room_id=room, technique="swedish", minutes=minutes,
                             buffer_minutes=buffer, starts_at=starts_at, sender_id="conversation-1",
                             channel="web", now=now, url=url, **extra)


def booked(url: str, starts_at: datetime, **options: object) -> Appointment:
    appointment = book(url, starts_at, **options)
    return appointments.confirm(appointment.code, now=NOW, url=url)


def replica(url: str, number: int) -> str:
    """The same database through another engine and pool, as another process would reach it."""
    if url.startswith("postgresql"):
        return f"{url}?application_name=replica-{number}"
    return f"{url}?timeout={20 + number}"


def race(workers: int, work: Callable[[int], object]) -> Tuple[List[object], List[BaseException]]:
    """Run `work(i)` in `workers` threads released at the same moment."""
    start = threading.Barrier(workers)
    results: List[object] = []
    errors: List[BaseException] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        start.wait()
        try:
            outcome: object = work(number)
        except BaseException as error:  # noqa: BLE001  (collected, asserted on below)
            outcome = error
        with lock:
            (errors if isinstance(outcome, BaseException) else results).append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_a_held_time_is_confirmed_once_and_its_end_includes_the_buffer(url: str) -> None:
    held = book(url, TEN, booking_request="ABCD", name="Ana", email="ana@example.com")
    assert held.status == "held" and held.hold_expires_at == NOW + timedelta(minutes=appointments.HOLD_MINUTES)
    assert held.ends_at == TEN + timedelta(minutes=60) and held.minutes == 45
    assert set(held.code) <= set(requests.CODE_ALPHABET)
    confirmed = appointments.confirm(held.code.lower(), now=NOW + timedelta(minutes=4), url=url)
    assert confirmed.status == "confirmed" and confirmed.hold_expires_at is None
    assert appointments.confirm(held.code, now=NOW + timedelta(hours=1), url=url).status == "confirmed"
    stored = appointments.get(held.code, url=url)
    assert stored.starts_at == TEN and stored.starts_at.tzinfo is not None
    assert (stored.booking_request, stored.name) == ("ABCD", "Ana")


def test_times_are_aware_at_the_api_and_any_zone_is_stored_as_utc(url: str) -> None:
    with pytest.raises(ValueError):
        book(url, TEN.replace(tzinfo=None))
    paris = timezone(timedelta(hours=1))
    held = book(url, datetime(2027, 3, 1, 11, 0, tzinfo=paris))
    assert appointments.get(held.code, url=url).starts_at == TEN


def test_the_same_therapist_cannot_be_held_twice_for_overlapping_times(url: str) -> None:
    book(url, TEN, therapist="maria", room="r1")
    with pytest.raises(SlotTaken) as taken:
        book(url, at(10, 30), therapist="maria", room="r2")
    assert taken.value.resource == "therapist"


def test_the_same_room_cannot_be_held_twice_for_overlapping_times(url: str) -> None:
    book(url, TEN, therapist="maria", room="r1")
    with pytest.raises(SlotTaken) as taken:
        book(url, at(9, 30), therapist="sam", room="r1")  # its buffer runs into 10:00
    assert taken.value.resource == "room"


def test_adjacent_times_and_other_therapists_in_other_rooms_are_fine(url: str) -> None:
    book(url, TEN, therapist="maria", room="r1")
    book(url, at(11), therapist="maria", room="r1")  # starts as the first one's buffer ends
    book(url, at(9), therapist="maria", room="r1")  # ends (with its buffer) at 10:00
    book(url, TEN, therapist="sam", room="r2")
    assert len(appointments.busy_between(at(9), at(12), now=NOW, url=url)) == 4


def test_a_cancelled_appointment_frees_its_time_and_cancelling_twice_changes_nothing(url: str) -> None:
    first = booked(url, TEN)
    assert appointments.cancel(first.code, now=NOW, url=url).status == "cancelled"
    assert appointments.cancel(first.code, now=NOW, url=url).status == "cancelled"
    second = book(url, TEN)
    assert second.code != first.code
    with pytest.raises(InvalidTransition):
        appointments.confirm(first.code, now=NOW, url=url)


def test_an_expired_hold_cannot_be_confirmed_and_is_released(url: str) -> None:
    held = book(url, TEN)
    later = NOW + timedelta(minutes=appointments.HOLD_MINUTES)
    with pytest.raises(HoldExpired):
        appointments.confirm(held.code, now=later, url=url)
    assert appointments.get(held.code, url=url).status == "cancelled"
    assert appointments.busy_between(TEN, at(11), now=later, url=url) == []
    assert book(url, TEN, now=later).status == "held"


def test_the_sweep_releases_only_expired_holds(url: str) -> None:
    stale = book(url, TEN, therapist="maria", room="r1")
    fresh = book(url, TEN, therapist="sam", room="r2", now=NOW + timedelta(minutes=3))
    kept = booked(url, TEN, therapist="alex", room="r3")
    assert appointments.release_expired(now=NOW + timedelta(minutes=6), url=url) == 1
    assert [appointments.get(a.code, url=url).status for a in (stale, fresh, kept)] == [
        "cancelled", "held", "confirmed"]
    with pytest.raises(HoldExpired):  # not "cancelled": the person is told their hold ran out
        appointments.confirm(stale.code, now=NOW + timedelta(minutes=7), url=url)
    assert appointments.confirm(fresh.code, now=NOW + timedelta(minutes=7), url=url).status == "confirmed"


def test_an_expired_hold_does_not_block_the_next_person_before_the_sweep(url: str) -> None:
    book(url, TEN)
    later = NOW + timedelta(minutes=10)
    assert [b.status for b in appointments.busy_between(TEN, at(11), now=later, url=url)] == []
    assert book(url, at(10, 30), now=later).status == "held"


def test_moving_keeps_the_length_and_refuses_a_taken_time(url: str) -> None:
    mine = booked(url, TEN, therapist="maria", room="r1")
    theirs = booked(url, at(14), therapist="sam", room="r2")
    moved = appointments.move(mine.code, at(10, 30), now=NOW, url=url)  # over part of its own time
    assert (moved.starts_at, moved.ends_at, moved.status) == (at(10, 30), at(11, 30), "confirmed")
    with pytest.raises(SlotTaken):
        appointments.move(mine.code, at(14, 30), room_id="r2", now=NOW, url=url)
    with pytest.raises(SlotTaken):
        appointments.move(mine.code, at(13, 30), therapist_id="sam", now=NOW, url=url)
    assert appointments.get(mine.code, url=url).starts_at == at(10, 30)
    moved = appointments.move(mine.code, at(14, 30), therapist_id="alex", room_id="r3", now=NOW, url=url)
    assert (moved.therapist_id, moved.room_id) == ("alex", "r3")
    assert appointments.get(theirs.code, url=url).starts_at == at(14)
    assert book(url, TEN, therapist="maria", room="r1").status == "held"  # the old time is free


def test_moving_an_expired_hold_or_a_cancelled_appointment_is_refused(url: str) -> None:
    held = book(url, TEN)
    with pytest.raises(HoldExpired):
        appointments.move(held.code, at(12), now=NOW + timedelta(minutes=30), url=url)
    assert appointments.get(held.code, url=url).status == "cancelled"
    with pytest.raises(HoldExpired):
        appointments.move(held.code, at(12), now=NOW + timedelta(minutes=31), url=url)
    cancelled = appointments.cancel(booked(url, at(15)).code, now=NOW, url=url)
    with pytest.raises(InvalidTransition):
        appointments.move(cancelled.code, at(12), now=NOW, url=url)
    with pytest.raises(LookupError):
        appointments.move("QQQQ", at(12), now=NOW, url=url)


def test_a_no_show_is_recorded_only_once_the_appointment_has_begun(url: str) -> None:
    appointment = booked(url, TEN)
    with pytest.raises(InvalidTransition):
        appointments.mark_no_show(appointment.code, now=at(9, 59), url=url)
    assert appointments.mark_no_show(appointment.code, now=at(10, 20), url=url).status == "no_show"
    with pytest.raises(InvalidTransition):
        appointments.cancel(appointment.code, now=at(10, 30), url=url)
    with pytest.raises(InvalidTransition):
        appointments.mark_no_show(book(url, at(12)).code, now=at(12, 30), url=url)  # only held


def test_busy_time_lists_held_and_confirmed_appointments_in_the_window(url: str) -> None:
    held = book(url, TEN, therapist="maria", room="r1")
    confirmed = booked(url, TEN, therapist="sam", room="r2")
    appointments.cancel(book(url, TEN, therapist="alex", room="r3").code, now=NOW, url=url)
    booked(url, at(16), therapist="alex", room="r3")
    busy = appointments.busy_between(at(9, 30), at(12), now=NOW, url=url)
    assert {(b.code, b.therapist_id, b.room_id, b.status) for b in busy} == {
        (held.code, "maria", "r1", "held"), (confirmed.code, "sam", "r2", "confirmed")}
    assert busy[0].starts_at == TEN and busy[0].ends_at == at(11)


def test_a_reminder_is_due_once_for_confirmed_appointments_in_the_window(url: str) -> None:
    tomorrow = booked(url, TEN + timedelta(days=1))
    book(url, TEN + timedelta(days=1), therapist="sam", room="r2")  # only held: no reminder
    booked(url, TEN + timedelta(days=3), therapist="alex", room="r3")  # not yet
    due = appointments.due_reminders(NOW, timedelta(hours=26), url=url)
    assert [a.code for a in due] == [tomorrow.code]
    assert appointments.mark_reminded(tomorrow.code, now=NOW, url=url) is True
    assert appointments.mark_reminded(tomorrow.code, now=NOW, url=url) is False
    assert appointments.due_reminders(NOW, timedelta(hours=26), url=url) == []
    appointments.move(tomorrow.code, TEN + timedelta(days=1, hours=2), now=NOW, url=url)
    assert [a.code for a in appointments.due_reminders(NOW, timedelta(hours=28), url=url)] == [tomorrow.code]


def test_two_replicas_racing_for_the_reminders_send_each_one_once(url: str) -> None:
    codes = {booked(url, at(10) + timedelta(days=1, hours=i), therapist=THERAPISTS[i % 3],
                    room=ROOMS[i % 3]).code for i in range(6)}
    replicas = [replica(url, n) for n in (1, 2)]

    def send_reminders(number: int) -> List[str]:
        own = replicas[number]
        due = appointments.due_reminders(NOW, timedelta(days=2), url=own)
        return [a.code for a in due if appointments.mark_reminded(a.code, now=NOW, url=own)]

    try:
        results, errors = race(2, send_reminders)
    finally:
        for own in replicas:
            get_engine(own).dispose()
    assert errors == []
    sent = [code for claimed in results for code in claimed]
    assert sorted(sent) == sorted(codes)  # every reminder once, none twice


def test_twenty_requests_racing_for_three_times_get_exactly_three_holds(url: str) -> None:
    """Every pair wanting the same time shares the therapist or the room: only one may win."""
    slots = (TEN, at(11), at(12))

    def want(number: int) -> Appointment:
        slot, turn = number % 3, number // 3
        therapist, room = [(THERAPISTS[turn % 3], "r1"), ("maria", ROOMS[turn % 3]),
                           ("sam", ROOMS[turn % 3])][slot]
        return book(url, slots[slot], therapist=therapist, room=room)

    results, errors = race(20, want)
    assert len(results) == 3 and len(errors) == 17
    assert all(isinstance(error, SlotTaken) for error in errors), errors
    assert sorted(a.starts_at for a in results) == list(slots)
    with Session(get_engine(url), future=True) as session:
        assert len(session.execute(select(Appointment).where(Appointment.status == "held")).scalars().all()) == 3


class _LockRace(Exception):
    """What the drivers raise when the database rolled a write back for a lock race."""

    def __init__(self, message: str, pgcode: str = "") -> None:
        super().__init__(message)
        self.pgcode = pgcode


@pytest.mark.parametrize("failure", [_LockRace("deadlock detected", "40P01"),
                                     _LockRace("could not serialize access", "40001"),
                                     _LockRace("database is locked")])
def test_a_write_rolled_back_for_a_lock_race_runs_again(url: str, failure: _LockRace,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two inserts under exclusion constraints can deadlock on PostgreSQL (each inserts its index
    entry, then waits for the other's); SQLite gives up on a busy file. Neither wrote anything, so
    the store runs the write again and the person gets a hold or SlotTaken, never an error."""
    check = appointments._check_free
    failures = [failure]

    def flaky(*args: object, **kwargs: object) -> None:
        if failures:
            raise OperationalError("INSERT", {}, failures.pop())
        check(*args, **kwargs)

    monkeypatch.setattr(appointments, "_check_free", flaky)
    held = book(url, at(16))
    assert held.status == "held" and not failures
    failures.append(failure)
    with pytest.raises(SlotTaken):
        book(url, at(16))


def test_any_other_database_error_is_not_retried(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise OperationalError("INSERT", {}, _LockRace("server closed the connection unexpectedly"))

    monkeypatch.setattr(appointments, "_check_free", broken)
    with pytest.raises(OperationalError):
        book(url, at(17))
    assert len(calls) == 1


def test_on_postgresql_the_database_refuses_overlaps_the_code_never_checked(postgres_url: str) -> None:
    engine = get_engine(postgres_url)
    insert = (
        "INSERT INTO appointments (code, therapist_id, room_id, technique, minutes, starts_at, "
        "ends_at, status, sender_id, channel, created_at, updated_at) VALUES "
        "(%(code)s, %(therapist)s, %(room)s, 'swedish', 45, %(start)s, %(end)s, %(status)s, 'sql', "
        "'web', now(), now())"
    )

    def row(code: str, therapist: str, room: str, start: str, end: str, status: str = "confirmed") -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(insert, {"code": code, "therapist": therapist, "room": room,
                                                "start": f"2027-03-01 {start}", "end": f"2027-03-01 {end}",
                                                "status": status})

    row("SQL1", "maria", "r1", "10:00", "11:00")
    with pytest.raises(IntegrityError) as same_therapist:
        row("SQL2", "maria", "r2", "10:30", "11:30")
    assert same_therapist.value.orig.pgcode == "23P01"
    with pytest.raises(IntegrityError) as same_room:
        row("SQL3", "sam", "r1", "09:30", "10:01", status="held")
    assert same_room.value.orig.diag.constraint_name == "ex_appointments_room_time"
    row("SQL4", "maria", "r1", "11:00", "12:00")  # adjacent: [) ranges do not overlap
    row("SQL5", "maria", "r1", "10:15", "10:45", status="cancelled")  # cancelled takes no time
    row("SQL6", "sam", "r2", "10:00", "11:00")
    with pytest.raises(SlotTaken):
        book(postgres_url, at(10, 30), therapist="alex", room="r2")


def test_a_code_is_never_one_a_booking_request_already_has(
    sqlite_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = requests.create_request(sender_id="conversation-1", channel="web", url=sqlite_database)
    offered = iter([request.code, "KQXY"])
    monkeypatch.setattr(appointments, "new_code", lambda: next(offered))
    try:
        assert book(sqlite_database, TEN).code == "KQXY"
    finally:
        with Session(get_engine(sqlite_database), future=True) as session, session.begin():
            session.execute(delete(Appointment))


def test_the_migration_leaves_the_models_and_the_database_agreeing(url: str) -> None:
    assert migrate.current_revision(url) == migrate.head_revision()
    assert migrate.differences(url) == []


def test_forget_me_and_retention_remove_the_personal_details_but_keep_the_time(url: str) -> None:
    kept = book(url, at(18), therapist="sam", room="r3", name="Ana", phone="+12025550143",
                email="ana@example.com")
    assert appointments.forget_sender("conversation-1", url=url) >= 1
    forgotten = appointments.get(kept.code, url=url)
    assert (forgotten.name, forgotten.phone, forgotten.email) == (None, None, None)
    assert forgotten.sender_id.startswith("forgotten:") and len(forgotten.sender_id) > 30
    assert forgotten.status == "held"
    confirmed = appointments.confirm(kept.code, now=NOW, url=url)
    # Nobody can reach a forgotten appointment by naming the conversation it came from, or "forgotten".
    for sender in ("conversation-1", "forgotten", "forgotten:"):
        assert appointments.upcoming_for(sender, now=NOW, url=url) is None
    assert confirmed.status == "confirmed"
    old = book(url, at(19), therapist="sam", room="r3", name="Bo", now=NOW)
    with Session(get_engine(url), future=True) as session, session.begin():
        session.execute(update_sender(old.code))
    assert appointments.forget_older_than(30, now=NOW + timedelta(days=31), url=url) >= 1
    assert appointments.get(old.code, url=url).name is None


def update_sender(code: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    return update(Appointment).where(Appointment.code == code).values(sender_id="conversation-2")
