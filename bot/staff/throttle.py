"""Slows down password guessing on the staff login.

Each failed login is answered after a short pause, and after `limit` failures within `window_s`
from one client address (or for one account name) further attempts are refused until the window
has passed. A correct password does not reset the account's count for other addresses.
"""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Optional

FAILURE_DELAY_S = 1.0
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(self, limit: int = 10, window_s: float = 15 * 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def _recent(self, key: str) -> Deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> Optional[int]:
        """Seconds to wait when any of the keys (address, account) has used up its attempts."""
        waits = []
        for key in keys:
            times = self._recent(key)
            if len(times) >= self.limit:
                waits.append(int(times[0] + self.window_s - self.clock()) + 1)
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            times = self._recent(key)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def succeeded(self, address_key: str) -> None:
        self._failures.pop(address_key, None)
