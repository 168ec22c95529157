# The two commands of the README: `make run` and `make test`. Both set up .venv when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test lint fmt bench bench-engines soak conformance fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip 2>/dev/null || true
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev]' 2> >(grep -v "is ignored: it is neither" >&2)
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	@echo "mlgate: security is ON. Log in as 'admin' (HTTP Basic): the password is MLGATE_INITIAL_ADMIN_PASSWORD"
	@echo "        if you set it before the first start, else it is printed once below and kept in"
	@echo "        $${MLGATE_DATA_DIR:-./data}/initial-admin-password. Example: curl -u admin:<password> localhost:$${MLGATE_PORT:-9200}/"
	$(BIN)/mlgate serve

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The suite runs inside a throwaway PostgreSQL cluster (MLGATE_TEST_PG_URL) when PostgreSQL is installed.
test: $(STAMP) lint
	scripts/pg-test-cluster exec -- $(BIN)/pytest -p no:cacheprovider

# The fuzz layer of `make test` with a long budget and a fresh seed (printed; FUZZ_SEED=N replays a run),
# on SQLite, then on a throwaway PostgreSQL when its binaries are installed (both run; either fails it).
FUZZ_REQUESTS ?= 50000
ifeq ($(origin FUZZ_SEED), undefined)
FUZZ_SEED := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
endif
FUZZ_ENV = FUZZ_REQUESTS=$(FUZZ_REQUESTS) FUZZ_SEED=$(FUZZ_SEED)
FUZZ_PYTEST = $(BIN)/pytest -p no:cacheprovider -s tests/fuzz
fuzz: $(STAMP)
	@echo "fuzz: seed $(FUZZ_SEED), $(FUZZ_REQUESTS) requests per store"
	@status=0; \
	env FUZZ_STORE=sqlite $(FUZZ_ENV) $(FUZZ_PYTEST) || status=1; \
	if scripts/pg-test-cluster find >/dev/null 2>&1; then \
		scripts/pg-test-cluster exec -- env FUZZ_STORE=postgresql $(FUZZ_ENV) $(FUZZ_PYTEST) || status=1; \
	else echo "fuzz: no PostgreSQL binaries, PostgreSQL skipped"; fi; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The vector libraries compared for the embedded index engine (docs/search-engine.md), then mlgate's engine.
bench-engines: $(STAMP)
	$(BIN)/python bench/search_engines.py
	$(BIN)/python bench/search_engines.py --restart

soak: $(STAMP)
	$(BIN)/python bench/soak.py

conformance: $(STAMP)
	$(BIN)/python -m tests.conformance.runner

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
