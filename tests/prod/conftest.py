"""tests/prod: the production stack.

The offline tests here (the two patches, the analytics counting, the manifests' variables) run
in `make test` too. test_stack.py (PostgreSQL, Redis, RabbitMQ and nginx) and test_outbox_relay.py
(PostgreSQL and RabbitMQ) run only when
PROD_TESTS=1 (scripts/test-prod.sh, `make test-prod`, sets it).
"""
from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("PROD_TESTS") == "1" else ["test_stack.py", "test_outbox_relay.py"]
