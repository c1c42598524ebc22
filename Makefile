# Developer tasks, run with the tools in .venv (`make venv`, or the README's test command, makes
# it). Plain make rather than nox: nox would build a virtualenv of its own per session and
# install .[dev] (Piper's ~260 MB, Dask, playwright) into each, minutes on a fresh clone, where
# these reuse the one .venv. .ci/run runs the same commands.

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help venv lint format-check types test-fast test check

help:
	@echo "make venv          create .venv with narrate and the test tools (.[dev])"
	@echo "make lint          ruff check ."
	@echo "make format-check  ruff format --check ."
	@echo "make types         mypy (narrate and tests, strict)"
	@echo "make test-fast     pytest -m 'not slow' (the fast subset)"
	@echo "make test          pytest (the whole suite, as CI runs it)"
	@echo "make check         all of the above but venv, in that order"

venv:
	python3 -m venv $(VENV) && $(BIN)/pip install -e '.[dev]'

lint:
	$(BIN)/ruff check .

format-check:
	$(BIN)/ruff format --check .

types:
	$(BIN)/mypy

test-fast:
	$(BIN)/python -m pytest -m "not slow"

test:
	$(BIN)/python -m pytest

check: lint format-check types test
