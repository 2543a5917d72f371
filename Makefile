# One-command entry points. Each target installs what it needs into ./.venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check lint typecheck bench clean

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

## test: lint, type-check and run the whole test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests sdk bench
	$(BIN)/mypy
	cd sdk/python && $(CURDIR)/$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

check: test

bench: $(VENV)/.installed-dev
	bench/run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
