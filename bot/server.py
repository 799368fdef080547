"""Rasa server entry point: `python -m bot.server run ...` is `rasa run ...` with our patches.

scripts/run.sh starts the Rasa server through this module so that the patches in bot/patches are
applied in the server's own process before Rasa's command line (its `main`) takes over. The
action server is still started with `rasa run actions`.
"""
from __future__ import annotations

import sys

from bot import patches, security


def main() -> None:
    """Apply the patches, then run Rasa's command line with this process's arguments."""
    patches.apply()
    security.install()  # API token, request limits, CORS allow-list, signed webhooks, log redaction
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
