"""The staff page's settings, read from the environment once when the server starts.

- STAFF_ACCOUNTS="alice:owner:<hash>,bob:reception:<hash>": one account per person with its role
  (hashes from `python -m bot.staff.passwords`); `name:<hash>` without a role means reception;
- STAFF_PASSWORD_HASH=<hash>: a single shared account named "staff", with the reception role;
- STAFF_SECRET_KEY: signs the session cookie; unset, a random key is created on the first run in
  STAFF_SECRET_KEY_FILE (.data/staff-secret-key, mode 0600) and reused;
- STAFF_SESSION_HOURS: how long a login lasts (8).
With no account configured the staff page is switched off.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

from bot.security.token import ensure_token
from bot.staff.passwords import is_valid_hash

logger = logging.getLogger(__name__)

SHARED_ACCOUNT = "staff"
OWNER, RECEPTION = "owner", "reception"
# An owner edits the spa's content, reviews what the assistant missed and sees the dashboard;
# reception handles booking requests. Every page reception can open, an owner can too.
ROLES = (OWNER, RECEPTION)
DEFAULT_SESSION_HOURS = 8.0
DEFAULT_SECRET_KEY_FILE = ".data/staff-secret-key"
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class ConfigError(ValueError):
    """A staff setting that cannot be used as written."""


@dataclass(frozen=True)
class StaffConfig:
    accounts: Dict[str, str] = field(default_factory=dict)  # name -> password hash
    roles: Dict[str, str] = field(default_factory=dict)  # name -> owner | reception
    secret_key: bytes = b""
    session_seconds: float = DEFAULT_SESSION_HOURS * 3600

    @property
    def enabled(self) -> bool:
        return bool(self.accounts) and bool(self.secret_key)

    def role(self, user: str) -> str:
        """An account's role; one without a role (the old `name:hash` form) is reception."""
        return self.roles.get(user, RECEPTION)

    @property
    def shared_only(self) -> bool:
        """Only the shared account: the login form asks for the password alone."""
        return list(self.accounts) == [SHARED_ACCOUNT]


def parse_accounts(env: Mapping[str, str]) -> Dict[str, str]:
    """Accounts from STAFF_ACCOUNTS and STAFF_PASSWORD_HASH; refuses anything that is not a hash,
    so a plain password in the environment is never accepted as one."""
    return {name: encoded for name, (_, encoded) in parse_accounts_with_roles(env).items()}


def parse_accounts_with_roles(env: Mapping[str, str]) -> Dict[str, Tuple[str, str]]:
    """name -> (role, hash) from `name:role:hash` or `name:hash` (reception) entries."""
    accounts: Dict[str, Tuple[str, str]] = {}
    for entry in (env.get("STAFF_ACCOUNTS") or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = [part.strip() for part in entry.split(":")]
        if len(parts) == 3:
            name, role, encoded = parts
        elif len(parts) == 2:
            (name, encoded), role = parts, RECEPTION
        else:
            raise ConfigError("STAFF_ACCOUNTS: write each account as name:role:hash (or name:hash for reception)")
        if role not in ROLES:
            raise ConfigError(f"STAFF_ACCOUNTS: the role of {name!r} must be owner or reception, not {role!r}")
        if not ACCOUNT_NAME.match(name):
            raise ConfigError("STAFF_ACCOUNTS: an account name may use letters, digits and . _ @ - (up to 64)")
        if not is_valid_hash(encoded):
            raise ConfigError(f"STAFF_ACCOUNTS: the entry for {name!r} is not a hash from `python -m bot.staff.passwords`")
        accounts[name] = (role, encoded)
    shared = (env.get("STAFF_PASSWORD_HASH") or "").strip()
    if shared:
        if not is_valid_hash(shared):
            raise ConfigError("STAFF_PASSWORD_HASH is not a hash from `python -m bot.staff.passwords`")
        accounts.setdefault(SHARED_ACCOUNT, (RECEPTION, shared))
    return accounts


def secret_key(env: Mapping[str, str]) -> bytes:
    """STAFF_SECRET_KEY, or a key kept in a file only the owner can read (same on every restart,
    so logins survive one)."""
    configured = env.get("STAFF_SECRET_KEY")
    if configured:
        if len(configured) < 16:
            raise ConfigError("STAFF_SECRET_KEY must be at least 16 characters")
        return configured.encode("utf-8")
    key, created = ensure_token(Path(env.get("STAFF_SECRET_KEY_FILE") or DEFAULT_SECRET_KEY_FILE))
    if created:
        logger.info("Created the staff session key in %s.", env.get("STAFF_SECRET_KEY_FILE") or DEFAULT_SECRET_KEY_FILE)
    return key.encode("utf-8")


def load(env: Optional[Mapping[str, str]] = None) -> StaffConfig:
    """The staff settings; a bad value switches the page off (and says why in the log) rather than
    stopping the assistant."""
    env = os.environ if env is None else env
    try:
        parsed = parse_accounts_with_roles(env)
        accounts = {name: encoded for name, (_, encoded) in parsed.items()}
        roles = {name: role for name, (role, _) in parsed.items()}
        if not accounts:
            return StaffConfig()
        hours = float(env.get("STAFF_SESSION_HOURS") or DEFAULT_SESSION_HOURS)
        if not 0 < hours <= 24 * 30:
            raise ConfigError("STAFF_SESSION_HOURS must be between 0 and 720")
        return StaffConfig(accounts=accounts, roles=roles, secret_key=secret_key(env), session_seconds=hours * 3600)
    except ConfigError as problem:
        logger.error("Staff page switched off: %s.", problem)
        return StaffConfig()
