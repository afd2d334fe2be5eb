"""The schema the migrations build is exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
