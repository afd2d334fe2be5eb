"""Benchmark: "My bids" of a supplier with 10,000 bids on PostgreSQL (issue 22).

Builds a throwaway database: 10,000 tenders of 200 customers, each with a per-position lot of
three positions and a whole lot of two; the supplier and three of twenty rivals bid on every
one (40,000 bids, 200,000 lines); half the tenders have published results (awards for every
position and whole lot, every offer ranked). Then measures, through the real app, the first
page of `GET /api/v1/bids` (25 rows, default sort), a filtered and sorted page, the HTML page,
and the CSV export of every row, next to a primary-key lookup measured in the same run.

    .venv/bin/python bench/my_bids.py [--tenders 10000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from support import (  # noqa: E402
    create_database,
    database_url,
    dispose,
    drop_database,
    migrated_app,
    percentile,
)

DB_NAME = "mybids_bench"
RIVALS = 20
CUSTOMERS = 200


def copy_rows(raw, table: str, columns: list[str], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v).replace("\t", " ") for v in row))
        buf.write("\n")
    buf.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def _people(app) -> tuple[int, str, list[int], list[int]]:
    """Customers, the supplier (user with a token) and its rivals, through the models."""
    from accounts.models import Membership, Organization, User
    from accounts.service import create_token
    from core.extensions import db

    orgs = []
    for i in range(1, CUSTOMERS + RIVALS + 2):
        supplier = i > CUSTOMERS
        orgs.append(
            Organization(
                name=f"{'Поставщик' if supplier else 'Заказчик'} {i}",
                inn=f"{7700000000 + i}",
                region_code="77",
                is_sme=True,
                is_customer=not supplier,
                is_supplier=supplier,
                accreditation_status="accredited",
            )
        )
    db.session.add_all(orgs)
    db.session.flush()
    users = []
    for org in orgs[CUSTOMERS:]:
        user = User(email=f"u{org.id}@bench", name="U", password_hash="x")
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Membership(user_id=user.id, organization_id=org.id, roles=["administrator", "manager"])
        )
        users.append(user)
    db.session.flush()
    me = users[0]
    _, token = create_token(me, orgs[CUSTOMERS].id, "bench")
    db.session.commit()
    return me.id, token, [o.id for o in orgs[CUSTOMERS:]], [u.id for u in users]


def build(app, n: int) -> str:
    from core.extensions import db

    rnd = random.Random(42)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        _me, token, bidders, users = _people(app)
        conn = db.engine.raw_connection()
        with conn.cursor() as cur:
            for user in users:
                cur.execute(
                    "INSERT INTO signing_keys (user_id, label, algorithm, spki_pem, fingerprint,"
                    " created_at) VALUES (%s, 'k', 'ecdsa-p256', 'x', %s, now())",
                    (user, hashlib.sha256(str(user).encode()).hexdigest()),
                )
            cur.execute("SELECT user_id, id FROM signing_keys")
            keys = dict(cur.fetchall())
        tenders, lots, positions, bids, revisions, lines, awards, offers = ([] for _ in range(8))
        bid_id = revision_id = line_id = award_id = offer_id = 0
        for t in range(1, n + 1):
            published = now - dt.timedelta(days=rnd.randint(1, 120))
            deadline = published + dt.timedelta(days=rnd.randint(3, 150))
            status = "published" if deadline > now else rnd.choice(["closed", "results_published"])
            tenders.append(
                (t, f"T-2025-{t:06d}", f"Закупка {t}", "", 1 + t % CUSTOMERS, users[0], users[0])
                + ("77", "RUB", "included", False, status, "Europe/Moscow", published, deadline)
                + (deadline, 30, 30, "from_deadline", 0, rnd.choice(_MODES), 0, now, now, "{}")
            )
            lots += [(2 * t - 1, t, 1, "Лот 1", "per_position", 100)]
            lots += [(2 * t, t, 2, "Лот 2", "whole_lot", 100)]
            pos = [(5 * t - 4 + k, 2 * t - 1 if k < 3 else 2 * t, str(k + 1)) for k in range(5)]
            positions += [
                (p, t, lot, num, f"{int(num):06d}", f"Позиция {num}", "", None, 10, "796", None)
                + ("", None)
                for p, lot, num in pos
            ]
            who = [bidders[0], *rnd.sample(bidders[1:], 3)]
            made = []
            for number, org in enumerate(who, 1):
                bid_id += 1
                revision_id += 1
                at = published + dt.timedelta(hours=number)
                prices = [Decimal(rnd.randint(1000, 9000)) / 10 for _ in pos]
                total = sum(p * 10 for p in prices)
                user = users[bidders.index(org)]
                bids.append((bid_id, t, org, number, "active", 1, f"h{bid_id}", at, user))
                revisions.append(
                    (revision_id, bid_id, 1, at, user, keys[user], "s", f"{revision_id:064x}")
                    + (None, "r", True, deadline, deadline, total)
                )
                for (p, _lot, num), price in zip(pos, prices, strict=True):
                    line_id += 1
                    lines.append((line_id, revision_id, p, num, price, price * 10, ""))
                made.append((bid_id, prices, at))
            if status == "results_published":
                units = [
                    (2 * t - 1, p, num, "per_position", [k])
                    for k, (p, _l, num) in enumerate(pos[:3])
                ] + [(2 * t, None, None, "whole_lot", [3, 4])]
                for lot_id, position_id, num, mode, idx in units:
                    award_id += 1
                    ranked = sorted(made, key=lambda m, idx=idx: sum(m[1][i] for i in idx))
                    win = ranked[0]
                    price = sum(win[1][i] for i in idx) * (1 if mode == "per_position" else 10)
                    awards.append(
                        (award_id, t, lot_id, position_id, 1 if mode == "per_position" else 2)
                        + (num, f"{lot_id}:{num or ''}", mode, "awarded", win[0], price)
                        + (price * 10, 1, len(ranked))
                    )
                    for rank, (b, prices, at) in enumerate(ranked, 1):
                        offer_id += 1
                        unit = prices[idx[0]] if mode == "per_position" else None
                        offers.append(
                            (offer_id, award_id, b, rank, rank, "valid", unit)
                            + (sum(prices[i] for i in idx) * 10, 1, 1, "{}", at)
                        )
        copy_rows(conn, "tenders", _TENDER_COLUMNS, tenders)
        copy_rows(
            conn, "lots", ["id", "tender_id", "number", "title", "award_mode", "price_weight"], lots
        )
        copy_rows(conn, "positions", _POSITION_COLUMNS, positions)
        copy_rows(conn, "bids", _BID_COLUMNS, bids)
        copy_rows(conn, "bid_revisions", _REVISION_COLUMNS, revisions)
        copy_rows(conn, "bid_lines", _LINE_COLUMNS, lines)
        copy_rows(conn, "awards", _AWARD_COLUMNS, awards)
        copy_rows(conn, "award_offers", _OFFER_COLUMNS, offers)
        with conn.cursor() as cur:
            for table in ("tenders", "lots", "positions", "bids", "bid_revisions", "bid_lines"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.driver_connection.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
            cur.execute("CHECKPOINT")
        conn.driver_connection.autocommit = False
        conn.close()
        print(f"built: {n} tenders, {len(bids)} bids, {len(lines)} lines, {len(offers)} offers")
    return token


_MODES = ("open_after_own_bid", "open_after_own_bid", "rank_only", "sealed")
_TENDER_COLUMNS = [
    "id", "number", "title", "description", "customer_id", "created_by_id", "responsible_id",
    "region_code", "currency", "vat_mode", "sme_only", "status", "timezone", "published_at",
    "bid_deadline", "original_deadline", "extension_window_minutes", "extension_minutes",
    "extension_mode", "extensions_count", "visibility", "amendment_count", "created_at",
    "updated_at", "category_codes",
]  # fmt: skip
_POSITION_COLUMNS = [
    "id", "tender_id", "lot_id", "number", "sort_key", "name", "specification",
    "category_code", "quantity", "unit_code", "max_unit_price", "delivery_place",
    "delivery_date",
]  # fmt: skip
_BID_COLUMNS = [
    "id", "tender_id", "organization_id", "participant_number", "status", "revision_count",
    "last_hash", "first_bid_at", "responsible_id",
]  # fmt: skip
_REVISION_COLUMNS = [
    "id", "bid_id", "number", "accepted_at", "submitted_by_id", "signing_key_id", "signature",
    "payload_hash", "previous_hash", "receipt_signature", "triggering", "deadline_before",
    "deadline_after", "total",
]  # fmt: skip
_LINE_COLUMNS = [
    "id", "revision_id", "position_id", "position_number", "unit_price", "total", "note",
]  # fmt: skip
_AWARD_COLUMNS = [
    "id", "tender_id", "lot_id", "position_id", "lot_number", "position_number", "sort_key",
    "award_mode", "status", "winner_bid_id", "price", "total", "score", "offers_count",
]  # fmt: skip
_OFFER_COLUMNS = [
    "id", "award_id", "bid_id", "sort_order", "rank", "status", "unit_price", "total", "score",
    "price_points", "breakdown", "first_offered_at",
]  # fmt: skip


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:52} p50 {statistics.median(samples):6.1f} ms  p95 "
        f"{percentile(samples, 0.95):6.1f} ms  max {max(samples):6.1f} ms  n={len(samples)}"
    )


def _get(client, url: str, headers: dict, kind: str = "json"):
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
    return resp


def measure(app, token: str) -> None:
    from core.extensions import db

    rnd = random.Random(7)
    api = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    with app.app_context():
        report(
            "baseline: primary-key lookup",
            timed(
                lambda: db.session.execute(
                    text("SELECT number FROM tenders WHERE id = :i"), {"i": rnd.randint(1, 9000)}
                ).all(),
                300,
            ),
        )
        db.session.remove()
    total = _get(client, "/api/v1/bids", api).get_json()["total"]
    for _ in range(5):  # warm-up: a freshly built database has cold caches
        _get(client, "/api/v1/bids", api)
    report(
        f"GET /api/v1/bids first page (25 of {total})",
        timed(lambda: _get(client, "/api/v1/bids", api), 100),
    )
    queries = [
        "?sort=-total", "?stage=results&outcome=won", "?stage=bidding&sort=deadline",
        "?outcome=lost&sort=submitted", "?customer=17", "?deadline_from=2025-01-01&page=40",
    ]  # fmt: skip
    report(
        "GET /api/v1/bids filtered / sorted / page 40",
        [
            s
            for q in queries * 10
            for s in timed(lambda q=q: _get(client, "/api/v1/bids" + q, api), 1)
        ],
    )
    report(
        "GET /api/v1/bids?per_page=100",
        timed(lambda: _get(client, "/api/v1/bids?per_page=100", api), 30),
    )
    with app.test_request_context():
        from accounts.models import Organization, User
        from workspaces import schemas, service

        user = db.session.execute(
            db.select(User).where(User.email == f"u{CUSTOMERS + 1}@bench")
        ).scalar_one()
        org = db.session.get(Organization, CUSTOMERS + 1)
        member = service.supplier_member(user, org)
        query = schemas.BidsQuery().load({})
        select = service.my_bids_select(member)
        report(
            "service.page alone (queries + rows)",
            timed(lambda: service.page(select, query, user, org), 100),
        )
        start = time.perf_counter()
        from workspaces import exports

        data = exports.csv_file(service.every_row(select, query, user, org))
        print(f"CSV export of every row: {(time.perf_counter() - start):.2f} s, {len(data)} bytes")
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenders", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    admin = create_database(DB_NAME)
    app = migrated_app(database_url(DB_NAME), f"/tmp/{DB_NAME}-instance")
    try:
        start = time.perf_counter()
        token = build(app, args.tenders)
        print(f"built in {time.perf_counter() - start:.1f} s")
        measure(app, token)
    finally:
        dispose(app)
        if not args.keep:
            drop_database(admin, DB_NAME)


if __name__ == "__main__":
    main()
