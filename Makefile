# ketaclinic: `make run` and `make test` work on a fresh machine with nothing but this repo.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: run test lint bench screenshots venv oracle clean help

help:
	@echo "make run    set up .venv and start the web application (ketaclinic run)"
	@echo "make test   set up .venv and run lint + the whole test suite"
	@echo "make lint   ruff, mypy and the import-linter layer contracts"
	@echo "make bench  run the benchmarks in benchmarks/ (ratios against in-run baselines)"

# Our sources compiled to bytecode ahead of time, as pip does for installed packages: an
# editable install leaves that to the first import, and where PYTHONDONTWRITEBYTECODE is set
# (this kind of machine) every process compiled them anew (half of `ketaclinic simulate`).
BYTECODE = $(PY) -m compileall -q src > /dev/null

$(STAMP): pyproject.toml scripts/install_opentiva.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,dask]'
	bash scripts/install_opentiva.sh $(PY)
	$(BYTECODE)
	@touch $(STAMP)

# JavaScript for the browser tests only (axe-core), from npm at the locked versions.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $(NODE_STAMP)

venv: $(STAMP)

run: $(STAMP)
	@$(BYTECODE)
	$(VENV)/bin/ketaclinic run

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -q -r src --severity-level high

# The pure packages' tests run once, with the coverage gate (pyproject: tool.coverage); every
# other test (store, services, CLI, web, browser) runs once, without coverage.
PURE := pharmacology protocols safety outcomes
PURE_SRC := $(addprefix src/ketaclinic/,$(PURE))
PURE_TESTS := tests/pharmacology tests/vpop tests/protocols tests/safety tests/outcomes

test: lint $(NODE_STAMP)
	@$(BYTECODE)
	$(PY) -m pytest -n 2 -q -p no:cacheprovider $(PURE_SRC) $(PURE_TESTS) --cov --cov-report=term
	$(PY) -m pytest -n 2 -q src tests $(addprefix --ignore=,$(PURE_SRC) $(PURE_TESTS))

# docs/screenshots/*.png: the main pages of a demo clinic in Chromium at 1024 px.
screenshots: $(STAMP) $(NODE_STAMP)
	$(PY) scripts/screenshots.py

bench: $(STAMP)
	@$(BYTECODE)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
