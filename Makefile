# CVI Studio: `make run` starts the app, `make test` runs every suite. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
TOOLS  := .tools
BUN    := $(TOOLS)/node_modules/.bin/bun
BUN_VERSION := 1.4.5
AXE    := $(TOOLS)/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := false

WORKERS ?= 2

.PHONY: help setup run run-prod run-cluster admin doctor sync-tools test lint bench migrate system-deps clean

help:
	@echo "make run    start CVI Studio on http://localhost:3000 (sandbox mode without TAVUS_API_KEY)"
	@echo "make run-cluster WORKERS=2   the cluster shape here: PostgreSQL, Redis, N app processes"
	@echo "make admin EMAIL=you@example.com   create the first admin (sign-in)"
	@echo "make sync-tools [PERSONA=id]   give personas the Python tools (dry run: python -m cvi_app.tools_sync)"
	@echo "make doctor  check the setup: settings, API key, daily-python, public URL, database, Redis"
	@echo "make test   set up everything and run every test suite (unit, integration, browser)"
	@echo "make bench  run the benchmarks and print one table"

# Python packages: reinstalled only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# bun from the npm registry (Reflex's own installer downloads from the internet).
$(BUN):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)

# axe-core from the npm registry: the browser suite checks every page with it.
$(AXE):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)

setup: $(VENV)/.installed $(BUN) $(AXE)

migrate: setup
	$(PY) -m cvi_app.store.migrate

run: setup migrate
	$(VENV)/bin/reflex run

run-prod: setup migrate
	$(VENV)/bin/reflex run --env prod

# The cluster shape on this machine (scripts/run_cluster.py): PostgreSQL, Redis, the sandbox
# service without TAVUS_API_KEY, and WORKERS app processes on ports 8001, 8002, ...
run-cluster: setup system-deps
	$(PY) -m scripts.run_cluster --workers $(WORKERS)

# The first admin (asks for the password): make admin EMAIL=ada@example.com
admin: setup migrate
	@test -n "$(EMAIL)" || { echo "Name the admin: make admin EMAIL=you@example.com"; exit 1; }
	$(PY) -m cvi_app.accounts create-admin --email "$(EMAIL)"

# What a user is about to rely on, one line each with the fix (exit 1 when something failed).
doctor: setup
	$(PY) -m cvi_app.doctor

# The Python tools (demo and CVI_TOOLS_MODULE's) become the personas' layers.llm.tools; each
# change is printed before it is sent. Only see it: .venv/bin/python -m cvi_app.tools_sync
sync-tools: $(VENV)/.installed
	$(PY) -m cvi_app.tools_sync --apply $(if $(PERSONA),--persona "$(PERSONA)")

# Debian packages the tests drive for real: Chromium, PostgreSQL, Redis.
system-deps:
	@scripts/system-deps

test: setup system-deps
	@scripts/test

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup system-deps migrate
	$(PY) -m benchmarks

clean:
	rm -rf .web $(VENV) $(TOOLS)
