"""A pooled PostgreSQL connection that died while idle (server restart, idle timeout) is
replaced before use: the request using it does not fail. A connection used a moment ago is
not pinged at all (no round trip per request)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, exc, text

from core.transaction import install_idle_ping


def _pool_with_a_dead_connection(database_url, idle_seconds: float):
    """An engine of one pooled connection whose server process was just terminated, and the
    terminated backend's pid."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's server can end a connection")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds=idle_seconds)
    with engine.connect() as conn:
        victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim}).scalar()
    admin.dispose()
    return engine, victim


def test_a_connection_killed_while_idle_is_replaced(database_url):
    engine, victim = _pool_with_a_dead_connection(database_url, idle_seconds=0.0)
    try:
        with engine.connect() as conn:  # the pooled one is dead: pinged, replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url):
    engine, _ = _pool_with_a_dead_connection(database_url, idle_seconds=3600)
    try:
        with pytest.raises(exc.OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))  # found dead only by using it: it was not pinged
    finally:
        engine.dispose()


# -- execute_alone: one statement as a transaction of its own --------------------------------


def _postgresql_app(app):
    from core.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("autocommit statements are PostgreSQL's path (bids/accept_pg.py)")


def test_execute_alone_commits_by_itself_and_leaves_the_session_usable(app):
    from accounts.models import Organization
    from core.extensions import db
    from core.transaction import execute_alone
    from tests.factories import make_org

    _postgresql_app(app)
    with app.app_context():
        org = make_org()
        db.session.commit()
        org = db.session.get(Organization, org.id)  # a read transaction is open
        renamed = text("UPDATE organizations SET name = :n WHERE id = :i RETURNING name")
        assert execute_alone(renamed, {"n": "ООО Отдельная", "i": org.id}) == [("ООО Отдельная",)]
        assert org.name != "ООО Отдельная"  # still loaded as it was read
        db.session.rollback()  # nothing of the session's to undo: the update is committed
        assert db.session.get(Organization, org.id).name == "ООО Отдельная"
        org.name = "ООО Изменённая"
        with pytest.raises(RuntimeError, match="pending changes"):
            execute_alone(renamed, {"n": "x", "i": org.id})
        db.session.rollback()
        db.session.remove()


def test_execute_alone_on_a_lost_connection_fails_and_the_pool_drops_it(app):
    from core.extensions import db
    from core.transaction import execute_alone

    _postgresql_app(app)
    with app.app_context():
        victim = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim}).scalar()
        admin.dispose()
        with pytest.raises(Exception, match="terminat|closed|connection"):
            execute_alone(text("SELECT 1"), {})
        db.session.rollback()
        db.session.remove()
        # the next request gets a live connection, not the dead one back from the pool
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
        db.session.remove()


def test_the_pool_keeps_as_many_connections_as_a_web_process_runs_requests(app):
    from core.extensions import db

    _postgresql_app(app)
    with app.app_context():
        assert db.engine.pool.size() == app.config["DB_POOL_SIZE"] == 20
        assert db.engine.pool._max_overflow == app.config["DB_MAX_OVERFLOW"]


# -- without_yielding: the driver waits itself --------------------------------------------------


def test_without_yielding_lets_the_driver_wait_and_gives_the_callback_back(database_url):
    """psycogreen's wait callback is off inside the block only (also when the block fails),
    and the same connection works both ways."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the wait callback is psycopg2's")
    from psycopg2 import extensions, extras

    from core.transaction import without_yielding

    assert extensions.get_wait_callback() is None
    with without_yielding():  # no callback (threads, tests): nothing changes
        assert extensions.get_wait_callback() is None
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    extensions.set_wait_callback(extras.wait_select)  # as psycogreen does under eventlet
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            with without_yielding():
                assert extensions.get_wait_callback() is None
                assert conn.execute(text("SELECT 2")).scalar_one() == 2
            assert extensions.get_wait_callback() is extras.wait_select
            with pytest.raises(exc.ProgrammingError), without_yielding():
                conn.execute(text("SELECT no_such_column"))
            assert extensions.get_wait_callback() is extras.wait_select
            conn.rollback()
            assert conn.execute(text("SELECT 3")).scalar_one() == 3
    finally:
        extensions.set_wait_callback(None)
        engine.dispose()


def test_lock_waits_at_most_ends_a_long_wait_and_only_for_its_transaction(app):
    from accounts.models import Organization
    from core.extensions import db
    from core.transaction import LockWaitTooLong, lock, lock_waits_at_most
    from tests.factories import make_org

    _postgresql_app(app)
    with app.app_context():
        org_id = make_org().id
        db.session.commit()
        holder = create_engine(db.engine.url.render_as_string(hide_password=False))
        try:
            with holder.connect() as other:
                other.execute(
                    text("SELECT 1 FROM organizations WHERE id = :i FOR UPDATE"), {"i": org_id}
                )
                with pytest.raises(LockWaitTooLong), lock_waits_at_most(50):
                    lock(Organization, org_id)
                db.session.rollback()
                # a new transaction waits as long as it must again
                assert db.session.execute(text("SHOW lock_timeout")).scalar_one() == "0"
                db.session.rollback()
                other.rollback()
            assert lock(Organization, org_id).id == org_id
            db.session.rollback()
        finally:
            holder.dispose()
