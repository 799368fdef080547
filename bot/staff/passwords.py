"""Staff passwords: scrypt hashes with a random salt, compared in constant time.

A hash reads `scrypt.<n>.<r>.<p>.<salt>.<key>` (salt and key in unpadded URL-safe base64), so it
holds no `$`, `:` or `,` and can go into STAFF_ACCOUNTS or an env file without quoting trouble.

`python -m bot.staff.passwords` asks for a password twice and prints its hash.
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import secrets
import sys
from typing import List, Optional

SCHEME = "scrypt"
N, R, P = 2 ** 14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
# Work factors a stored hash may ask for: a forged hash must not make verification hang.
MAX_N = 2 ** 20
_MAXMEM = 64 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=KEY_BYTES)


def hash_password(password: str) -> str:
    """A fresh salted scrypt hash, so equal passwords never share a hash and a leaked
    environment does not give the password away."""
    salt = secrets.token_bytes(SALT_BYTES)
    return ".".join((SCHEME, str(N), str(R), str(P), _b64(salt), _b64(_derive(password, salt, N, R, P))))


def is_valid_hash(encoded: str) -> bool:
    """Whether a configured value is a hash this module made (catches a plain password pasted by mistake)."""
    try:
        scheme, n, r, p, salt, key = encoded.split(".")
        return (scheme == SCHEME and 2 <= int(n) <= MAX_N and int(n) & (int(n) - 1) == 0
                and 1 <= int(r) <= 32 and 1 <= int(p) <= 16 and len(_unb64(salt)) >= 8
                and len(_unb64(key)) == KEY_BYTES)
    except (ValueError, TypeError):
        return False


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of a password against a stored hash; a malformed hash matches nothing."""
    if not is_valid_hash(encoded) or len(password) > MAX_PASSWORD_CHARS:
        return False
    _, n, r, p, salt, key = encoded.split(".")
    try:
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError, UnicodeError):
        return False
    return hmac.compare_digest(derived, _unb64(key))


def dummy_verify(password: str) -> None:
    """Spend the same time as a real check when the account does not exist, so response times
    do not reveal which account names are real."""
    verify_password(password, _DUMMY_HASH)


_DUMMY_HASH = ".".join((SCHEME, str(N), str(R), str(P), _b64(b"\0" * SALT_BYTES), _b64(b"\0" * KEY_BYTES)))


def main(argv: Optional[List[str]] = None) -> int:
    """Print the hash of a password typed twice (or read from stdin with --stdin)."""
    parser = argparse.ArgumentParser(description="Make a password hash for STAFF_ACCOUNTS or STAFF_PASSWORD_HASH.")
    parser.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New staff password: ")
        if getpass.getpass("Type it again: ") != password:
            sys.stderr.write("The two passwords differ; nothing was printed.\n")
            return 1
    if len(password) < MIN_PASSWORD_CHARS:
        sys.stderr.write(f"Use at least {MIN_PASSWORD_CHARS} characters.\n")
        return 1
    sys.stdout.write(hash_password(password) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
