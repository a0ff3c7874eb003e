# The two commands: `make run` (embedded demo on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# `make up` only: Daphne processes (more than 1: behind HAProxy on PORT) and Celery workers.
WEB ?= 1
WORKERS ?= 1
# Full-mode services for `make test` / `make up` (override as needed).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/supportdesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Daphne through supportdesk/serve.py: frames over 64 KiB are refused at the transport with
# close 1009 before being buffered whole.
DAPHNE := $(BIN)/python -m supportdesk.serve
DAPHNE_FLAGS := --websocket-max-message-size 65536 --websocket-max-frame-size 65536 \
	--application-close-timeout 5

.PHONY: run test up lint format install clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py connections_cleanup --all
	@echo "supportdesk (embedded mode) on http://$(HOST):$(PORT)/  — agent login above, admin at /admin/"
	DEBUG=1 $(DAPHNE) -b $(HOST) -p $(PORT) $(DAPHNE_FLAGS) supportdesk.asgi:application

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

/usr/bin/chromium:
	@echo "Installing Debian's chromium for the browser tests"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

/usr/sbin/haproxy:
	@echo "Installing Debian's haproxy for the scale-out test (tests/full/test_scale_out.py)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy

# Embedded suite first (SQLite, in-memory layer, eager Celery, a real Daphne and Chromium),
# then the full suite against real PostgreSQL and Redis with real Daphne and Celery processes.
test: $(STAMP) /usr/bin/chromium /usr/sbin/haproxy lint
	$(BIN)/python -m pytest -m "not full"
	bash scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest -m full

# Full mode without Docker, against local PostgreSQL and Redis: WEB Daphne processes (behind
# HAProxy when WEB > 1), WORKERS Celery workers and one beat, e.g. `make up WEB=2 WORKERS=2`.
up: $(STAMP)
	bash scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) HOST=$(HOST) PORT=$(PORT) \
		WEB=$(WEB) WORKERS=$(WORKERS) bash scripts/up.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
