# One-command entry points. Each target installs what it needs into ./.venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers for `make test`: most tests wait on servers they start, so 3 workers
# keep 2 cores busy (TEST_WORKERS=0 runs everything in one process).
TEST_WORKERS ?= 3

.PHONY: run test test-ts check lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e . -e ./sdk/python
	touch $@

$(VENV)/.installed-dev: pyproject.toml sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' -e ./sdk/python
	touch $@ $(VENV)/.installed-run

## run: start the server on the embedded default (SQLite + ./.cubby), port 8080
run: $(VENV)/.installed-run
	$(BIN)/cubby serve $(ARGS)

## test: lint, type-check and run the whole test suite (PostgreSQL tests too whenever a server
## answers at postgresql://postgres@127.0.0.1:5432/postgres or CUBBY_TEST_POSTGRES_URL)
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests sdk bench
	$(BIN)/mypy
	cd sdk/python && $(CURDIR)/$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	$(MAKE) test-ts

TS := sdk/typescript
$(TS)/node_modules/.package-lock.json: $(TS)/package-lock.json
	cd $(TS) && npm ci --no-audit --no-fund

## test-ts: build, type-check and test the TypeScript SDK (against a live `cubby serve`)
test-ts: $(VENV)/.installed-dev $(TS)/node_modules/.package-lock.json
	cd $(TS) && npm run build && npm run typecheck
	cd $(TS) && CUBBY_PYTHON=$(CURDIR)/$(BIN)/python CUBBY_BIN=$(CURDIR)/$(BIN)/cubby npm test

check: test

bench: $(VENV)/.installed-dev
	bench/run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
