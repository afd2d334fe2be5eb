"""What every benchmark shares: a throwaway PostgreSQL database migrated by the app itself,
and percentiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg2://127.0.0.1:5432/test")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_database(name: str):
    """A new empty database (dropped first if a previous run left it); returns the admin
    engine that drop_database() needs."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return admin


def drop_database(admin, name: str) -> None:
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated_app(url: str, instance: str):
    """The app in this process (test settings: no Redis, eager jobs), schema migrated."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(
        {"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "JOBS_MODE": "eager"},
        env={"INSTANCE_PATH": instance},
    )
    with app.app_context():
        upgrade()
    return app


def dispose(app) -> None:
    from core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
