"""Pure decision logic: what the person told us, whether massage is safe, what to recommend."""
