"""The HTTP API token: RASA_TOKEN, or one created on first run and kept in a file only the owner can read.

`python -m bot.security.token FILE` prints the token on stdout (for scripts/run.sh to capture) and,
the first time only, tells the person on stderr where it is and what it is.
"""
from __future__ import annotations

import argparse
import hmac
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Optional, Tuple

DEFAULT_TOKEN_FILE = ".data/rasa-token"


def ensure_token(path: Path) -> Tuple[str, bool]:
    """(token, created): reads the token in `path`, or creates a new random one with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)  # someone loosened it: only the owner may read the token
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token, True


def token_matches(provided: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; no token configured means nothing matches."""
    if not provided or not expected:
        return False
    return hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Print the HTTP API token, creating it on first use.")
    parser.add_argument("file", nargs="?", default=DEFAULT_TOKEN_FILE, type=Path)
    args = parser.parse_args(argv)
    token, created = ensure_token(args.file)
    if created:
        sys.stderr.write(
            f"Created the HTTP API token in {args.file} (readable only by you). It is shown this once:\n"
            f"  {token}\n"
            f"Add ?token=<token> to HTTP API calls, e.g. /status?token=<token>. The chat channels need no token.\n"
        )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
