# The two commands: `make run` and `make test`. Both work from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# make run ALLOW_PRIVATE=1: webhooks to a receiver on this machine (127.0.0.1); development only.
ALLOW_PRIVATE ?= 0
REDIS_HINT := redis-server is not installed: apt-get install redis-server, brew install redis, or docker compose up redis

.PHONY: run test lint bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: Redis (started privately if none answers at REDIS_URL), worker, beat and HTTP on PORT.
run: $(VENV)/.installed
	$(BIN)/syndicate up --port $(PORT) $(if $(filter 1,$(ALLOW_PRIVATE)),--allow-private-targets)

## make test: the whole suite against real parts (redis-server started by the tests, Celery, HTTP).
test: $(VENV)/.installed-dev
	@command -v redis-server >/dev/null 2>&1 || { echo "$(REDIS_HINT)" >&2; exit 1; }
	$(BIN)/ruff check worker feeds tests
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check worker feeds tests
	$(BIN)/ruff format --check worker feeds tests

## make bench: benchmarks, one JSON object per scenario, ratios against bare baselines.
bench: $(VENV)/.installed-dev
	@command -v redis-server >/dev/null 2>&1 || { echo "$(REDIS_HINT)" >&2; exit 1; }
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
