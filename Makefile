# Two commands: `make demo` and `make test`. Each creates .venv if missing and installs Loa into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint types clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/loa demo

# Every tier: unit, integration (sandboxes, SQLite and PostgreSQL), end-to-end (demo, crash, soak,
# browser), after the linter and the type checker.
test: $(STAMP)
	$(BIN)/ruff check bot channels content_queue tests benchmarks
	$(BIN)/ruff format --check bot channels content_queue tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

# The fast tier (well under 30 s): linter, type checker, unit tests.
check: $(STAMP)
	$(BIN)/ruff check bot channels content_queue tests benchmarks
	$(BIN)/ruff format --check bot channels content_queue tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check bot channels content_queue tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
