# Kabinet — the commands a newcomer needs: `make demo`, `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BABEL := $(VENV)/bin/pybabel
LOCALES := locales
MO := $(LOCALES)/ru/LC_MESSAGES/messages.mo $(LOCALES)/en/LC_MESSAGES/messages.mo
PYTEST_ARGS ?=
DEMO_PORT ?= 8080

.PHONY: demo run test lint format i18n i18n-compile install install-dev services services-stop bench clean help

help:
	@echo "make demo     try the real bot in a browser chat, without Telegram (http://127.0.0.1:$(DEMO_PORT))"
	@echo "make run      install and run the bot (needs BOT_TOKEN in .env)"
	@echo "make test     install with the dev extra, compile catalogs, lint, start PostgreSQL/Redis, run pytest"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make format   ruff format + ruff check --fix"
	@echo "make i18n     extract texts, update and compile the catalogs"
	@echo "make bench    run the benchmarks in bench/ (BENCH=dispatch|receipts|broadcast|latency|billing: one only)"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# the stamps re-install when pyproject.toml changes
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[postgres,redis]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po | $(VENV)/bin/activate
	@test -x $(BABEL) || $(PIP) install -q babel
	$(BABEL) compile -d $(LOCALES) -D messages -l $* --statistics

i18n-compile: $(MO)

i18n: install-dev
	flock $(LOCALES)/.lock $(BABEL) extract -F babel.cfg -k _ -k __ -k N_ --no-location --sort-output -o $(LOCALES)/messages.pot .
	flock $(LOCALES)/.lock $(BABEL) update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching
	$(BABEL) compile -d $(LOCALES) -D messages --statistics
	$(PY) scripts/i18n_check.py

run: install i18n-compile
	$(PY) run_bot.py run

# a fresh demo database, sandbox/, the real bot polling it, and the page; Ctrl-C stops them all
demo: install i18n-compile
	$(PY) scripts/demo.py --port $(DEMO_PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot handlers storage sandbox
	$(PY) scripts/i18n_check.py

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

services:
	scripts/test-services.sh start

services-stop:
	scripts/test-services.sh stop

test: install-dev i18n-compile lint services
	source .cache/services.env && $(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; scripts/test-services.sh stop; exit $$rc

# the dispatcher hot path first (under a minute), receipts under load (a minute or two),
# then the billing import (minutes); `make bench BENCH=dispatch` runs only the first,
# `BENCH=receipts` only the second, `BENCH=billing` only the third
# (bench: `BENCH=broadcast` the bulk sender against sandbox/'s flood limit, a minute or two;
# `BENCH=latency` one resident step over HTTP at 1, 50, 200 residents, a few minutes)
BENCH ?= dispatch receipts broadcast latency billing
bench: install-dev i18n-compile
	$(if $(filter dispatch,$(BENCH)),$(PY) bench/dispatch.py)
	$(if $(filter receipts,$(BENCH)),$(PY) bench/receipts.py)
	$(if $(filter broadcast,$(BENCH)),$(PY) bench/broadcast.py)
	$(if $(filter latency,$(BENCH)),$(PY) bench/latency.py)
	$(if $(filter billing,$(BENCH)),$(PY) bench/run.py)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
