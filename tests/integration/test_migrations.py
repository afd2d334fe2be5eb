"""The schema the migrations build is exactly the schema the models describe."""

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bids import plpgsql
from core.extensions import db


def _not_search_table(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name.startswith("tender_search"))


def test_search_table_exists(app):
    from sqlalchemy import inspect

    with app.app_context():
        assert "tender_search" in inspect(db.engine).get_table_names()


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _not_search_table}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_reached_head(app):
    from alembic.script import ScriptDirectory
    from flask import current_app

    with app.app_context(), db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        assert current == script.get_current_head()


# -- the one-call accept's PL/pgSQL and the code cannot drift ----------------------------------


def _normalised(sql: str) -> str:
    """A CREATE FUNCTION statement as pg_get_functiondef() writes it, whitespace collapsed:
    the schema-qualified name and $function$ quoting are PostgreSQL's, the rest is the file's."""
    sql = sql.strip().removesuffix(";")
    sql = sql.replace("$function$", "$$").replace("FUNCTION public.", "FUNCTION ")
    return " ".join(sql.split())


def _installed(conn, name: str) -> str:
    return conn.execute(
        text("SELECT pg_get_functiondef(to_regprocedure(:f))"), {"f": f"{name}(jsonb)"}
    ).scalar_one()


def _pg_only(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the one-call accept's functions are PostgreSQL's")


@pytest.mark.parametrize("name", plpgsql.FUNCTIONS)
def test_installed_accept_functions_are_the_newest_sql_files(app, name):
    _pg_only(app)
    with app.app_context(), db.engine.connect() as conn:
        installed = _installed(conn, name)
    version, expected = plpgsql.newest(name)
    assert _normalised(installed) == _normalised(expected), f"{name}.v{version}.sql"


def test_accept_function_inserts_what_the_models_map(app):
    """Every INSERT of bid_accept_revision() names columns of the mapped table, and every
    column a row needs (NOT NULL, no default) is among them."""
    _pg_only(app)
    _, sql = plpgsql.newest("bid_accept_revision")
    inserts = re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
    assert {table for table, _ in inserts} >= {"bids", "bid_revisions", "bid_lines"}
    for table, names in inserts:
        columns = db.metadata.tables[table].columns
        named = {n.strip() for n in names.split(",")}
        assert named <= set(columns.keys()), (table, named - set(columns.keys()))
        needed = {
            c.name
            for c in columns
            if not c.nullable
            and c.default is None
            and c.server_default is None
            and not (c.primary_key and c.autoincrement in (True, "auto"))
        }
        assert needed <= named, (table, needed - named)
