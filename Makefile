# Every target bootstraps what it needs: virtualenv, dependencies, knowledge base, model.
SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python.sh)
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/model.tar.gz
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL ?= 3
export RASA_TELEMETRY_ENABLED ?= false

RASA_DATA := data/nlu data/rules.yml $(wildcard data/stories.yml)
TRAINING_INPUTS := config.yml domain.yml $(wildcard data/*.yml data/nlu/*.yml) \
	$(filter-out data/kb/team.yml,$(wildcard data/kb/*.yml)) \
	$(wildcard bot/nlu/*.py)

.PHONY: setup kb train run shell test bench bench-quick clean run-prod test-prod soak nginx

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 is required (see README)"; exit 1; }
	@echo "==> Creating the virtualenv with $(PYTHON) and installing pinned dependencies (about a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -r requirements.txt
	$(BIN)/pip check
	@touch $@

kb: $(VENV)/.installed
	@$(BIN)/python -m bot.knowledge.loader

train: $(MODEL)

# A new model replaces the current one only when it is no worse (scripts/train-guarded.sh).
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	@scripts/train-guarded.sh $(MODEL) $(RASA_DATA)

run: $(MODEL) kb
	@scripts/run.sh

shell: $(MODEL) kb
	@$(BIN)/rasa run actions --actions actions --port $${ACTIONS_PORT:-5055} >/dev/null 2>&1 & \
	pid=$$!; trap "kill $$pid" EXIT; \
	$(BIN)/python -m bot.deployment endpoints --out .run/endpoints.yml && \
	$(BIN)/rasa shell --model $(MODEL) --endpoints .run/endpoints.yml

test: $(MODEL) kb
	@scripts/test.sh

# The production profile (README, "Production"): PostgreSQL, Redis, RabbitMQ, replicas behind nginx.
NGINX_BIN := /usr/sbin/nginx
nginx:
	@test -x $(NGINX_BIN) || command -v nginx >/dev/null || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "==> Installing Debian's nginx for the load balancer"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "run-prod needs nginx: install the Debian package 'nginx' (apt-get install nginx)" >&2; exit 1; fi; }

run-prod: $(MODEL) nginx
	@scripts/run-prod.sh

test-prod: $(MODEL) nginx
	@scripts/test-prod.sh

# 20 minutes of the production stack at half its capacity, a fault every two minutes (README,
# "Nothing lost, nothing doubled"); not in CI. SOAK_MINUTES shortens it.
soak: $(MODEL) nginx
	@PYTHONPATH=$(CURDIR) $(BIN)/python -m tests.prod.soak

# Full benchmark: ours, Rasa's default config and `rasa init` (about 5 minutes with trained models
# in the machine's model cache; about 17 the first time on a machine, 10 of them training Rasa's
# default configuration; BENCH_RETRAIN=1 trains again). See bench/README.md.
bench: $(MODEL) kb
	@$(BIN)/python -m bench.run
	@$(BIN)/python -m bench.availability

# Inner loop (about 2 minutes): reuses the trained models, shorter load; see bench/README.md.
bench-quick: $(MODEL) kb
	@$(BIN)/python -m bench.run --quick

clean:
	rm -rf models .data .run results
