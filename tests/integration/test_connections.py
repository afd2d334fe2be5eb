"""A pooled PostgreSQL connection that died while idle (server restart, idle timeout) is
replaced before use: the request using it does not fail."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, exc, text

from core.transaction import install_idle_ping


def test_a_connection_killed_while_idle_is_replaced(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's server can end a connection")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds=0.0)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim}).scalar()
        with engine.connect() as conn:  # the pooled one is dead: pinged, replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url):
    """No round trip for a busy connection: a dead one is found only by using it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's server can end a connection")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds=3600)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim})
        with pytest.raises(exc.OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
        admin.dispose()
