# Two commands for a newcomer: `make run` (the app on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: install run test lint format migrate worker scheduler messages compile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) compile

# Translations (docs/i18n.md): `make messages` extracts the marked strings into
# translations/messages.pot and merges them into the ru and en catalogs (edit the .po files
# then); `make compile` builds the .mo files, which are build output (not committed; the
# app also compiles a missing or stale one at start).
PYBABEL := $(BIN)/pybabel
I18N_IGNORE := --ignore-dirs='.* ._ tests bench migrations instance build dist'

messages:
	$(PYBABEL) -q extract -F babel.cfg -k lazy_gettext -k _l -k ngettext:1,2 \
		--no-location --sort-output --project=tenders --copyright-holder=tenders \
		$(I18N_IGNORE) -o translations/messages.pot .
	$(PYBABEL) -q update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete --width=100
	sed -i '/^"POT-Creation-Date:/d; /^"PO-Revision-Date:/d' translations/*/LC_MESSAGES/messages.po

compile:
	$(PYBABEL) -q compile -d translations

migrate: install
	$(BIN)/flask --app app db upgrade

run: migrate
	$(BIN)/flask --app app demo load
	$(BIN)/python serve.py --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The whole suite: unit tests, then integration and end-to-end tests on SQLite and on
# PostgreSQL, with real Redis, a real SMTP server and real server/worker processes, on
# TEST_WORKERS pytest-xdist workers (a module's tests stay on one worker; each worker has its
# own database and Redis database: docs/testing.md). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile
test: install compile
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(PYTEST) --db sqlite
	$(PYTEST) tests/integration tests/e2e --db postgresql

worker: install
	$(BIN)/flask --app app jobs worker

scheduler: install
	$(BIN)/flask --app app jobs scheduler
