# Member Space: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

WEB_SOURCES := $(shell find webapp/src -type f 2>/dev/null) webapp/index.html webapp/vite.config.js
WEB_BUILT := gateway/web/index.html
NODE_STAMP := webapp/node_modules/.package-lock.json

.PHONY: run test test-unit test-service test-e2e event-snapshot webtest web seed seed-large migrate bench lint format lock requirements k8s clean help

help:
	@echo "make run     set everything up and start the suite (gateway on http://127.0.0.1:8000)"
	@echo "make test    set up what the tests need and run every test"
	@echo "make test-unit   the unit tests only (no I/O, seconds)"
	@echo "make test-service / make test-e2e   the tests on real services / the whole suite"
	@echo "make event-snapshot  record the event contracts' shapes (services/contracts)"
	@echo "make seed    put the demo data back to its initial state (also while running)"
	@echo "make seed-large  100,000 people with 50 ledger records each in the bench databases (once)"
	@echo "make bench   measure the gateway against a bare nameko echo"
	@echo "make lint    ruff"
	@echo "make requirements  rewrite each service's dependency set (deploy/requirements/) from the lock"
	@echo "make k8s     rewrite deploy/k8s/ from deploy/k8s_manifests.py"
	@echo "make web     build the web app (webapp/ -> gateway/web/)"
	@echo "make webtest the browser tests alone"

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools<81'
	$(PY) -m pip install --quiet -r requirements.lock
	@touch $(STAMP)

venv: $(STAMP)

# The web app (webapp/ -> gateway/web/), built from packages pinned in package-lock.json.
$(NODE_STAMP): webapp/package.json webapp/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required to build the web app (apt-get install nodejs npm)"; exit 1; }
	cd webapp && npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

$(WEB_BUILT): $(NODE_STAMP) $(WEB_SOURCES)
	cd webapp && npm run build

web: $(WEB_BUILT)

run: $(STAMP) $(WEB_BUILT)
	$(PY) -m deploy.suite run

seed: $(STAMP)
	$(PY) -m deploy.suite seed

migrate: $(STAMP)
	$(PY) -m deploy.suite migrate

test: $(STAMP) $(WEB_BUILT)
	$(PY) -m pytest
	$(PY) -m pytest webtests

# the browser tests alone (headless Debian chromium driven by Playwright)
webtest: $(STAMP) $(WEB_BUILT)
	$(PY) -m pytest webtests

test-unit: $(STAMP)
	$(PY) -m pytest -m unit

test-service: $(STAMP)
	$(PY) -m pytest -m service

test-e2e: $(STAMP)
	$(PY) -m pytest -m e2e

event-snapshot: $(STAMP)
	$(PY) -m tests.unit.contracts.snapshot

seed-large: $(STAMP)
	$(PY) -m deploy.seed_large

bench: $(STAMP) seed-large
	$(PY) -m tests.bench.run

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .

lock:
	$(PY) -m pip freeze --exclude-editable | sort -f > requirements.lock

requirements: $(STAMP)
	$(PY) -m deploy.dependency_sets

k8s: $(STAMP)
	$(PY) -m deploy.k8s_manifests

clean:
	rm -rf $(VENV) var/log .pytest_cache
