#!/usr/bin/env bash
# Print a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10), or fail with a clear message.
for candidate in "${PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 \
    /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "Python 3.10 not found: install it (e.g. apt-get install python3.10) or set PYTHON=/path/to/python3.10" >&2
exit 1
