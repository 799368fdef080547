"""tests/prod: the production stack with the real services (`make test-prod`).

Only the offline tests (the action-server-down patch, the analytics counting) run under
`make test`; the rest need PostgreSQL, Redis, RabbitMQ and nginx and run when PROD_TESTS=1
(scripts/test-prod.sh sets it).
"""
from __future__ import annotations

import os

OFFLINE = {"test_action_unavailable.py", "test_analytics_unit.py", "test_deploy_manifests.py"}

collect_ignore_glob = [] if os.environ.get("PROD_TESTS") == "1" else [
    name for name in ("test_stack.py", "test_faults.py", "test_capacity.py") if name not in OFFLINE
]
