"""The action server with the log redaction of bot/security/logs.py installed first.

`python -m bot.security.action_server --actions actions --port 5055` is `rasa run actions ...`
whose logs keep no message text: rasa_sdk logs a failed action's whole request (the
conversation) and the exception, which may quote what the person wrote.
"""
from __future__ import annotations

import sys


def main() -> None:
    from bot.security import logs

    logs.install()
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv[0] = "rasa_sdk"
    sdk_main()


if __name__ == "__main__":
    main()
