#!/usr/bin/env bash
# Start the action server and the Rasa server; stop both on Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
MODEL="${MODEL:-models/model.tar.gz}"
RUN_DIR="${RUN_DIR:-.run}"
export ACTIONS_PORT PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
VENV_BIN=.venv/bin

mkdir -p "$RUN_DIR" .data
"$VENV_BIN/python" -m bot.deployment endpoints --out "$RUN_DIR/endpoints.yml"
"$VENV_BIN/python" -m bot.deployment credentials --out "$RUN_DIR/credentials.yml"

# The HTTP API is closed by default: without RASA_TOKEN, a token is created on the first run in
# a file only the owner can read (printed that once) and reused afterwards. Rasa reads it from the
# environment (bot/security/hooks.py), so it never appears on a command line.
if [ -z "${RASA_TOKEN:-}" ]; then
  RASA_TOKEN="$("$VENV_BIN/python" -m bot.security.token "${RASA_TOKEN_FILE:-.data/rasa-token}")"
fi
export RASA_TOKEN
auth=()  # the token goes by environment; bot.server also replaces --cors with ALLOWED_ORIGINS

pids=()
stop() {
  local code=$1
  trap - INT TERM EXIT
  echo "Stopping the servers..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$code"
}
trap 'stop $?' EXIT
trap 'exit 0' INT TERM

env -u RASA_TOKEN "$VENV_BIN/python" -m bot.security.action_server --actions actions --port "$ACTIONS_PORT" &
pids+=($!)
"$VENV_BIN/python" -m bot.server run --enable-api --cors "*" --port "$RASA_PORT" "${auth[@]}" \
  --model "$MODEL" --endpoints "$RUN_DIR/endpoints.yml" --credentials "$RUN_DIR/credentials.yml" &
pids+=($!)

for _ in $(seq 1 240); do
  if curl -fsS "http://localhost:$RASA_PORT/" >/dev/null 2>&1 \
     && curl -fsS "http://localhost:$ACTIONS_PORT/health" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "A server failed to start; see the log above." >&2; exit 1; }
  done
  sleep 0.5
done
cat <<MSG

The assistant is ready.
  REST channel:  curl -s -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
                   -H 'Content-Type: application/json' -d '{"sender": "me", "message": "hi"}'
  HTTP API:      http://localhost:$RASA_PORT/status?token=...  (the token: \$RASA_TOKEN or ${RASA_TOKEN_FILE:-.data/rasa-token})
  Action server: http://localhost:$ACTIONS_PORT/health
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "A server stopped; shutting down the other." >&2
exit 1
