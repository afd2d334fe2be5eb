"""Benchmark: the price history and the customer dashboard on PostgreSQL.

Builds a throwaway database with
- a tender whose position 1 has 5,000 revisions (10 bidders x 500 revisions of a 10-position
  lot) and a tender with a 2,000-position itemized lot (10 bidders x 10 revisions, 200,000
  lines): the price history of a position and of the whole lot (derived from the stored
  revisions, reports.price_history.history);
- one customer with 100,000 tenders over a year (each a lot of two positions, three bids,
  results for most): its dashboard (reports.dashboard.dashboard).

Prints p50/p95 next to a primary-key lookup measured in the same run.

    .venv/bin/python bench/charts.py [--tenders 100000] [--repeat 20]
        [--keep | --measure-only] [--name DB]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402
from support import (  # noqa: E402
    create_database,
    database_url,
    dispose,
    drop_database,
    migrated_app,
    percentile,
)

DB_NAME = "charts_bench"
T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
CHUNK = 20_000


def _insert(conn, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(insert(table), rows[i : i + CHUNK])


def _ids(conn, table, where=None) -> list[int]:
    query = select(table.c.id).order_by(table.c.id)
    if where is not None:
        query = query.where(where)
    return list(conn.execute(query).scalars())


def build_people(conn, t, suppliers: int) -> dict:
    _insert(
        conn,
        t["organizations"],
        [
            {
                "name": f"Org {i}",
                "inn": f"{7700000000 + i}",
                "region_code": "77",
                "is_customer": i == 0,
                "is_supplier": i > 0,
                "is_sme": i % 3 == 0,
                "accreditation_status": "accredited",
            }
            for i in range(suppliers + 1)
        ],
    )
    orgs = _ids(conn, t["organizations"])
    _insert(conn, t["users"], [{"email": "bench@x.ru", "name": "B", "password_hash": "x"}])
    user = _ids(conn, t["users"])[0]
    _insert(
        conn,
        t["signing_keys"],
        [
            {
                "user_id": user,
                "label": "k",
                "algorithm": "ecdsa",
                "spki_pem": "x",
                "fingerprint": "f",
            }
        ],
    )
    return {"customer": orgs[0], "suppliers": orgs[1:], "user": user, "key": 1}


def _tender(conn, t, people, number: str, published: dt.datetime, **extra) -> int:
    row = {
        "number": number,
        "title": f"Bench {number}",
        "customer_id": people["customer"],
        "created_by_id": people["user"],
        "region_code": "77",
        "status": "published",
        "published_at": published,
        "bid_deadline": published + dt.timedelta(days=10),
        "original_deadline": published + dt.timedelta(days=10),
        "created_at": published,
        "updated_at": published,
        **extra,
    }
    return conn.execute(insert(t["tenders"]).returning(t["tenders"].c.id), row).scalar_one()


def build_history(
    conn, t, people, positions: int, revisions: int, number: str, changed: int
) -> int:
    """A tender with one itemized lot of `positions`; each of the 10 bidders revises
    `revisions` times, every revision pricing every position and moving `changed` of
    their prices (a price war moves a few; a CSV upload may move them all)."""
    tender = _tender(conn, t, people, number, T0)
    lot = conn.execute(
        insert(t["lots"]).returning(t["lots"].c.id),
        {"tender_id": tender, "number": 1, "title": "Lot", "award_mode": "per_position"},
    ).scalar_one()
    _insert(
        conn,
        t["positions"],
        [
            {
                "tender_id": tender,
                "lot_id": lot,
                "number": str(i),
                "sort_key": f"{i:08d}",
                "name": f"Item {i}",
                "quantity": Decimal(10),
                "unit_code": "796",
            }
            for i in range(1, positions + 1)
        ],
    )
    pids = _ids(conn, t["positions"], t["positions"].c.lot_id == lot)
    rnd = random.Random(number)
    bidders = people["suppliers"][:10]
    _insert(
        conn,
        t["bids"],
        [
            {
                "tender_id": tender,
                "organization_id": org,
                "participant_number": n,
                "responsible_id": people["user"],
                "revision_count": revisions,
                "first_bid_at": T0,
            }
            for n, org in enumerate(bidders, 1)
        ],
    )
    bids = _ids(conn, t["bids"], t["bids"].c.tender_id == tender)
    moment = T0
    offers: dict[int, dict[int, Decimal]] = {}
    for r in range(1, revisions + 1):
        revs = []
        for bid in bids:
            moment += dt.timedelta(seconds=7)
            revs.append(
                {
                    "bid_id": bid,
                    "number": r,
                    "accepted_at": moment,
                    "submitted_by_id": people["user"],
                    "signing_key_id": people["key"],
                    "signature": "s",
                    "payload_hash": f"{number}-{bid}-{r}",
                    "receipt_signature": "r",
                    "triggering": True,
                    "deadline_before": T0 + dt.timedelta(days=10),
                    "deadline_after": T0 + dt.timedelta(days=10),
                    "total": Decimal(0),
                }
            )
        ids = list(
            conn.execute(
                insert(t["bid_revisions"]).returning(t["bid_revisions"].c.id), revs
            ).scalars()
        )
        lines = []
        for k, rev in enumerate(ids):
            offer = offers.setdefault(k, {})
            moved = set(rnd.sample(range(len(pids)), min(changed, len(pids))))
            for i, pid in enumerate(pids, 1):
                if i - 1 in moved or i not in offer:
                    offer[i] = Decimal(rnd.randint(9000, 12000)) / 100
                price = offer[i]
                lines.append(
                    {
                        "revision_id": rev,
                        "position_id": pid,
                        "position_number": str(i),
                        "unit_price": price,
                        "total": price * 10,
                    }
                )
        _insert(conn, t["bid_lines"], lines)
    return tender


def build_dashboard(conn, t, people, tenders: int) -> None:
    """`tenders` tenders of one customer over 2026: a lot of two positions, three bids each
    (one revision), results published for 80 % of them."""
    rnd = random.Random(1)
    statuses = ["results_published"] * 8 + ["closed", "published"]
    batch = 5_000
    for start in range(0, tenders, batch):
        rows = []
        for i in range(start, min(tenders, start + batch)):
            published = T0 + dt.timedelta(minutes=5 * i)
            rows.append(
                {
                    "number": f"D-{i:07d}",
                    "title": f"Dash {i}",
                    "customer_id": people["customer"],
                    "created_by_id": people["user"],
                    "region_code": "77",
                    "status": statuses[i % 10],
                    "published_at": published,
                    "bid_deadline": published + dt.timedelta(days=7),
                    "original_deadline": published + dt.timedelta(days=7),
                    "extensions_count": rnd.choice((0, 0, 1, 2)),
                    "estimated_value": Decimal(20000),
                    "created_at": published,
                    "updated_at": published,
                }
            )
        ids = list(conn.execute(insert(t["tenders"]).returning(t["tenders"].c.id), rows).scalars())
        lots = list(
            conn.execute(
                insert(t["lots"]).returning(t["lots"].c.id, t["lots"].c.tender_id),
                [{"tender_id": tid, "number": 1, "title": "Lot"} for tid in ids],
            ).all()
        )
        positions = []
        for lot, tid in lots:
            for n in (1, 2):
                positions.append(
                    {
                        "tender_id": tid,
                        "lot_id": lot,
                        "number": str(n),
                        "sort_key": f"{n:08d}",
                        "name": "Item",
                        "quantity": Decimal(10),
                        "unit_code": "796",
                        "max_unit_price": Decimal(1000),
                    }
                )
        pids = list(
            conn.execute(
                insert(t["positions"]).returning(
                    t["positions"].c.id, t["positions"].c.tender_id, t["positions"].c.number
                ),
                positions,
            ).all()
        )
        _insert(
            conn,
            t["tender_categories"],
            [
                {"tender_id": tid, "code": code, "path": code}
                for tid in ids
                for code in (rnd.choice(("27.3", "23.5", "28.15", "25.9", "14.12")),)
            ],
        )
        bids = list(
            conn.execute(
                insert(t["bids"]).returning(t["bids"].c.id, t["bids"].c.tender_id),
                [
                    {
                        "tender_id": tid,
                        "organization_id": people["suppliers"][(tid + k) % 30],
                        "participant_number": k + 1,
                        "responsible_id": people["user"],
                        "revision_count": 1,
                        "first_bid_at": T0,
                    }
                    for tid in ids
                    for k in range(3)
                ],
            ).all()
        )
        revs = list(
            conn.execute(
                insert(t["bid_revisions"]).returning(
                    t["bid_revisions"].c.id, t["bid_revisions"].c.bid_id
                ),
                [
                    {
                        "bid_id": bid,
                        "number": 1,
                        "accepted_at": T0,
                        "submitted_by_id": people["user"],
                        "signing_key_id": people["key"],
                        "signature": "s",
                        "payload_hash": f"d-{bid}",
                        "receipt_signature": "r",
                        "triggering": True,
                        "deadline_before": T0,
                        "deadline_after": T0,
                        "total": Decimal(18000),
                    }
                    for bid, _ in bids
                ],
            ).all()
        )
        tender_of_bid = dict(bids)
        by_tender: dict[int, list] = {}
        for pid, tid, n in pids:
            by_tender.setdefault(tid, []).append((pid, n))
        _insert(
            conn,
            t["bid_lines"],
            [
                {
                    "revision_id": rev,
                    "position_id": pid,
                    "position_number": n,
                    "unit_price": Decimal(900),
                    "total": Decimal(9000),
                }
                for rev, bid in revs
                for pid, n in by_tender[tender_of_bid[bid]]
            ],
        )
        _insert(
            conn,
            t["result_sets"],
            [
                {
                    "tender_id": row_id,
                    "participants": 3,
                    "awarded": 2,
                    "reference_total": Decimal(20000),
                    "savings": Decimal(2000),
                    "evaluated_at": T0,
                    "published_at": T0 + dt.timedelta(days=8),
                }
                for row_id, row in zip(ids, rows, strict=True)
                if row["status"] == "results_published"
            ],
        )


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 0.5), percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--measure-only", action="store_true", help="reuse a --keep database")
    parser.add_argument("--name", default=DB_NAME, help="the database's name")
    args = parser.parse_args()
    admin = None if args.measure_only else create_database(args.name)
    url = database_url(args.name).replace("postgresql://", "postgresql+psycopg2://")
    app = migrated_app(url, f"/tmp/{args.name}-instance")
    try:
        from accounts.models import Organization
        from core.extensions import db
        from reports import dashboard, price_history
        from tenders.models import Tender

        t = db.metadata.tables
        with app.app_context():
            if args.measure_only:
                numbers = ("H-5000", "H-2000", "H-2000-all")
                found = dict(
                    db.session.execute(
                        select(Tender.number, Tender.id).where(Tender.number.in_(numbers))
                    ).all()
                )
                revisions, wide, every = (found[n] for n in numbers)
                customer_id = db.session.execute(
                    select(Organization.id).where(Organization.is_customer)
                ).scalar_one()
                people = {"customer": customer_id}
        if not args.measure_only:
            with app.app_context():
                build = time.perf_counter()
                with db.engine.begin() as conn:
                    people = build_people(conn, t, 30)
                    revisions = build_history(conn, t, people, 10, 500, "H-5000", 10)
                    wide = build_history(conn, t, people, 2000, 10, "H-2000", 20)
                    every = build_history(conn, t, people, 2000, 10, "H-2000-all", 2000)
                    build_dashboard(conn, t, people, args.tenders)
                with db.engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
                print(f"built in {time.perf_counter() - build:.0f} s", flush=True)
        with app.test_request_context():
            customer = db.session.get(Organization, people["customer"])

            def pk():
                db.session.execute(select(Tender.number).where(Tender.id == revisions)).one()

            def history(tender_id, lot, position):
                tender = db.session.get(Tender, tender_id)
                sc = price_history.scope(tender, lot, position)
                out = price_history.history(tender, customer, sc)
                db.session.expire_all()
                return out

            cases = [
                ("primary-key lookup (baseline)", pk),
                (
                    "history: position with 5,000 revisions",
                    lambda: history(revisions, None, "1"),
                ),
                ("history: lot of 10 x 5,000 revisions", lambda: history(revisions, 1, None)),
                ("history: a position of a 2,000-position lot", lambda: history(wide, None, "7")),
                (
                    "history: 2,000-position lot, 20 prices move a revision",
                    lambda: history(wide, 1, None),
                ),
                (
                    "history: 2,000-position lot, every price moves",
                    lambda: history(every, 1, None),
                ),
                (
                    f"dashboard: {args.tenders:,} tenders, 2026",
                    lambda: dashboard.dashboard(
                        customer, dt.date(2026, 1, 1), dt.date(2026, 12, 31)
                    ),
                ),
            ]
            sample = history(revisions, None, "1")
            print(
                f"position 1: {len(sample['series'])} lines, "
                f"{len(sample['series'][0]['points'])} best steps"
            )
            data = dashboard.dashboard(customer, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
            print(f"dashboard 2026: {data['tenders']} tenders, {data['participation']}")
            for name, fn in cases:
                p50, p95 = timed(fn, args.repeat)
                print(f"{name:56} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms", flush=True)
    finally:
        dispose(app)
        if admin is not None and not args.keep:
            drop_database(admin, args.name)


if __name__ == "__main__":
    main()
