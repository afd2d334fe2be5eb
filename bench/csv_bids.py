"""Benchmark: CSV bids of 10,000 and 50,000 positions.

1. Parse + validate (bids.csv_bids.parse_bid) of a filled template as Russian Excel saves it
   (windows-1251, ";", decimal comma; names with quotes and ";" inside), against a baseline
   measured on the same bytes in the same run: decode + plain csv.reader + Decimal of the
   price column. Runs are interleaved and the best of --repeat is kept for both, so that
   other load on the machine hits them alike. Peak memory of one parse with tracemalloc.
2. Storing the revision on PostgreSQL through the real services: a throwaway database
   (migrations through the app), a published tender with N positions, a supplier with an
   ECDSA P-256 key; upload (bids.csv_service.upload: parse, check, keep) -> prepare -> sign
   -> submit (bids.service.submit: validation, signature, tender lock, revision, N bulk-
   inserted lines, audit) + commit, each timed. Peak memory of the submit with tracemalloc
   (a separate run: tracemalloc slows Python down several times).
3. The same file through a real web process, as production runs it (serve.py with eventlet,
   psycopg2 made green): HTTP upload -> preview -> prepare -> sign -> submit, each timed at
   the client, against the raw PostgreSQL COPY of the same lines measured in the same run.

    .venv/bin/python bench/csv_bids.py [--sizes 10000 50000] [--repeat 5] [--no-db] [--keep]

Targets (issue 6): parse + validate of 50,000 rows <= 0.5 s and <= 5x the baseline;
storage <= 3 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import io
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bids.csv_bids import (  # noqa: E402
    CurrentLine,
    SheetPosition,
    TenderSheet,
    parse_bid,
    template,
)

DB_NAME = "tenders_bench_csv_bids"


# -- the file ---------------------------------------------------------------------------------


def name(i: int) -> str:
    return f'Подшипник шариковый {6000 + i % 400}-2RS "SKF"; партия {i}, ГОСТ 8338-75'


def sheet_of(n: int, number: str = "T-2026-000001") -> TenderSheet:
    positions = tuple(
        SheetPosition(
            str(i),
            1 + (i - 1) // 10_000,
            name(i),
            "шт",
            Decimal(10 + i % 90) if i % 7 else Decimal(f"{i % 50}.125"),
            Decimal("5000.00"),
        )
        for i in range(1, n + 1)
    )
    lots = {p.lot: "per_position" for p in positions}
    return TenderSheet(number, positions, lots)


def filled_file(sheet: TenderSheet) -> bytes:
    """The template with a price in every row, as Excel in a Russian locale saves it."""
    prices = {
        p.number: CurrentLine(
            Decimal(f"{100 + int(p.number) % 900}.{int(p.number) % 100:02d}"), Decimal(0)
        )
        for p in sheet.positions
    }
    return template(sheet, "unit", current=prices, encoding="cp1251", delimiter=";")


def baseline(data: bytes) -> int:
    """What any CSV reader must do at least: decode, split, one Decimal per row."""
    text = data.decode("cp1251")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(rows)
    price = header.index("Цена за единицу")
    count = 0
    for row in rows:
        Decimal(row[price].replace(",", "."))
        count += 1
    return count


def parse_section(sizes: list[int], repeat: int) -> None:
    print("parse + validate (windows-1251, ';', decimal comma), best of", repeat)
    for n in sizes:
        sheet = sheet_of(n)
        data = filled_file(sheet)
        parse_times, base_times = [], []
        for _ in range(repeat):
            gc.collect()
            start = time.perf_counter()
            baseline(data)
            base_times.append(time.perf_counter() - start)
            gc.collect()
            start = time.perf_counter()
            parsed = parse_bid(data, sheet)
            parse_times.append(time.perf_counter() - start)
            assert not parsed.problems and len(parsed.lines) == n, parsed.problems[:3]
        tracemalloc.start()
        parse_bid(data, sheet)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        best, base = min(parse_times), min(base_times)
        print(
            f"  {n:6d} rows ({len(data) / 1048576:4.1f} MB): parse+validate {best:6.3f} s "
            f"(median {sorted(parse_times)[len(parse_times) // 2]:6.3f})  baseline {base:6.3f} s  "
            f"ratio {best / base:4.1f}x  peak memory {peak / 1048576:6.1f} MB"
        )


# -- storage on PostgreSQL --------------------------------------------------------------------


def make_tender(app, customer, n: int) -> tuple[int, str]:
    """A published tender with one lot per 10,000 positions (through the tenders service)."""
    from accounts.models import Organization, User
    from core.extensions import db
    from core.transaction import commit
    from tenders import service as tenders

    sheet = sheet_of(n)
    lots: dict[int, list[dict]] = {}
    for p in sheet.positions:
        lots.setdefault(p.lot, []).append(
            {
                "number": p.number,
                "name": p.name,
                "quantity": p.quantity,
                "unit_code": "796",
                "max_unit_price": p.max_unit_price,
            }
        )
    with app.test_request_context():
        user, org = (
            db.session.get(User, customer.user_id),
            db.session.get(Organization, customer.org_id),
        )
        tender = tenders.create_draft(
            user,
            org,
            {
                "title": f"Подшипники: {n} позиций (нагрузочный тест CSV)",
                "description": "Попозиционная закупка, цены CSV-файлом.",
                "region_code": "78",
                "categories": ["28.15"],
                "bid_deadline": dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
                "lots": [
                    {"title": f"Лот {lot}", "award_mode": "per_position", "positions": items}
                    for lot, items in sorted(lots.items())
                ],
            },
        )
        tenders.publish(user, org, tender.id)
        commit()
        return tender.id, tender.number


def store_once(app, supplier, tender_id: int, data: bytes, trace: bool = False) -> dict:
    from bidding_contention import sign

    from accounts.models import Organization, User
    from bids import csv_service
    from core.extensions import db
    from core.transaction import commit

    times: dict[str, float] = {}
    with app.test_request_context():
        user = db.session.get(User, supplier.user_id)
        org = db.session.get(Organization, supplier.org_id)
        start = time.perf_counter()
        kept = csv_service.upload(user, org, tender_id, data, filename="bench.csv")
        commit()
        times["upload (parse, check, keep)"] = time.perf_counter() - start
        upload_id = kept.id
    with app.test_request_context():
        user = db.session.get(User, supplier.user_id)
        org = db.session.get(Organization, supplier.org_id)
        start = time.perf_counter()
        prepared = csv_service.prepare(user, org, tender_id, upload_id)
        times["prepare (validate, payload)"] = time.perf_counter() - start
        start = time.perf_counter()
        signature = sign(supplier.private_key, prepared["payload"])
        times["sign (client side)"] = time.perf_counter() - start
    with app.test_request_context():
        user = db.session.get(User, supplier.user_id)
        org = db.session.get(Organization, supplier.org_id)
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        revision = csv_service.submit(user, org, tender_id, upload_id, supplier.key_id, signature)
        commit()
        times["submit + commit (storage)"] = time.perf_counter() - start
        if trace:
            times["peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        times["revision"] = revision.number
    return times


def insert_baselines(app, tender_id: int) -> tuple[float, float]:
    """Inserting the lines of the latest revision once more, rolled back: the way
    bids.service stores them (SQLAlchemy executemany) and with COPY, for comparison."""
    import io as _io

    from sqlalchemy import func, select

    from bids.models import BidLine, BidRevision
    from core.extensions import db

    with app.app_context():
        revision_id = db.session.execute(select(func.max(BidRevision.id))).scalar_one()
        rows = [
            {
                "revision_id": revision_id,
                "position_id": r.position_id,
                "position_number": r.position_number,
                "unit_price": r.unit_price,
                "total": r.total,
                "note": r.note,
            }
            for r in db.session.execute(
                select(BidLine).where(BidLine.revision_id == revision_id)
            ).scalars()
        ]
        db.session.rollback()
        start = time.perf_counter()
        db.session.execute(BidLine.__table__.insert(), rows)
        db.session.flush()
        orm = time.perf_counter() - start
        db.session.rollback()
        buffer = _io.StringIO()
        for r in rows:
            note = r["note"].replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
            buffer.write(
                f"{r['revision_id']}\t{r['position_id']}\t{r['position_number']}\t"
                f"{r['unit_price']}\t{r['total']}\t{note}\n"
            )
        connection = db.session.connection().connection.dbapi_connection
        start = time.perf_counter()
        with connection.cursor() as cursor:
            buffer.seek(0)
            cursor.copy_expert(
                "COPY bid_lines (revision_id, position_id, position_number, unit_price, total,"
                " note) FROM STDIN",
                buffer,
            )
        copy = time.perf_counter() - start
        db.session.rollback()
    return orm, copy


def store_through_server(base: str, supplier, tender_id: int, data: bytes) -> dict:
    """The supplier's steps over HTTP against a running web process, each timed."""
    import requests
    from bidding_contention import sign

    api = requests.Session()
    api.headers.update(supplier.headers)
    path = f"{base}/api/v1/tenders/{tender_id}/bid/csv"
    times: dict[str, float] = {}

    def step(name: str, method: str, url: str, **kwargs) -> dict:
        start = time.perf_counter()
        resp = api.request(method, url, timeout=300, **kwargs)
        times[name] = time.perf_counter() - start
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"{name}: {resp.status_code} {resp.text[:500]}")
        return resp.json()

    upload = step(
        "upload (HTTP)",
        "POST",
        path,
        params={"filename": "bench.csv"},
        data=data,
        headers={"Content-Type": "text/csv"},
    )
    step("preview, first page (HTTP)", "GET", f"{path}/{upload['id']}")
    prepared = step("prepare (HTTP)", "POST", f"{path}/{upload['id']}/prepare", json={})
    signature = sign(supplier.private_key, prepared["payload"])
    body = {"key_id": supplier.key_id, "signature": signature}
    times["revision"] = step("submit (HTTP)", "POST", f"{path}/{upload['id']}/submit", json=body)[
        "number"
    ]
    return times


def server_section(app, db_url: str, workdir: str, supplier, runs: list[tuple]) -> None:
    """Each size's file stored through one eventlet web process (a first bid and a revision)."""
    from bidding_contention import Servers, start_servers

    servers = Servers()
    try:
        start_servers(1, db_url, workdir, servers)
        print(f"through a real web process (serve.py, eventlet): {servers.bases[0]}")
        for n, tender_id, data, copy_s in runs:
            first = store_through_server(servers.bases[0], supplier, tender_id, data)
            again = store_through_server(servers.bases[0], supplier, tender_id, data)
            print(f"  {n:6d} positions:")
            for name in first:
                if name != "revision":
                    figures = f"first bid {first[name]:6.3f} s   revision 2 {again[name]:6.3f} s"
                    print(f"    {name:30} {figures}")
            submit = first["submit (HTTP)"]
            print(
                f"    submit / raw COPY of the same lines ({copy_s:6.3f} s): "
                f"{submit / copy_s:5.1f}x"
            )
    finally:
        servers.stop()


def storage_section(sizes: list[int], keep: bool) -> None:
    from bidding_contention import (
        create_database,
        database_url,
        dispose,
        drop_database,
        make_people,
        migrated_app,
    )

    workdir = tempfile.mkdtemp(prefix="tenders-bench-csv-")
    admin = create_database(DB_NAME)
    app = None
    try:
        app = migrated_app(database_url(DB_NAME), str(Path(workdir) / "instance"))
        customer = make_people(app, 1, supplier=False, start=1)[0]
        suppliers = make_people(app, 3, supplier=True, start=5000, keys=True)
        print("storing the revision on PostgreSQL through the services")
        runs = []
        for n in sizes:
            start = time.perf_counter()
            tender_id, number = make_tender(app, customer, n)
            setup = time.perf_counter() - start
            data = filled_file(sheet_of(n, number))
            first = store_once(app, suppliers[0], tender_id, data)
            # The same file again: a revision of an existing bid (compared with revision 1).
            again = store_once(app, suppliers[0], tender_id, data)
            traced = store_once(app, suppliers[1], tender_id, data, trace=True)
            print(f"  {n:6d} positions (tender set up in {setup:.1f} s):")
            for step in first:
                if step in ("revision", "peak"):
                    continue
                figures = f"first bid {first[step]:6.3f} s   revision 2 {again[step]:6.3f} s"
                print(f"    {step:30} {figures}")
            print(f"    peak memory of submit (tracemalloc): {traced['peak'] / 1048576:6.1f} MB")
            sqlalchemy_s, copy_s = insert_baselines(app, tender_id)
            print(
                f"    the lines alone, rolled back: SQLAlchemy executemany {sqlalchemy_s:6.3f} s,"
                f" PostgreSQL COPY {copy_s:6.3f} s"
            )
            runs.append((n, tender_id, data, copy_s))
        server_section(app, database_url(DB_NAME), workdir, suppliers[2], runs)
    finally:
        if app is not None:
            dispose(app)
        if keep:
            print(f"kept database {DB_NAME}")
            admin.dispose()
        else:
            drop_database(admin, DB_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-db", action="store_true", help="parse only (no PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    parse_section(args.sizes, args.repeat)
    if not args.no_db:
        storage_section(args.sizes, args.keep)


if __name__ == "__main__":
    main()
