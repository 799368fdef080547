"""Nothing lost, nothing doubled: how a message is handled once and its turn kept, whatever fails.

- `once`: every channel gives a message an id; a conversation that already handled that id
  answers with the replies it gave then and changes nothing (a retried POST, a re-delivered
  webhook, the same message sent to two replicas at once).
- `retry`: the tracker store's reads and writes retried with backoff until a deadline while the
  database is away, then a clear "please try again" instead of a reply that is not on record.
- `locks`: conversation locks as PostgreSQL advisory locks, held by a live connection, so a dead
  replica's locks go with its connections at once.
- `outbox`: a turn's events written with the turn, in the same transaction, and published to
  RabbitMQ by a relay that deletes them once the broker confirmed (at least once, each with an
  event id that the analytics consumer uses to drop duplicates).
"""
