"""The PL/pgSQL functions of the one-call accept (bids/accept_pg.py), one file a version in
bids/sql/: NAME.vN.sql holds the CREATE OR REPLACE FUNCTION that a migration installs, never
edited once a migration reads it (a change is a new version and a new migration).

    bid_accept_revision.v1.sql   migration 0014  stores a revision in one call
    bid_accept_and_price.v1.sql  migration 0015  ... and reads what the live push tells
    bid_accept_revision.v2.sql   migration 0017  ... refusing a moment the chain has passed
    bid_accept_revision.v3.sql   migration 0026  ... a first bid with its responsible person

The newest version of each is what the code expects installed: a PostgreSQL test
(tests/integration/test_migrations.py) compares it with pg_get_functiondef() and its insert
columns with the mapped tables."""

from __future__ import annotations

import re
from pathlib import Path

SQL = Path(__file__).with_name("sql")
FUNCTIONS = ("bid_accept_revision", "bid_accept_and_price")


def function_sql(name: str, version: int) -> str:
    """The CREATE OR REPLACE FUNCTION statement of that version."""
    return (SQL / f"{name}.v{version}.sql").read_text(encoding="utf-8")


def newest(name: str) -> tuple[int, str]:
    """The newest version of the function and its statement."""
    versions = [int(m[1]) for p in SQL.glob(f"{name}.v*.sql") if (m := _VERSION.search(p.name))]
    version = max(versions)
    return version, function_sql(name, version)


_VERSION = re.compile(r"\.v(\d+)\.sql$")
