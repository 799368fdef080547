#!/usr/bin/env bash
# The production profile on one machine (make run-prod): the knowledge base, the tracker store
# and the conversation locks on PostgreSQL, the event outbox published to RabbitMQ by its relay,
# RASA_REPLICAS Rasa servers and ACTION_REPLICAS action servers behind nginx. Every setting comes from the environment
# (bot/production.py has the defaults; the README's "Production" section explains each).
# A process that dies is started again after PROD_RESTART_DELAY_S, as an orchestrator would;
# Ctrl-C or SIGTERM stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL="${MODEL:-models/model.tar.gz}"
RUN_DIR="${RUN_DIR:-.run/prod}"
RESTART_DELAY_S="${PROD_RESTART_DELAY_S:-1}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}" RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
VENV_BIN=.venv/bin
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

# Defaults filled in and derived values (replica ports, DATABASE_URL, ACTION_ENDPOINT_URL).
eval "$("$VENV_BIN/python" -m bot.production env)"
export RASA_PORT ACTIONS_PORT RASA_REPLICAS ACTION_REPLICAS RASA_REPLICA_BASE_PORT ACTION_REPLICA_BASE_PORT \
  TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_NAME TRACKER_DB_USER TRACKER_DB_PASSWORD \
  REDIS_HOST REDIS_PORT REDIS_DB RABBITMQ_HOST RABBITMQ_PORT RABBITMQ_USER RABBITMQ_PASSWORD RABBITMQ_QUEUE \
  LOCK_STORE TICKET_LOCK_LIFETIME TRUSTED_PROXIES DATABASE_URL ACTION_ENDPOINT_URL ANALYTICS_PORT ANALYTICS_QUEUE \
  RELAY_PORT

mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pids" "$RUN_DIR/nginx-tmp" .data
RUN_DIR="$(cd "$RUN_DIR" && pwd)"  # absolute: nginx resolves paths from its own prefix
echo "==> Waiting for PostgreSQL ($TRACKER_DB_HOST:$TRACKER_DB_PORT), Redis ($REDIS_HOST:$REDIS_PORT), RabbitMQ ($RABBITMQ_HOST:$RABBITMQ_PORT)"
"$VENV_BIN/python" -m bot.production wait
"$VENV_BIN/python" -m bot.production create-db
echo "==> Knowledge base into PostgreSQL"
"$VENV_BIN/python" -m bot.knowledge.loader
"$VENV_BIN/python" -m bot.deployment endpoints --out "$RUN_DIR/endpoints.yml"
"$VENV_BIN/python" -m bot.deployment credentials --out "$RUN_DIR/credentials.yml"
"$VENV_BIN/python" -m bot.production nginx --out "$RUN_DIR/nginx.conf"
"$NGINX" -t -q -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/logs/nginx-error.log"

# One token for every replica (see scripts/run.sh): RASA_TOKEN, or created once in a 0600 file.
if [ -z "${RASA_TOKEN:-}" ]; then
  RASA_TOKEN="$("$VENV_BIN/python" -m bot.security.token "${RASA_TOKEN_FILE:-.data/rasa-token}")"
fi
export RASA_TOKEN

declare -A cmds pids
names=()
add() { names+=("$1"); cmds[$1]="$2"; }
for i in $(seq 0 $((ACTION_REPLICAS - 1))); do
  add "actions-$((i + 1))" "env -u RASA_TOKEN $VENV_BIN/python -m bot.security.action_server --actions actions --port $((ACTION_REPLICA_BASE_PORT + i))"
done
for i in $(seq 0 $((RASA_REPLICAS - 1))); do
  add "rasa-$((i + 1))" "$VENV_BIN/python -m bot.server run --enable-api --port $((RASA_REPLICA_BASE_PORT + i)) --model $MODEL --endpoints $RUN_DIR/endpoints.yml --credentials $RUN_DIR/credentials.yml"
done
add analytics "$VENV_BIN/python -m bot.analytics.consumer"
add outbox-relay "$VENV_BIN/python -m bot.delivery.outbox"
add nginx "$NGINX -c $RUN_DIR/nginx.conf -e $RUN_DIR/logs/nginx-error.log -g 'daemon off;'"

start() {
  local name=$1
  # exec: the recorded pid is the server itself, so `kill -9 $(cat pids/rasa-1.pid)` kills it.
  bash -c "exec ${cmds[$name]}" >>"$RUN_DIR/logs/$name.log" 2>&1 &
  pids[$name]=$!
  echo "$!" >"$RUN_DIR/pids/$name.pid"
}

stopping=0
stop() {
  local code=$1
  stopping=1
  trap - INT TERM EXIT
  echo "Stopping the production stack..."
  for name in "${names[@]}"; do kill -TERM "${pids[$name]:-}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR"/pids/*.pid
  exit "$code"
}
trap 'stop $?' EXIT
trap 'exit 0' INT TERM

for name in "${names[@]}"; do start "$name"; done

ready() {
  local i
  for i in $(seq 0 $((RASA_REPLICAS - 1))); do
    curl -fsS "http://127.0.0.1:$((RASA_REPLICA_BASE_PORT + i))/" >/dev/null 2>&1 || return 1
  done
  for i in $(seq 0 $((ACTION_REPLICAS - 1))); do
    curl -fsS "http://127.0.0.1:$((ACTION_REPLICA_BASE_PORT + i))/health" >/dev/null 2>&1 || return 1
  done
  curl -fsS "http://127.0.0.1:$ANALYTICS_PORT/health" >/dev/null 2>&1 || return 1
  curl -fsS "http://127.0.0.1:$RELAY_PORT/health" >/dev/null 2>&1 || return 1
  curl -fsS "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1
}
for _ in $(seq 1 480); do
  ready && break
  for name in "${names[@]}"; do
    kill -0 "${pids[$name]}" 2>/dev/null || { echo "$name failed to start; see $RUN_DIR/logs/$name.log" >&2; exit 1; }
  done
  sleep 0.5
done
ready || { echo "The stack did not become ready; see $RUN_DIR/logs/" >&2; exit 1; }
cat <<MSG

The production stack is ready: $RASA_REPLICAS Rasa replicas and $ACTION_REPLICAS action servers behind nginx.
  REST channel:  curl -s -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
                   -H 'Content-Type: application/json' -d '{"sender": "me", "message": "hi"}'
  HTTP API:      http://localhost:$RASA_PORT/status?token=...  (the token: \$RASA_TOKEN or ${RASA_TOKEN_FILE:-.data/rasa-token})
  Stores:        PostgreSQL $TRACKER_DB_HOST:$TRACKER_DB_PORT/$TRACKER_DB_NAME (conversations; locks: $LOCK_STORE), RabbitMQ $RABBITMQ_HOST queue $RABBITMQ_QUEUE (from the event outbox)
  Staff report:  http://localhost:$RASA_PORT/staff/report.html?token=...  (daily figures per channel, from the event stream)
  Logs and pids: $RUN_DIR/logs/, $RUN_DIR/pids/
Press Ctrl-C to stop.
MSG

# Supervise: a process that exits is started again (its conversations live in PostgreSQL).
declare -A down_since
while :; do
  sleep 1
  for name in "${names[@]}"; do
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      wait "${pids[$name]}" 2>/dev/null && code=0 || code=$?
      if [ -z "${down_since[$name]:-}" ]; then
        down_since[$name]=$SECONDS
        echo "$(date -u +%H:%M:%S) $name stopped (exit $code); starting it again in ${RESTART_DELAY_S}s" >&2
      fi
      if [ $((SECONDS - down_since[$name])) -ge "$RESTART_DELAY_S" ]; then
        unset "down_since[$name]"
        start "$name"
      fi
    fi
  done
done
