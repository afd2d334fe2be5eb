"""Bulk inserts on PostgreSQL: COPY works inside a green web process (psycopg2 refuses COPY
while a wait callback is installed, as psycogreen does under eventlet), and a COPY that would
wait for a lock held elsewhere gives way to a plain insert instead of holding the process."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text, func, select, text

from core import bulk

ROWS = 1500  # past bulk.COPY_FROM: the COPY path
_meta = MetaData()
parents = Table("bulk_test_parents", _meta, Column("id", Integer, primary_key=True))
children = Table(
    "bulk_test_children",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_id", ForeignKey("bulk_test_parents.id"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("label", Text),
)


@pytest.fixture()
def tables(app):
    """Two scratch tables, a child's foreign key on its parent (as bid lines on revisions)."""
    from core.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        _meta.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(parents.insert(), [{"id": 1}])
    try:
        yield app
    finally:
        with app.app_context():
            _meta.drop_all(db.engine)


@pytest.fixture()
def green_driver():
    """A wait callback installed, as psycogreen installs one in every eventlet process."""
    from psycopg2 import extensions, extras

    extensions.set_wait_callback(extras.wait_select)
    try:
        yield extras.wait_select
    finally:
        extensions.set_wait_callback(None)


ROW_VALUES = [{"parent_id": 1, "n": i, "label": "" if i % 2 else None} for i in range(ROWS)]


def _stored(db) -> list[tuple]:
    return db.session.execute(select(children.c.n, children.c.label).order_by("n")).all()


def test_copy_works_while_a_wait_callback_is_installed(tables, green_driver):
    from psycopg2 import extensions

    from core.extensions import db

    with tables.app_context():
        db.session.execute(text("SET LOCAL lock_timeout = '3s'"))
        bulk.insert_rows(children, ROW_VALUES)
        assert extensions.get_wait_callback() is green_driver  # given back
        # the transaction's own lock timeout is as it was; "" stayed a string, None is NULL
        assert db.session.execute(text("SHOW lock_timeout")).scalar_one() == "3s"
        db.session.commit()
        assert _stored(db) == [(r["n"], r["label"]) for r in ROW_VALUES]
        db.session.remove()


def test_a_copy_that_waits_for_a_lock_gives_way_to_an_insert(tables, green_driver):
    """Another transaction holds the parent row FOR UPDATE (the children's foreign key needs a
    KEY SHARE lock on it): the COPY stops after COPY_LOCK_WAIT with nothing stored, the
    transaction goes on, and the rows are inserted once that lock is let go."""
    from core.extensions import db

    with tables.app_context():
        holder = db.engine.connect()
        holder.execute(text("SELECT id FROM bulk_test_parents WHERE id = 1 FOR UPDATE"))
        # Let go once the COPY gave up, while the insert waits. The timer starts after the
        # COPY: started before it, a busy machine could reach the COPY after the release.
        release = threading.Timer(1.0, holder.rollback)
        try:
            rows = [list(r.values()) for r in ROW_VALUES]
            assert not bulk.copy_csv(children.name, ["parent_id", "n", "label"], rows)
            assert db.session.execute(select(func.count()).select_from(children)).scalar() == 0
            release.start()
            bulk.insert_rows(children, ROW_VALUES)  # waits for the lock, cooperatively
            db.session.commit()
        finally:
            if release.is_alive():
                release.join()
            else:
                release.cancel()
            holder.close()
        assert len(_stored(db)) == ROWS
        db.session.remove()
