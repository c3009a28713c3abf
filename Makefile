# The project's fixed entry points: `make demo`, `make test`, `make bench`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo bench clean

setup: $(STAMP) node_modules/.package-lock.json

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --loglevel=error

lint: setup
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --check --no-cache .

test: setup lint
	$(VENV)/bin/pytest

demo: setup
	$(PY) -m local.demo

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .demo .pytest_cache
