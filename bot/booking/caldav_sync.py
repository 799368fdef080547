"""Each therapist's appointments, pushed to the spa's own CalDAV server (Nextcloud, Radicale,
iCloud...), for calendar apps that prefer a real calendar to a subscription feed.

Optional and off by default. The environment switches it on:
- CALDAV_URL: the server's base address (e.g. https://cloud.example.com/remote.php/dav);
- CALDAV_USERNAME, CALDAV_PASSWORD: the account the spa's calendars belong to (an app password);
- CALDAV_CALENDAR_PREFIX: put before each therapist's name in the calendar's name ("Spa – ");
- CALDAV_SYNC_INTERVAL_S: seconds between two runs of the background loop (300; 0 switches the
  loop off, `python -m bot.booking.caldav_sync --once` still works).

One calendar per active therapist, named "<prefix><therapist's name>", found by that name or made.
It receives exactly the events of the therapist's subscription feed (bot/booking/feeds.py builds
both, so they say the same and keep the same privacy: no intake, no phone or email). The sync
goes one way, the spa's diary wins, and it stays safe for a calendar people also use by hand:
it only ever changes or deletes events whose UID ends with "@<spa's domain>", i.e. ones it put
there. An event the therapist adds in that calendar is never touched; an edit they make to one of
the spa's events is put back at the next run. Only the feed's window (14 days back, 120 ahead) is
compared, so older entries stay in the calendar as a record.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

import caldav
from icalendar import Component
from sqlalchemy import select

from bot.booking.appointments import Therapist
from bot.booking.feeds import TherapistFeed, calendar_bytes, therapist_feed
from bot.knowledge.db import get_session

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 300.0
TIMEOUT_S = 30  # one slow server must not stall the loop forever
# What the therapist sees; a difference only in DTSTAMP, LAST-MODIFIED or SEQUENCE is no change
# (and caldav raises SEQUENCE by itself on every save).
COMPARED = ("uid", "dtstart", "dtend", "summary", "location", "description", "status")


@dataclass(frozen=True)
class CalDavSettings:
    url: str
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    prefix: str = ""


class SyncResult(NamedTuple):
    created: int = 0
    updated: int = 0
    deleted: int = 0


def caldav_settings(env: Optional[Mapping[str, str]] = None) -> Optional[CalDavSettings]:
    """The server to sync to, or None when CALDAV_URL is unset (the sync is off)."""
    env = os.environ if env is None else env
    url = (env.get("CALDAV_URL") or "").strip()
    if not url:
        return None
    return CalDavSettings(url=url, username=(env.get("CALDAV_USERNAME") or "").strip() or None,
                          password=env.get("CALDAV_PASSWORD") or None, prefix=env.get("CALDAV_CALENDAR_PREFIX") or "")


def connect(settings: CalDavSettings) -> caldav.DAVClient:
    return caldav.DAVClient(url=settings.url, username=settings.username, password=settings.password,
                            timeout=TIMEOUT_S)


# --- one therapist ------------------------------------------------------------------------------

def sync_therapist(
    client_or_settings: Union[caldav.DAVClient, CalDavSettings],
    therapist_id: str,
    now: datetime,
    url: Optional[str] = None,
    prefix: Optional[str] = None,
) -> SyncResult:
    """Make the therapist's calendar on the server hold the feed's events: add the new ones,
    rewrite the changed (moved) ones, delete the spa's events that left the feed (cancelled).
    `prefix` defaults to the settings' (or CALDAV_CALENDAR_PREFIX with a client). Raises
    LookupError for an unknown or retired therapist, and the caldav library's errors."""
    if isinstance(client_or_settings, CalDavSettings):
        chosen = client_or_settings.prefix if prefix is None else prefix
        with connect(client_or_settings) as client:
            return sync_therapist(client, therapist_id, now, url, chosen)
    if prefix is None:
        prefix = os.environ.get("CALDAV_CALENDAR_PREFIX") or ""
    feed = therapist_feed(therapist_id, now, url)
    if feed is None:
        raise LookupError(f"no active therapist {therapist_id!r}")
    calendar = therapist_calendar_on(client_or_settings.principal(), prefix + feed.therapist_name)
    return push(calendar, feed)


def therapist_calendar_on(principal: Any, name: str) -> Any:
    """The calendar with that display name, made on the first run. Found by name, not by a stored
    address, so a calendar the owner made (or shared) by hand beforehand is used as it is."""
    for calendar in principal.calendars():
        if calendar.get_display_name() == name:
            return calendar
    logger.info("CalDAV sync: making the calendar %r.", name)
    return principal.make_calendar(name=name)


def push(calendar: Any, feed: TherapistFeed) -> SyncResult:
    """One calendar resource per event, each a small VCALENDAR with the spa's VTIMEZONE."""
    ours = spa_events_on(calendar, feed)
    wanted = {str(event["uid"]): event for event in feed.events}
    created = updated = deleted = 0
    for uid, event in wanted.items():
        body = calendar_bytes(feed, [event]).decode("utf-8")
        stored = ours.get(uid)
        if stored is None:
            calendar.save_event(body)
            created += 1
        elif fingerprint(stored.icalendar_component) != fingerprint(event):
            stored.data = body
            stored.save()
            updated += 1
    for uid, stored in ours.items():
        if uid not in wanted:
            stored.delete()
            deleted += 1
    return SyncResult(created, updated, deleted)


def spa_events_on(calendar: Any, feed: TherapistFeed) -> Dict[str, Any]:
    """The events in the feed's window that the spa put there (by their UID's domain)."""
    found: Dict[str, Any] = {}
    for stored in calendar.search(start=feed.starts, end=feed.ends, event=True):
        uid = str(stored.icalendar_component.get("uid") or "")
        if uid.endswith("@" + feed.domain):
            found[uid] = stored
    return found


def fingerprint(component: Component) -> Tuple[Any, ...]:
    """What a comparison needs, immune to how the server re-serialises the event: times as UTC
    instants (a TZID may come back spelt differently), everything else as text."""
    values: List[Any] = []
    for key in COMPARED:
        value = component.get(key)
        moment = getattr(value, "dt", None)
        if isinstance(moment, datetime):
            values.append(moment.astimezone(timezone.utc) if moment.tzinfo else moment)
        else:
            values.append(None if value is None else str(value))
    return tuple(values)


# --- every therapist, now and then ---------------------------------------------------------------

def sync_all(now: datetime, url: Optional[str] = None,
             settings: Optional[CalDavSettings] = None) -> Dict[str, SyncResult]:
    """Every active therapist's calendar; {} when the sync is off. A therapist whose sync fails is
    logged and left out, so one broken calendar does not hold up the others."""
    return _sync_each(now, url, settings)[0]


def _sync_each(now: datetime, url: Optional[str],
               settings: Optional[CalDavSettings]) -> Tuple[Dict[str, SyncResult], Dict[str, str]]:
    """(results, failures: therapist id -> the error's type name)."""
    settings = settings or caldav_settings()
    if settings is None:
        return {}, {}
    results: Dict[str, SyncResult] = {}
    failures: Dict[str, str] = {}
    with connect(settings) as client:
        for therapist_id in active_therapists(url):
            try:
                results[therapist_id] = sync_therapist(client, therapist_id, now, url, settings.prefix)
            except Exception as error:  # noqa: BLE001  (logged by type; the next therapist still syncs)
                failures[therapist_id] = type(error).__name__
                logger.error("CalDAV sync of %s's calendar failed (%s).", therapist_id, type(error).__name__)
    return results, failures


def active_therapists(url: Optional[str] = None) -> List[str]:
    with get_session(url) as session:
        return list(session.execute(select(Therapist.id).where(Therapist.active.is_(True)).order_by(Therapist.id))
                    .scalars())


def sync_interval(env: Optional[Mapping[str, str]] = None) -> float:
    """CALDAV_SYNC_INTERVAL_S; a value that is not a number switches the loop off (and says so)."""
    env = os.environ if env is None else env
    raw = (env.get("CALDAV_SYNC_INTERVAL_S") or "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        return max(0.0, float(raw))
    except ValueError:
        logger.error("CALDAV_SYNC_INTERVAL_S must be a number of seconds, not %r: CalDAV sync loop off.", raw)
        return 0.0


def start_caldav_loop(interval_s: Optional[float] = None,
                      stop: Optional[threading.Event] = None) -> Optional[threading.Thread]:
    """Sync every `interval_s` seconds (CALDAV_SYNC_INTERVAL_S) in a daemon thread, from now on.
    None when the sync is off (no CALDAV_URL, or an interval of 0). Set `stop` to end the loop."""
    interval = sync_interval() if interval_s is None else interval_s
    if interval <= 0 or caldav_settings() is None:
        return None
    thread = threading.Thread(target=run_forever, args=(interval, stop or threading.Event()),
                              name="caldav-sync", daemon=True)
    thread.start()
    logger.info("CalDAV sync every %.0f s.", interval)
    return thread


def run_forever(interval_s: float, stop: threading.Event) -> None:
    while not stop.is_set():
        sync_logged(datetime.now(timezone.utc))
        stop.wait(interval_s)


def sync_logged(now: datetime) -> None:
    """One run that never raises: a server that is down must not end the loop (or the assistant)."""
    try:
        results = sync_all(now)
    except Exception as error:  # noqa: BLE001  (the type only: messages can carry addresses)
        logger.error("CalDAV sync failed (%s).", type(error).__name__)
        return
    changed = {therapist: result for therapist, result in results.items() if any(result)}
    if changed:
        logger.info("CalDAV sync: %s.", "; ".join(f"{therapist} {describe(result)}"
                                                 for therapist, result in changed.items()))


def describe(result: SyncResult) -> str:
    return f"{result.created} created, {result.updated} updated, {result.deleted} deleted"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.booking.caldav_sync",
        description="Push each therapist's appointments to the CalDAV server in CALDAV_URL.")
    parser.add_argument("--once", action="store_true", help="sync once, print what changed and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    settings = caldav_settings()
    if settings is None:
        print("CalDAV sync is off: set CALDAV_URL (and CALDAV_USERNAME, CALDAV_PASSWORD).", file=sys.stderr)
        return 2
    if not args.once:
        run_forever(sync_interval() or DEFAULT_INTERVAL_S, threading.Event())
        return 0
    try:
        results, failures = _sync_each(datetime.now(timezone.utc), None, settings)
    except Exception as error:  # noqa: BLE001  (the type only: messages can carry addresses)
        print(f"CalDAV sync failed ({type(error).__name__}).", file=sys.stderr)
        return 1
    for therapist, result in results.items():
        print(f"{therapist}: {describe(result)}")
    for therapist, failure in failures.items():
        print(f"{therapist}: failed ({failure})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
