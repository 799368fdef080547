#!/usr/bin/env bash
# The production-stack tests (make test-prod) against the machine's real PostgreSQL, Redis and
# RabbitMQ: concurrency across replicas, the same message id racing on both replicas, SIGKILL of
# a replica, action servers down, PostgreSQL restarted and stopped for 5 s, Redis and RabbitMQ
# stopped (each brought back with the machine's own start command), every message checked by its
# id against the stored conversation and the event stream against the store, the outbox relay,
# the analytics figures, capacity with one and two replicas, and the Kubernetes manifests checked
# offline. Results go to results/prod/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}" PROD_TESTS=1
started=$SECONDS

for tool in pg_isready redis-cli rabbitmqctl psql; do
  command -v "$tool" >/dev/null || { echo "test-prod needs $tool (PostgreSQL, Redis and RabbitMQ clients)" >&2; exit 1; }
done

echo "==> Kubernetes manifests and container files, checked offline"
scripts/check-deploy.sh

echo "==> pytest tests/prod (the stack with the real services)"
"$BIN/python" -m pytest tests/prod -p no:cacheprovider -s "$@"
echo "==> test-prod took $((SECONDS - started)) s"
