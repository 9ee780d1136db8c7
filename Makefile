# E-commerce Strategy Workbook. `make help` lists the targets.
# Every target installs what it needs from nothing: a fresh machine needs only Python 3.11 and make.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
KERNEL := ecommerce-workbook
DEMO_DIR := data/demo
JOBS ?=
LAB_ARGS ?=
# Jupyter refuses to start as root without --allow-root (containers and CI machines run as root)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help setup setup-test lab data reports test lint format bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
	  || { echo "Set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip sync --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (E-commerce workbook)"
	@rm -f $(VENV)/.test && touch $@

$(VENV)/.test: requirements-test.lock $(VENV)/.runtime
	$(BIN)/uv pip sync --compile-bytecode --python $(BIN)/python requirements-test.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $@

setup: $(VENV)/.runtime ## virtual environment from the lock file, the package, and the Jupyter kernel

setup-test: $(VENV)/.test ## setup plus the locked test tools, headless Chromium and Java 17 (for Spark)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

lab: setup data ## JupyterLab on notebooks/ with the demo data (LAB_ARGS="--no-browser --port 8888" for a headless server)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

$(DEMO_DIR)/events.parquet: | $(VENV)/.runtime
	$(BIN)/workbook demo-data --out $(DEMO_DIR)

data: $(DEMO_DIR)/events.parquet ## the deterministic demo data in data/demo/

reports: setup data ## run every notebook for every market and render reports/index.html
	$(BIN)/workbook run $(if $(JOBS),--jobs $(JOBS))

test: setup-test data ## the whole test suite (unit, notebooks, pipeline, browser, Spark parity on the demo data)
	$(BIN)/python -m pytest -n 2 --dist loadscope tests notebooks --nbval-lax

lint: setup-test ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

format: setup-test ## apply ruff's formatting
	$(BIN)/ruff format src tests benchmarks scripts

bench: setup-test data ## benchmarks: report pipeline vs plain commands, funnel at scale, demo data
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lock: | $(BIN)/uv ## re-resolve the lock files after editing requirements*.in
	$(BIN)/uv pip compile --python-version 3.11 requirements.in -o requirements.lock
	$(BIN)/uv pip compile --python-version 3.11 requirements-test.in -c requirements.lock \
	  -o requirements-test.lock

clean: ## remove the environment, demo data and reports
	rm -rf $(VENV) $(DEMO_DIR) data/bench reports .pytest_cache .ruff_cache .hypothesis
