"""Commit once per entrypoint; side effects (emits, job enqueues) run only after the commit."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator

from psycopg2 import extensions
from sqlalchemy import event, exc, select, text
from sqlalchemy.orm import Session

from core.extensions import db

log = logging.getLogger(__name__)

_HOOKS = "after_commit_hooks"


def after_commit(fn: Callable, *args, **kwargs) -> None:
    """Run fn(*args, **kwargs) once the current transaction has committed."""
    db.session.info.setdefault(_HOOKS, []).append((fn, args, kwargs))


def commit(keep_loaded: bool = False, run_hooks: bool = True) -> None:
    """Commit the request's (or job's) unit of work, then run the after-commit hooks.

    keep_loaded: leave loaded objects as they are instead of expiring them, for a response
    that shows exactly what this transaction wrote without reading it back. run_hooks=False:
    leave the hooks for the entrypoint's own commit (inside without_yielding(), where a hook
    that talks to Redis must not run)."""
    session = db.session
    _commit(session(), expire=not keep_loaded)
    if not run_hooks:
        return
    hooks = session.info.pop(_HOOKS, [])
    for fn, args, kwargs in hooks:
        try:
            fn(*args, **kwargs)
        except Exception:  # a side effect must never undo what is stored
            log.exception("after-commit hook %s failed", getattr(fn, "__name__", fn))
        finally:
            # A hook that read something opened a transaction: end it (without expiring what
            # the caller loaded) before the next hook. On SQLite every transaction holds the
            # write lock, and an eager job runs in its own session: it would wait for this
            # one, in this same thread.
            if session().in_transaction():
                _commit(session(), expire=False)


def _commit(current, expire: bool) -> None:
    current.expire_on_commit = expire
    try:
        current.commit()
    finally:
        current.expire_on_commit = True


def rollback() -> None:
    """Roll back and forget the pending side effects."""
    db.session.rollback()
    db.session.info.pop(_HOOKS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_hooks(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_HOOKS, None)


def execute_alone(statement, params: dict) -> list:
    """Execute one statement as a transaction of its own, committed by the database as the
    statement ends, and return its rows (as the driver gives them: no SQLAlchemy result
    types). Whatever locks it takes are held only inside the
    database, never across a round trip to this process. The session must hold no pending
    changes; its read transaction so far is ended (objects stay loaded). Inside an enclosing
    transaction that the session only joined (a test's), the statement joins it instead."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("execute_alone() with pending changes in the session")
    connection = session.connection()
    if connection.in_nested_transaction():
        return session.execute(statement, params).all()
    # End the session's read transaction at the driver and run the statement on the same
    # connection in autocommit: the session's own commit later finds nothing to commit.
    # (Going through the session, ending its transaction and checking a connection out in
    # autocommit costs twice the CPU of the statement itself, on the busiest path.)
    sql, compiled = _compiled(statement, connection.dialect)
    driver = connection.connection.driver_connection
    try:
        driver.commit()
        driver.autocommit = True
        with driver.cursor() as cursor:
            cursor.execute(sql, compiled.construct_params(params))
            return cursor.fetchall()
    except Exception:
        if driver.closed:
            connection.invalidate()  # a lost connection does not go back to the pool
        raise
    finally:
        if not driver.closed:
            driver.autocommit = False


@functools.lru_cache(maxsize=32)
def _compiled(statement, dialect) -> tuple[str, object]:
    compiled = statement.compile(dialect=dialect)
    return str(compiled), compiled


class LockWaitTooLong(Exception):
    """A statement waited for a row lock longer than lock_waits_at_most() allows; the
    transaction is to be rolled back."""


_SET_LOCK_TIMEOUT = text("SELECT set_config('lock_timeout', :timeout, true)")
_LOCK_NOT_AVAILABLE = "55P03"


@contextlib.contextmanager
def lock_waits_at_most(milliseconds: int) -> Iterator[None]:
    """From here to the end of the transaction, a statement that waits for a lock longer
    than this fails; inside the block that failure is LockWaitTooLong. PostgreSQL (SQLite
    has no row locks: nothing to set)."""
    if dialect() == "postgresql":
        db.session.execute(_SET_LOCK_TIMEOUT, {"timeout": f"{milliseconds}ms"})
    try:
        yield
    except exc.OperationalError as error:
        if getattr(error.orig, "pgcode", None) == _LOCK_NOT_AVAILABLE:
            raise LockWaitTooLong(str(error.orig)) from error
        raise


@contextlib.contextmanager
def without_yielding() -> Iterator[None]:
    """Database round trips that block this whole process instead of letting its other green
    threads run meanwhile: for the few statements a request makes while it holds a hot lock.

    Under eventlet, psycogreen makes every statement wait cooperatively: while one waits for
    its answer the process serves other requests, and the answer is taken up only when they
    next yield, often milliseconds later. Holding a lock that every bidder on a tender waits
    for, those milliseconds are everybody's ("idle in transaction"). Inside this block the
    driver waits for the answer itself (psycopg2 without a wait callback), so the lock is let
    go as soon as the database is done. The block must not wait for anything but the
    database (no Redis, no sleeping, no hooks, no pool checkout: run a statement before it),
    and a lock it waits for may be held by a green thread of this process, which cannot run
    to let it go: bound every lock wait (lock_waits_at_most()). Without psycogreen (threads,
    tests, SQLite) it changes nothing."""
    callback = extensions.get_wait_callback()
    if callback is None:
        yield
        return
    extensions.set_wait_callback(None)
    try:
        yield
    finally:
        extensions.set_wait_callback(callback)


def dialect() -> str:
    """The database in use: "postgresql" or "sqlite"."""
    return db.session.get_bind().dialect.name


def lock(model, pk, key: str = "id"):
    """Load a row and lock it until the end of the transaction (no-op lock on SQLite,
    whose write transactions are already exclusive: BEGIN IMMEDIATE)."""
    # populate_existing: a row read earlier in the transaction is refreshed, not reused.
    return db.session.execute(
        select(model)
        .where(getattr(model, key) == pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_or_create(model, key: str, key_value, /, **defaults):
    """Lock a row by a unique key, creating it first if missing; safe when two transactions
    race to create it (INSERT ... ON CONFLICT DO NOTHING, then SELECT ... FOR UPDATE). The
    row usually exists: one round trip then (this runs under hot locks, e.g. audit chains)."""
    from sqlalchemy.dialects import postgresql, sqlite

    row = lock(model, key_value, key=key)
    if row is not None:
        return row
    insert = postgresql.insert if dialect() == "postgresql" else sqlite.insert
    db.session.execute(
        insert(model)
        .values({key: key_value, **defaults})
        .on_conflict_do_nothing(index_elements=[key])
    )
    return lock(model, key_value, key=key)


def install_idle_ping(engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for `idle_seconds`: one that
    was in use a moment ago is alive, and pinging on every checkout (pool_pre_ping) costs a
    round trip per request. A dead one is replaced (the pool retries the checkout)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("checked_in")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:  # noqa: BLE001 - any failure: get another connection
            raise exc.DisconnectionError(str(error)) from error


SQLITE_BUSY_SECONDS = 30


def install_sqlite_pragmas(engine, green: bool = False) -> None:
    """SQLite: foreign keys, WAL, busy timeout, and BEGIN IMMEDIATE for every transaction;
    green (an eventlet process): one transaction at a time, waited for cooperatively."""
    if green:
        _serialize_green_transactions(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        if not str(engine.url.database or "").startswith(":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _serialize_green_transactions(engine) -> None:
    """Every SQLite transaction takes the write lock (BEGIN IMMEDIATE), and SQLite waits for a
    busy lock by sleeping inside its C library. In an eventlet process that sleep stops every
    green thread, the lock's holder included (say, the in-process close job, between two of
    its statements): nothing moves until the busy timeout fails the waiter. So the process's
    own transactions take turns on a green lock first; only other processes meet SQLite's
    own busy wait."""
    import sqlite3
    import threading  # monkey-patched by now: a green lock

    turn = threading.Lock()

    @event.listens_for(engine, "begin", insert=True)  # before BEGIN IMMEDIATE
    def _take_turn(connection):
        if not turn.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise sqlite3.OperationalError("database is locked")
        connection.connection.info["green_turn"] = True

    def _end_turn(info: dict) -> None:
        if info.pop("green_turn", False):
            turn.release()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        # Fired just before the driver's COMMIT/ROLLBACK: no green thread runs in between.
        _end_turn(connection.connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        _end_turn(record.info)  # a connection given back inside a transaction is rolled back
