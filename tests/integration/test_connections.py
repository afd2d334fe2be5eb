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
