# Two commands: `make demo` and `make test`. Each creates .venv if missing and installs Loa into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/loa demo

test: $(STAMP)
	$(BIN)/ruff check bot channels content_queue tests benchmarks
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot channels content_queue tests benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
