"""The reminder the day before: an email and a text to each client with a confirmed appointment.

The appointments table is the queue: an appointment is due when it starts within
`hours_before` and its `reminder_sent_at` is empty, and sending begins by setting that column in
one conditional UPDATE (`appointment_store.mark_reminded`). So a restart loses nothing (the next
pass finds what is still due), several replicas running this loop send each reminder once (only
one of them wins the claim), and moving an appointment, which empties the column, brings a new
reminder with the new time. Claim first, then send: a crash in between loses one reminder rather
than sending two.

Someone who books less than `hours_before` ahead has just had the confirmation, so they get no
reminder; their appointment is still claimed, so no later pass looks at it again.

REMINDER_INTERVAL_S (60) is how often each process looks; 0 turns the loop off (for instance on
all but one replica, or when `python -m bot.booking.reminders` runs as its own process).
`python -m bot.booking.reminders --once --now 2026-12-07T15:00:00+00:00` runs one pass with that
clock, which is how tests move time forward.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from datetime import datetime, timedelta
from typing import List, Mapping, Optional

from bot.booking import appointment_store
from bot.booking.appointments import Appointment
from bot.booking.client_notify import REMINDER, reaches, send_to_client

logger = logging.getLogger(__name__)

REMINDER_HOURS = 24
DEFAULT_INTERVAL_S = 60.0
THREAD_NAME = "appointment-reminders"


def send_due_reminders(now: datetime, hours_before: int = REMINDER_HOURS, url: Optional[str] = None) -> List[str]:
    """Claim and send every reminder due at `now`; returns the codes this call reminded (not
    the ones another replica claimed first, nor the late bookings it claimed without sending)."""
    reminded: List[str] = []
    for appointment in appointment_store.due_reminders(now, timedelta(hours=hours_before), url=url):
        if not appointment_store.mark_reminded(appointment.code, now=now, url=url):
            continue  # another replica has it
        if booked_late(appointment, hours_before):
            continue
        send_to_client(REMINDER, appointment, url=url)
        reminded.append(appointment.code)
    if reminded:
        logger.info("Sent %d appointment reminder(s).", len(reminded))
    return reminded


def booked_late(appointment: Appointment, hours_before: int) -> bool:
    """Booked within the reminder's lead time: the confirmation is still fresh in their inbox."""
    return appointment.starts_at - appointment.created_at < timedelta(hours=hours_before)


def will_remind(appointment: Appointment, now: datetime) -> bool:
    """Whether this appointment will get a reminder the day before: one can reach the person
    (email or SMS configured for the contact they gave), reminders are on, and it was not booked
    within the reminder's lead time. What the confirmation promises follows this."""
    return (reaches(appointment) and reminder_interval_s() > 0 and not booked_late(appointment, REMINDER_HOURS)
            and appointment.starts_at - now > timedelta(hours=1))


def reminder_interval_s(env: Optional[Mapping[str, str]] = None) -> float:
    env = os.environ if env is None else env
    return float(env.get("REMINDER_INTERVAL_S") or DEFAULT_INTERVAL_S)


# --- the loop ----------------------------------------------------------------------------------

_loop_lock = threading.Lock()
_loop: List[threading.Thread] = []
_stop = threading.Event()


def start_reminder_loop(interval_s: Optional[float] = None) -> Optional[threading.Thread]:
    """Look for due reminders every `interval_s` seconds (REMINDER_INTERVAL_S) in a daemon
    thread; None when the interval is 0. Calling it again returns the running thread, so each
    process has one loop however many times its startup code runs."""
    interval = reminder_interval_s() if interval_s is None else interval_s
    if interval <= 0:
        return None
    with _loop_lock:
        if _loop and _loop[0].is_alive():
            return _loop[0]
        _stop.clear()
        thread = threading.Thread(target=_run, args=(interval,), name=THREAD_NAME, daemon=True)
        _loop[:] = [thread]
        thread.start()
        return thread


def stop_reminder_loop(timeout: Optional[float] = None) -> bool:
    """Stop the loop after its current pass (tests, and an orderly shutdown); True once it has."""
    _stop.set()
    with _loop_lock:
        thread = _loop[0] if _loop else None
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _run(interval_s: float) -> None:
    while not _stop.is_set():
        _pass_quietly()
        _stop.wait(interval_s)


def _pass_quietly() -> None:
    """One pass; a database that is down or locked is logged and tried again next time, since
    a dead loop would silently stop every reminder."""
    try:
        send_due_reminders(appointment_store.utcnow())
    except Exception as error:
        logger.error("The reminder pass failed and will be retried (%s).", type(error).__name__)


# --- the command line --------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Send the appointment reminders that are due.")
    parser.add_argument("--once", action="store_true", help="one pass, then exit (default: keep looking)")
    parser.add_argument("--now", type=_aware, default=None,
                        help="the clock for --once, an ISO time with its offset (default: now)")
    parser.add_argument("--hours", type=int, default=REMINDER_HOURS, help="how long before to remind")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.once:
        if args.now is not None or args.hours != REMINDER_HOURS:
            parser.error("--now and --hours only go with --once")
        return _forever()
    reminded = send_due_reminders(args.now or appointment_store.utcnow(), args.hours)
    print(f"Sent {len(reminded)} reminder(s).")
    return 0


def _forever() -> int:
    thread = start_reminder_loop()
    if thread is None:
        print("REMINDER_INTERVAL_S is 0: reminders are off.", file=sys.stderr)
        return 1
    try:
        thread.join()
    except KeyboardInterrupt:
        stop_reminder_loop()
    return 0


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give the offset too, e.g. 2026-12-07T15:00:00+00:00")
    return value


if __name__ == "__main__":
    sys.exit(main())
