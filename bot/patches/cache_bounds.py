"""How much the per-conversation caches of the patches keep in memory.

Each cache (applied_events_cache, incremental_tracker_states, tracker_event_cache) keeps at most
MAX_CONVERSATIONS conversations, the most recently used, and drops one idle for TTL_S. A
conversation that was dropped costs one replay of its events on its next turn, nothing else.

Together the caches hold about 0.17 MB per conversation (Rasa server RSS 537 MB at start, 709 MB
after 1,000 ten-message conversations with a bound of 1,000; bench/README.md). 256 keeps every
active conversation of the benchmark's 50 concurrent ones, and of a busy site, with room to spare.
"""
from __future__ import annotations

MAX_CONVERSATIONS = 256
TTL_S = 600.0  # an idle conversation's events do not stay in memory longer than this
