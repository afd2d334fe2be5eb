"""Demo data for the charts (called by `flask demo load`): finished tenders whose bidders
start above their final prices and lower them in the last half hour (each change extends
the deadline: the price history shows the steps and the extensions), and a year of
finished tenders of buyer@demo.tenders's organization for its dashboard.

demo.py passes its helpers in (publishing in the past, signed demo bids), so this module
imports nothing from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from accounts.models import Organization, User
from core import clock
from core.extensions import db
from tenders.models import Tender

OPENING_MARKUP = Decimal("1.06")
FINAL_ROUND_BEFORE_DEADLINE = dt.timedelta(minutes=12)


def opening_prices(data: dict, prices: dict[str, str]) -> dict[str, str]:
    """Where a demo bidder starts: 6 % above its final prices, never above a maximum price."""
    caps = {
        str(p["number"]): p.get("max_unit_price") for lot in data["lots"] for p in lot["positions"]
    }
    out = {}
    for number, price in prices.items():
        opening = (Decimal(price) * OPENING_MARKUP).quantize(Decimal("0.01"), ROUND_HALF_UP)
        cap = caps.get(number)
        out[number] = str(min(opening, cap) if cap is not None else opening)
    return out


def final_round(tender: Tender, plans: list, demo_bid: Callable) -> None:
    """Each bidder lowers its offer to its final prices 12 minutes before the deadline of
    the moment: every change falls in the 30-minute window and extends it."""
    for email, prices, criteria in plans:
        db.session.refresh(tender)  # the accept may have moved the deadline in SQL
        clock.freeze(tender.bid_deadline - FINAL_ROUND_BEFORE_DEADLINE)
        demo_bid(email, tender, prices, criteria(tender) if criteria else None)


# -- a year of the demo customer's tenders (the dashboard) -----------------------------------

HISTORY = [
    # (months ago, title, region, categories, lots: [(title, mode, positions)], plans)
    (
        11,
        "Поставка цемента М500 (архив)",
        "77",
        ["23.5"],
        [
            (
                "Цемент",
                "per_position",
                [(1, "Цемент М500 Д0, мешок 50 кг", 400, "796", "520.00", "23.51", "")],
            )
        ],
        [
            ("supplier1@demo.tenders", {"1": "478.00"}),
            ("supplier2@demo.tenders", {"1": "489.00"}),
        ],
    ),
    (
        9,
        "Поставка метизов для ремонта (архив)",
        "78",
        ["25.9"],
        [
            (
                "Метизы",
                "per_position",
                [
                    (1, "Болт М12x60 оцинкованный", 5000, "796", "14.20", "25.94", ""),
                    (2, "Гайка М12 оцинкованная", 5000, "796", "3.10", "25.94", ""),
                ],
            )
        ],
        [
            ("supplier2@demo.tenders", {"1": "12.90", "2": "2.75"}),
            ("supplier4@demo.tenders", {"1": "13.40", "2": "2.60"}),
        ],
    ),
    (
        7,
        "Поставка кабеля контрольного (архив)",
        "77",
        ["27.3"],
        [
            (
                "Кабель",
                "per_position",
                [(1, "Кабель КВВГнг(А)-LS 10x1.5", 3000, "006", "168.00", "27.32", "")],
            )
        ],
        [
            ("supplier3@demo.tenders", {"1": "151.00"}),
            ("supplier1@demo.tenders", {"1": "149.50"}),
            ("supplier4@demo.tenders", {"1": "155.00"}),
        ],
    ),
    (
        5,
        "Поставка подшипников для конвейера (архив)",
        "66",
        ["28.15"],
        [
            (
                "Подшипники",
                "whole_lot",
                [
                    (1, "Подшипник 6205-2RS", 300, "796", "310.00", "28.15", ""),
                    (2, "Подшипник 6308-2Z", 120, "796", "780.00", "28.15", ""),
                ],
            )
        ],
        [
            ("supplier2@demo.tenders", {"1": "286.00", "2": "731.00"}),
            ("supplier4@demo.tenders", {"1": "279.00", "2": "748.00"}),
        ],
    ),
    (
        3,
        "Поставка кабеля силового (архив)",
        "77",
        ["27.3"],
        [
            (
                "Кабель",
                "per_position",
                [(1, "Кабель ВВГнг(А)-LS 4x16", 1200, "006", "640.00", "27.32", "")],
            )
        ],
        [
            ("supplier3@demo.tenders", {"1": "598.00"}),
            ("supplier1@demo.tenders", {"1": "603.00"}),
        ],
    ),
    (
        1,
        "Поставка цемента и сухих смесей (архив)",
        "50",
        ["23.5", "23.6"],
        [
            (
                "Смеси",
                "per_position",
                [
                    (1, "Цемент М400 Д20, мешок 50 кг", 600, "796", "455.00", "23.51", ""),
                    (2, "Смесь штукатурная, мешок 25 кг", 300, "796", "390.00", "23.64", ""),
                ],
            )
        ],
        [
            ("supplier1@demo.tenders", {"1": "431.00", "2": "362.00"}),
            ("supplier4@demo.tenders", {"1": "438.00", "2": "355.00"}),
        ],
    ),
]


def load_history(finished_tender: Callable, make_lot: Callable) -> int:
    """The demo customer's finished tenders of the past year, results published (idempotent):
    finished_tender(customer, buyer, data, plans, started) publishes, bids (with the final
    round above) and closes in the past; make_lot(title, mode, positions) builds a lot."""
    from results import commission_demo_data, publication

    buyer = db.session.execute(
        select(User).where(User.email == "buyer@demo.tenders")
    ).scalar_one_or_none()
    org = db.session.execute(
        select(Organization).where(Organization.inn == "7710123458")
    ).scalar_one_or_none()
    if buyer is None or org is None:
        return 0
    titles = {title for _, title, *_ in HISTORY}
    if db.session.execute(select(Tender.id).where(Tender.title.in_(titles))).first():
        return 0
    real_now = clock.now()
    made = 0
    try:
        for months, title, region, categories, lots, plans in HISTORY:
            started = real_now - dt.timedelta(days=30 * months + 5)
            data = {
                "title": title,
                "description": "Завершённая закупка прошлых месяцев (демо для сводки заказчика).",
                "region_code": region,
                "categories": categories,
                "lots": [make_lot(t, mode, positions) for t, mode, positions in lots],
            }
            tender = finished_tender(
                org, buyer, data, [(email, prices, None) for email, prices in plans], started
            )
            db.session.refresh(tender)
            clock.freeze(tender.bid_deadline + dt.timedelta(days=1))
            commission_demo_data.decide_as_ranked(tender, buyer, org)
            publication.publish(buyer, org, tender.id)
            made += 1
    finally:
        clock.reset()
    return made
