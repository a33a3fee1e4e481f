# The two commands a newcomer needs: `make run` and `make test`. Everything else here
# is what those two set up on the way.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCAL := .local
PORT ?= 8000
SANDBOX_PORT ?= 8765

.PHONY: help run test lint format bench browser clean

help:
	@echo "make run    set up and serve the dashboard with the sandbox and demo data"
	@echo "make test   set up and run the whole test suite (lint, unit, browser)"
	@echo "make lint   ruff, mypy and hadolint only"
	@echo "make bench  run the benchmarks in bench/"

# The virtual environment is rebuilt when the pinned requirements change.
$(STAMP): requirements.txt requirements-dev.txt scripts/find-python
	@python_bin=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "Creating $(VENV) with $$python_bin"; rm -rf $(VENV); "$$python_bin" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Local secrets for the demo (Django secret key, encryption key), never committed.
$(LOCAL)/demo.env: | $(STAMP)
	@mkdir -p $(LOCAL)
	$(PY) scripts/make_demo_env.py > $@.tmp && mv $@.tmp $@
	@echo "Wrote $@ (git-ignored demo secrets)"

run: $(STAMP) $(LOCAL)/demo.env
	@PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) scripts/run-demo

browser:
	@scripts/ensure-chromium

test: $(STAMP) browser lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/hadolint Dockerfile

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench
	$(PY) -m bench.load_under_faults
	$(PY) -m bench.sync_round
	$(PY) -m bench.page_size
	$(PY) -m bench.audit_size

clean:
	rm -rf $(VENV) $(LOCAL) staticfiles .pytest_cache .mypy_cache .ruff_cache
