"""Test harness on real services: SQLite or PostgreSQL (--db), Redis, an SMTP server.

A service that cannot be reached fails the run; nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from config import database_url
from core import clock

POSTGRES_ADMIN_URL = database_url(
    os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
)


def worker() -> tuple[int, int]:
    """(index, count) of this pytest-xdist worker (`make test` runs `-n 2`); (0, 1) alone.
    Each worker has its own database, Redis database, SMTP server and private Redis ports
    (docs/testing.md)."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw")), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def _redis_urls() -> list[str]:
    """TEST_REDIS_URL lists one Redis URL per worker, comma separated (RQ queues, live
    channels and throttles must not be shared between workers)."""
    default = "redis://127.0.0.1:6379/14,redis://127.0.0.1:6379/15"
    return [u.strip() for u in os.environ.get("TEST_REDIS_URL", default).split(",")]


def _too_few_redis_urls(count: int) -> str | None:
    urls = _redis_urls()
    if len(urls) >= count:
        return None
    return (
        f"TEST_REDIS_URL lists {len(urls)} Redis database(s) for {count} pytest-xdist "
        "workers: give one URL per worker, comma separated (docs/testing.md)"
    )


def _redis_url() -> str:
    """This worker's Redis database."""
    index, count = worker()
    problem = _too_few_redis_urls(count)
    if problem:
        raise pytest.UsageError(problem)
    return _redis_urls()[index]


REDIS_URL = _redis_url()


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("TEST_DB", "sqlite"),
        choices=("sqlite", "postgresql"),
        help="database the integration and e2e tests run on",
    )


def _runs_in_the_other_run(item, kind: str) -> bool:
    """`make test` runs the suite with SQLite, then integration and e2e with PostgreSQL. Tests
    marked production_layout run once, with PostgreSQL; tests marked database_agnostic, and
    tests that never use the run's database (no `database_url` fixture: they would run the
    same twice), run once, with SQLite."""
    if kind == "sqlite":
        return item.get_closest_marker("production_layout") is not None
    if item.get_closest_marker("database_agnostic") is not None:
        return True
    return (
        "database_url" not in item.fixturenames
        and item.get_closest_marker("production_layout") is None
    )


def pytest_configure(config):
    """Before pytest-xdist starts its workers: one Redis URL for each."""
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 1 and _too_few_redis_urls(workers):
        raise pytest.UsageError(_too_few_redis_urls(workers))


def pytest_collection_modifyitems(config, items):
    """Leave out what the other database's run runs (see _runs_in_the_other_run)."""
    kind = config.getoption("--db")
    kept = [i for i in items if not _runs_in_the_other_run(i, kind)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}; redis: {REDIS_URL}"


# Every answer of an API operation in this run (tests/api_coverage.py): at the end, each
# must be documented in the OpenAPI document, or the run fails.
API_ANSWERS: dict = {}


def pytest_sessionfinish(session, exitstatus):
    problems = []
    if API_ANSWERS:
        from core.api import build_spec
        from tests.api_coverage import undocumented

        problems = undocumented(API_ANSWERS, build_spec())
    config = session.config
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: the controller reports
        config.workeroutput["undocumented_answers"] = problems
        return
    problems = sorted(set(problems) | set(getattr(config, "_workers_undocumented", ())))
    config._undocumented_answers = problems
    if problems and exitstatus == 0:
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: gather the workers' undocumented API answers."""
    found = getattr(node, "workeroutput", {}).get("undocumented_answers", ())
    config = node.config
    config._workers_undocumented = [*getattr(config, "_workers_undocumented", ()), *found]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    problems = getattr(config, "_undocumented_answers", None)
    if problems:
        terminalreporter.section("API answers the OpenAPI document does not list")
        for line in problems:
            terminalreporter.write_line(line)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="tenders-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def database_url(request, workdir):
    """A fresh database for this run (a new PostgreSQL database, or a new SQLite file)."""
    kind = request.config.getoption("--db")
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'test.sqlite3'}"
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}", returncode=3)
    name = f"tenders_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn.execute(text(f'CREATE DATABASE "{name}"'))
    conn.close()
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url():
    """The Redis test database, emptied once per run."""
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"Redis is not reachable at {REDIS_URL}: {exc}", returncode=3)
    client.flushdb()
    yield REDIS_URL
    client.close()


class MailBox:
    """What the test SMTP server received."""

    def __init__(self):
        self.messages: list = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()
        return "250 Message accepted for delivery"

    def clear(self):
        with self.cond:
            self.messages.clear()

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def among(self, addresses) -> list:
        """The mails to any of these addresses. Tests assert on their own people's mail, not
        on the whole box: a server process of an earlier test may still deliver a late mail
        (a retry, a digest) to an address of that test while this one runs."""
        wanted = set(addresses)
        return [m for m in self.messages if m["To"] in wanted]

    def link(self, address: str, pattern: str) -> str:
        """The first link matching a pattern in the latest mail to an address."""
        mails = self.to(address)
        assert mails, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        body = mails[-1].get_body(("plain",)).get_content()
        found = re.search(r"https?://\S*" + pattern + r"\S*", body)
        assert found, f"no link matching {pattern!r} in:\n{body}"
        return found.group(0)


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port."""
    from aiosmtpd.controller import Controller

    box = MailBox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture()
def mailbox(smtp_server):
    smtp_server.clear()
    return smtp_server


def app_settings(database_url: str, smtp_port: int, workdir: Path, **extra) -> dict:
    """Settings of the app under test."""
    return {
        "APP_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "JOBS_MODE": "eager",
        # Tests assert the English source texts; Russian tests ask for Russian (docs/i18n.md).
        "BABEL_DEFAULT_LOCALE": "en",
        **extra,
    }


@pytest.fixture(scope="session")
def app(database_url, smtp_server, workdir):
    """The app on the test database, schema created by the migrations."""
    from flask_migrate import upgrade

    from app import create_app

    application = create_app(
        app_settings(database_url, smtp_server.port, workdir),
        env={"INSTANCE_PATH": str(workdir / "instance")},
    )
    with application.app_context():
        upgrade()
    from flask import request_finished

    from tests.api_coverage import recorder

    note = recorder(API_ANSWERS)  # connected weakly: kept alive here for the session
    request_finished.connect(note, application)
    yield application
    from core.extensions import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _forget_committed_rows(request):
    """Tests that commit for real (a server process, concurrent transactions) leave nothing
    behind: the next test starts from the migrated, empty schema as the others do."""
    yield
    clock.reset()  # a test that moved the clock without the db fixture must not leak it
    if "app" in request.fixturenames and "db" not in request.fixturenames:
        wipe(request.getfixturevalue("app"))


def wipe(application) -> None:
    """Empty every table of the test database (the schema stays) and restart the tables'
    id sequences, as `TRUNCATE ... RESTART IDENTITY` would.

    On PostgreSQL only the tables holding rows are emptied, by DELETE with the foreign-key
    triggers off (session_replication_role, a superuser's setting; TRUNCATE otherwise):
    TRUNCATE gives each of the ~50 tables and their indexes new files, which took 0.1-1 s
    per test, and waits for every other connection (a server process's) to let go."""
    from sqlalchemy.exc import OperationalError

    from bids import caches
    from core.extensions import db

    with application.app_context():
        engine = db.engine
        names = _tables(engine)
        for attempt in range(3):
            try:
                with engine.begin() as conn:
                    if engine.dialect.name == "postgresql":
                        _wipe_postgresql(conn, names)
                    else:
                        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                        for name in names:
                            conn.exec_driver_sql(f'DELETE FROM "{name}"')
                break
            except OperationalError as exc:
                # A module's server process (its sweeper, a job) may still be writing: row
                # by row, DELETE can deadlock with it. The victim's transaction is rolled
                # back whole, so the wipe simply runs again.
                if getattr(exc.orig, "pgcode", None) != "40P01" or attempt == 2:
                    raise
        db.session.remove()
    caches.reset()


_TABLES: dict[str, list[str]] = {}


def _tables(engine) -> list[str]:
    """The app's tables (once per database: the schema does not change during a run)."""
    key = engine.url.render_as_string(hide_password=False)
    if key not in _TABLES:
        from sqlalchemy import inspect

        _TABLES[key] = [
            n
            for n in inspect(engine).get_table_names()
            if n != "alembic_version" and not n.startswith("tender_search_")  # FTS5 shadows
        ]
    return _TABLES[key]


def _wipe_postgresql(conn, names: list[str]) -> None:
    filled = conn.execute(
        text(
            " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
        )
    ).scalars()
    filled = list(filled)
    if not filled:
        return
    superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if superuser.scalar():
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for name in filled:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
        # The sequences the tables' columns own start again (what RESTART IDENTITY does).
        conn.exec_driver_sql(
            "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s "
            "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid "
            "AND d.deptype IN ('a', 'i')"
        )
    else:
        quoted = ", ".join(f'"{n}"' for n in names)
        conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


def _scope():
    """Sessions per app context (as in the app); one more for the test body itself."""
    from flask_sqlalchemy.session import _app_ctx_id

    try:
        return _app_ctx_id()
    except RuntimeError:
        return "test-body"


@pytest.fixture()
def db(app):
    """Each test runs in a transaction rolled back at its end; commits become savepoints.

    No app context stays pushed during the test: requests of the test client get their own,
    as in production (a shared one would share `g` between requests).
    """
    from bids import caches
    from core.extensions import db as _db

    original = _db.session
    with app.app_context():
        connection = _db.engine.connect()
    outer = connection.begin()
    _db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_scope,
    )
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()
        clock.reset()
        caches.reset()


@pytest.fixture()
def ctx(app, db):
    """An app context inside the test's transaction."""
    with app.test_request_context():
        yield


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def russian(app):
    """The production default language for one test (the suite's default is English)."""
    before = app.config["BABEL_DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_LOCALE"] = "ru"
    yield
    app.config["BABEL_DEFAULT_LOCALE"] = before
