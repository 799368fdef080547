#!/usr/bin/env bash
# make train: train a candidate model next to the current one, then keep it only when the
# guard (tests/nlu/guard.py) finds its held-out intent accuracy and safety recall no worse.
#   scripts/train-guarded.sh MODEL DATA...     e.g. models/model.tar.gz data/nlu data/rules.yml
# A refused candidate is deleted and the current model stays; TRAIN_GUARD=off accepts it anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"

model="$1"; shift
mkdir -p "$(dirname "$model")"
# Same folder as the model, so accepting it is one rename.
candidate="$(mktemp -d "$(dirname "$model")/.candidate.XXXXXX")"
trap 'rm -rf "$candidate"' EXIT

echo "==> Training the model (under a minute on 2 cores; skipped while nothing changes)"
start=$(date +%s)
"$BIN/rasa" train --data "$@" --fixed-model-name model --out "$candidate" --num-threads 2
echo "==> Training took $(( $(date +%s) - start )) s; checking the new model against the current one"
PYTHONWARNINGS=ignore "$BIN/python" -m tests.nlu.guard --candidate "$candidate/model.tar.gz" --model "$model"
