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
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("TEST_DB", "sqlite"),
        choices=("sqlite", "postgresql"),
        help="database the integration and e2e tests run on",
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked production_layout run once, with PostgreSQL (the suite's SQLite run
    leaves them to the PostgreSQL run, which `make test` always makes)."""
    if config.getoption("--db") == "postgresql":
        return
    kept = [i for i in items if i.get_closest_marker("production_layout") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}; redis: {REDIS_URL}"


# Every answer of an API operation in this run (tests/api_coverage.py): at the end, each
# must be documented in the OpenAPI document, or the run fails.
API_ANSWERS: dict = {}


def pytest_sessionfinish(session, exitstatus):
    if not API_ANSWERS:
        return
    from core.api import build_spec
    from tests.api_coverage import undocumented

    problems = undocumented(API_ANSWERS, build_spec())
    session.config._undocumented_answers = problems
    if problems and exitstatus == 0:
        session.exitstatus = 1


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
    if "app" in request.fixturenames and "db" not in request.fixturenames:
        wipe(request.getfixturevalue("app"))


def wipe(application) -> None:
    """Empty every table of the test database (the schema stays)."""
    from sqlalchemy import inspect

    from bids.service import forget_specs
    from core.extensions import db

    with application.app_context():
        engine = db.engine
        names = [
            n
            for n in inspect(engine).get_table_names()
            if n != "alembic_version" and not n.startswith("tender_search_")  # FTS5 shadows
        ]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{n}"' for n in names)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                for name in names:
                    conn.exec_driver_sql(f'DELETE FROM "{name}"')
        db.session.remove()
    forget_specs()


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
    from bids.service import forget_specs
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
        forget_specs()


@pytest.fixture()
def ctx(app, db):
    """An app context inside the test's transaction."""
    with app.test_request_context():
        yield


@pytest.fixture()
def client(app, db):
    return app.test_client()
