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
