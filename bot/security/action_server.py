"""The action server with the log redaction of bot/security/logs.py installed first.

`python -m bot.security.action_server --actions actions --port 5055` is `rasa run actions ...`
whose logs keep no message text: rasa_sdk logs a failed action's whole request (the
conversation) and the exception, which may quote what the person wrote.

It also runs the booking's background work in this process: reminders the day before
(bot.booking.reminders, every REMINDER_INTERVAL_S) and, when CALDAV_URL is set, the therapists'
calendar sync (bot.booking.caldav_sync). With several action servers each one runs them; a
reminder is still sent once, because it is claimed in the database before it is sent.
"""
from __future__ import annotations

import sys


def main() -> None:
    from bot.security import logs

    logs.install()
    from bot.booking import caldav_sync, reminders

    reminders.start_reminder_loop()
    caldav_sync.start_caldav_loop()
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv[0] = "rasa_sdk"
    sdk_main()


if __name__ == "__main__":
    main()
