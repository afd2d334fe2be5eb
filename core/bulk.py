"""Inserting many rows at once: COPY on PostgreSQL (several times faster than executemany for
tens of thousands of rows), executemany elsewhere. Runs in the session's transaction."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence

from psycopg2 import errors as pg_errors
from sqlalchemy import Table

from core.extensions import db
from core.transaction import without_yielding

log = logging.getLogger(__name__)

COPY_FROM = 1000  # below this, executemany is as fast and simpler
# The longest a COPY may wait for a row lock (its foreign keys take KEY SHARE locks) while it
# holds the whole web process (see copy_csv); past it the rows go in the cooperative way.
COPY_LOCK_WAIT = "200ms"


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert rows (dicts keyed by column name, all with the same keys) into table."""
    if not rows:
        return
    if db.session.connection().dialect.name != "postgresql" or len(rows) < COPY_FROM:
        db.session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    # Non-numeric values quoted: an empty string stays a string.
    values = ([_plain(row[c]) for c in columns] for row in rows)
    if not copy_csv(table.name, columns, values, quoting=csv.QUOTE_NONNUMERIC):
        db.session.execute(table.insert(), rows)


def copy_csv(
    table_name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    quoting: int = csv.QUOTE_MINIMAL,
) -> bool:
    """COPY rows (sequences in column order) into a table, in the session's transaction on
    PostgreSQL. False when the COPY had to wait for a lock longer than COPY_LOCK_WAIT: then
    nothing was stored and the transaction goes on, for the caller to insert another way.

    psycopg2 refuses COPY while a wait callback is installed (psycogreen, in every eventlet
    web process), so the COPY runs without yielding: the database ingests even 50,000 rows in
    tens of milliseconds, which this process waits out instead of serving other requests. A
    lock the COPY waits for may be held by a green thread of this very process, which cannot
    run meanwhile: that wait is bounded, and the rows then go in cooperatively."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=quoting, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        with without_yielding():
            cursor.execute("SELECT current_setting('lock_timeout')")
            (lock_timeout,) = cursor.fetchone()
            cursor.execute(
                "SAVEPOINT bulk_copy; SELECT set_config('lock_timeout', %s, true)",
                (COPY_LOCK_WAIT,),
            )
            try:
                cursor.copy_expert(
                    f'COPY "{table_name}" ({names}) FROM STDIN WITH (FORMAT csv)', buffer
                )
            except pg_errors.LockNotAvailable:
                cursor.execute("ROLLBACK TO SAVEPOINT bulk_copy")
                stored = False
                log.info("COPY into %s waited for a lock too long: inserting instead", table_name)
            else:
                cursor.execute("RELEASE SAVEPOINT bulk_copy")
                stored = True
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
            return stored
    finally:
        cursor.close()


class _Null(int):
    """None in a QUOTE_NONNUMERIC row: a "number" (left unquoted) written as nothing, which
    COPY's csv format reads as NULL. (Python 3.11's csv writes None as a quoted "", an empty
    string; 3.12's QUOTE_NOTNULL says this directly.)"""

    def __str__(self) -> str:
        return ""


_NULL = _Null()


def _plain(value):
    # Decimals and other values as their text (quoted); ints stay numbers; None is NULL.
    if value is None:
        return _NULL
    if isinstance(value, int):
        return value
    return str(value)
