# Two commands for a newcomer: `make run` (the app on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: install run test lint format migrate worker scheduler

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/flask --app app db upgrade

run: migrate
	$(BIN)/flask --app app demo load
	$(BIN)/python serve.py --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The whole suite: unit tests, then integration and end-to-end tests on SQLite and on
# PostgreSQL, with real Redis, a real SMTP server and real server/worker processes.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --db sqlite
	$(BIN)/python -m pytest tests/integration tests/e2e --db postgresql

worker: install
	$(BIN)/flask --app app jobs worker

scheduler: install
	$(BIN)/flask --app app jobs scheduler
