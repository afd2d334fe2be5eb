"""Benchmark: the registry search and the notice page on PostgreSQL.

Builds a throwaway database with 100,000 published tenders (about 5 positions each, plus
one tender with 10,000 positions), then measures quick search (words, number), filtered
search, and the notice page of the 10,000-position tender through the real Flask app.
Prints p50/p95 and, as a baseline measured in the same run, the time of a primary-key
lookup, so figures from a busy shared machine can be compared.

    .venv/bin/python bench/tenders_search.py [--tenders 100000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
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

DB_NAME = "tenders_bench"
WORDS = [
    ("Кабель силовой", "27.32"),
    ("Цемент портландцемент", "23.51"),
    ("Подшипник шариковый", "28.15"),
    ("Трансформатор масляный", "27.11"),
    ("Краска фасадная", "20.30"),
    ("Труба стальная", "24.20"),
    ("Арматура стальная", "24.10"),
    ("Насос центробежный", "28.13"),
    ("Бумага офисная", "17.12"),
    ("Ноутбук", "26.20"),
    ("Ремонт кровли", "43.91"),
    ("Уборка помещений", "81.21"),
    ("Спецодежда летняя", "14.12"),
    ("Молоко питьевое", "10.51"),
    ("Дизельное топливо", "19.20"),
    ("Автомобиль грузовой", "29.10"),
    ("Шины автомобильные", "22.11"),
    ("Клапан запорный", "28.14"),
    ("Светильник светодиодный", "27.40"),
    ("Программное обеспечение", "58.29"),
]
REGIONS = ["77", "78", "50", "66", "16", "54", "23", "02", "24", "61"]
QUICK = [
    "кабель",
    "цемента",
    "подшипники",
    "трансформатор",
    "ремонт кровли",
    "ноутбуки",
    "труба стальная",
    "молоко",
    "топливо",
    "светильник",
    "краски",
    "насосы",
]


def copy_rows(raw, table: str, columns: list[str], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v).replace("\t", " ") for v in row))
        buf.write("\n")
    buf.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def build(app, n: int) -> str:
    from core.extensions import db
    from tenders.service import category_path

    rnd = random.Random(42)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        conn = db.engine.raw_connection()
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO users (email, name, password_hash, is_operator, disabled,"
                " session_version, created_at) VALUES ('b@bench', 'B', 'x', false, false,"
                " 1, now()) RETURNING id"
            )
            user_id = cur.fetchone()[0]
        copy_rows(
            conn,
            "organizations",
            [
                "id",
                "name",
                "inn",
                "region_code",
                "is_sme",
                "is_customer",
                "is_supplier",
                "accreditation_status",
                "declared_categories",
                "created_at",
            ],
            (
                (
                    i,
                    f"Заказчик {i}",
                    f"{7700000000 + i}",
                    REGIONS[i % 10],
                    False,
                    True,
                    False,
                    "accredited",
                    "{}",
                    now,
                )
                for i in range(1, 201)
            ),
        )
        tenders, categories, positions = [], [], []
        pid = 0
        for i in range(1, n + 1):
            word, cat = WORDS[i % len(WORDS)]
            published = now - dt.timedelta(minutes=rnd.randint(1, 60 * 24 * 90))
            deadline = published + dt.timedelta(days=rnd.randint(1, 60))
            count = 10_000 if i == n else rnd.randint(1, 9)
            value = Decimal(0)
            for k in range(1, count + 1):
                pid += 1
                price = Decimal(rnd.randint(100, 900_000)) / 100
                qty = rnd.randint(1, 500)
                value += price * qty
                positions.append(
                    (
                        pid,
                        i,
                        i,
                        str(k),
                        f"{k:06d}",
                        f"{word} тип {k % 37}",
                        "",
                        cat,
                        qty,
                        "796",
                        price,
                        "",
                        None,
                    )
                )
            status = "published" if deadline > now else rnd.choice(["closed", "results_published"])
            tenders.append(
                (
                    i,
                    f"T-2025-{i:06d}",
                    f"{word}: закупка {i}",
                    "Поставка по заявкам.",
                    1 + i % 200,
                    user_id,
                    REGIONS[i % 10],
                    "RUB",
                    "included",
                    i % 7 == 0,
                    status,
                    "Europe/Moscow",
                    published,
                    deadline,
                    deadline,
                    30,
                    30,
                    "from_deadline",
                    0,
                    "open_after_own_bid",
                    value.quantize(Decimal("0.01")),
                    0,
                    now,
                    now,
                    "{" + ",".join(category_path(cat).split("/")) + "}",
                    user_id,
                )
            )
            categories.append((i, i, cat, category_path(cat)))
        copy_rows(
            conn,
            "tenders",
            [
                "id",
                "number",
                "title",
                "description",
                "customer_id",
                "created_by_id",
                "region_code",
                "currency",
                "vat_mode",
                "sme_only",
                "status",
                "timezone",
                "published_at",
                "bid_deadline",
                "original_deadline",
                "extension_window_minutes",
                "extension_minutes",
                "extension_mode",
                "extensions_count",
                "visibility",
                "estimated_value",
                "amendment_count",
                "created_at",
                "updated_at",
                "category_codes",
                "responsible_id",
            ],
            tenders,
        )
        copy_rows(
            conn,
            "lots",
            ["id", "tender_id", "number", "title", "award_mode", "price_weight"],
            ((i, i, 1, "Лот 1", "per_position", 100) for i in range(1, n + 1)),
        )
        copy_rows(conn, "tender_categories", ["id", "tender_id", "code", "path"], categories)
        copy_rows(
            conn,
            "positions",
            [
                "id",
                "tender_id",
                "lot_id",
                "number",
                "sort_key",
                "name",
                "specification",
                "category_code",
                "quantity",
                "unit_code",
                "max_unit_price",
                "delivery_place",
                "delivery_date",
            ],
            positions,
        )
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO tender_search (tender_id, document) SELECT t.id,"
                " setweight(to_tsvector('russian', t.number || ' ' || t.title), 'A') ||"
                " setweight(to_tsvector('english', t.number || ' ' || t.title), 'A') ||"
                " to_tsvector('russian', t.description || ' ' || coalesce(p.names, '')) ||"
                " to_tsvector('english', t.description || ' ' || coalesce(p.names, ''))"
                " FROM tenders t LEFT JOIN (SELECT tender_id, string_agg(DISTINCT name, ' ')"
                " AS names FROM positions GROUP BY tender_id) p ON p.tender_id = t.id"
            )
            for table in ("organizations", "tenders", "lots", "positions"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.driver_connection.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")  # as autovacuum would have: GIN pending list flushed
            cur.execute("CHECKPOINT")  # measure a settled database, not the bulk load's flush
        conn.driver_connection.autocommit = False  # back to normal before the pool reuses it
        conn.close()
    return f"T-2025-{n:06d}"


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:46} p50 {statistics.median(samples):6.1f} ms  p95 "
        f"{percentile(samples, 0.95):6.1f} ms  max {max(samples):6.1f} ms  n={len(samples)}"
    )


def measure(app, big_number: str) -> None:
    from core.extensions import db
    from tenders.search import Filters, search

    rnd = random.Random(7)
    with app.app_context():
        baseline = timed(
            lambda: db.session.execute(
                text("SELECT number FROM tenders WHERE id = :i"), {"i": rnd.randint(1, 90000)}
            ).all(),
            300,
        )
        report("baseline: primary-key lookup", baseline)
        for q in QUICK:  # one warm-up pass: a freshly built database has cold caches
            search(Filters(q=q))
        samples = []
        for q in QUICK * 5:
            samples += timed(lambda q=q: search(Filters(q=q)), 1)
        report("quick search (words, Russian)", samples)
        report(
            "quick search (number)",
            timed(lambda: search(Filters(q=f"T-2025-{rnd.randint(1, 90000):06d}")), 60),
        )
        filtered = []
        for _ in range(60):
            word, cat = rnd.choice(WORDS)
            f = Filters(
                q=rnd.choice(["", word.split()[0].lower()]),
                regions=[rnd.choice(REGIONS)],
                category=rnd.choice([cat[:2], cat, "C"]),
                stage=rnd.choice([None, "bidding"]),
                price_min=Decimal(rnd.randint(0, 100000)),
                sort=rnd.choice(["published_desc", "deadline_asc", "value_desc"]),
            )
            filtered += timed(lambda f=f: search(f), 1)
        report("filtered search (region+category+stage+price)", filtered)
        report("registry first page, no filter", timed(lambda: search(Filters()), 30))
        db.session.remove()
    client = app.test_client()
    resp = client.get(f"/tenders/{big_number}")  # warm the templates
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]  # time pages, not errors
    report(
        "notice page, 10,000 positions (page 1)",
        timed(lambda: client.get(f"/tenders/{big_number}"), 20),
    )
    report(
        "notice page, 10,000 positions (page 100)",
        timed(lambda: client.get(f"/tenders/{big_number}?page=100"), 20),
    )
    report("registry page (HTML) for 'кабель'", timed(lambda: client.get("/tenders?q=кабель"), 20))
    for url in (f"/tenders/{big_number}?page=100", "/tenders?q=кабель"):
        assert client.get(url).status_code == 200, url
    print(
        f"ratio: quick search p95 / baseline p50 = "
        f"{percentile(samples, 0.95) / statistics.median(baseline):.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenders", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    admin = create_database(DB_NAME)
    app = migrated_app(database_url(DB_NAME), "/tmp/tenders-bench")
    start = time.perf_counter()
    big = build(app, args.tenders)
    print(f"built {args.tenders} tenders in {time.perf_counter() - start:.0f} s")
    measure(app, big)
    if not args.keep:
        dispose(app)
        drop_database(admin, DB_NAME)


if __name__ == "__main__":
    main()
