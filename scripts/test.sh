#!/usr/bin/env bash
# The whole test suite (make test): data validation, dialogue test stories, then pytest
# (unit, actions, NLU quality on the held-out set, safety set, end-to-end over HTTP, messaging
# webhooks, and browser tests of the widget and kiosk in Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
RASA_DATA=(data/nlu data/rules.yml)
[ -f data/stories.yml ] && RASA_DATA+=(data/stories.yml)

echo "==> rasa data validate"
"$BIN/rasa" data validate --fail-on-warnings --data "${RASA_DATA[@]}" --domain domain.yml

echo "==> rasa test core (test stories)"
rm -rf results/core
"$BIN/rasa" test core --model models/model.tar.gz --stories tests/stories \
  --fail-on-prediction-errors --out results/core --no-plot

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Chromium: install the Debian package 'chromium' (apt-get install chromium)" >&2
    exit 1
  fi
fi

echo "==> pytest"
"$BIN/python" -m pytest "$@"
