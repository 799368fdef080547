#!/bin/sh
# Write Rasa's endpoints and credentials from the environment (passwords stay ${VAR} references),
# then start the Rasa server with the project's patches and security hooks (bot/server.py).
set -eu
CONFIG_DIR="${CONFIG_DIR:-/tmp/rasa-config}"
mkdir -p "$CONFIG_DIR"
python -m bot.deployment endpoints --out "$CONFIG_DIR/endpoints.yml"
python -m bot.deployment credentials --out "$CONFIG_DIR/credentials.yml"
exec python -m bot.server run --enable-api --port "${RASA_PORT:-5005}" --model models/model.tar.gz \
  --endpoints "$CONFIG_DIR/endpoints.yml" --credentials "$CONFIG_DIR/credentials.yml"
