"""Demo data of the workspaces: supplier1's bids at every stage (an open rank-only tender and
a lost one besides those of the main demo) and the tenders it follows, so that `make run`
shows "My bids" and followed tenders filled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.models import Organization, User
from core import clock
from core.extensions import db
from notifications import subscriptions
from tenders.models import Tender

FOLLOWS = {
    "supplier1@demo.tenders": (
        "Поставка цемента и сухих смесей",
        "Подшипники качения",
        "Поставка кабельной продукции",
        "Поставка электротехнической продукции",
    ),
}
RANK_ONLY = "Поставка металлопроката (видны только место и лучшая цена)"
LOST = "Поставка крепежа (итоги опубликованы)"


def load() -> int:
    """The demo's extra bids and follows (idempotent); returns how many were made."""
    return _bids() + _follows()


def _customer(inn: str, email: str) -> tuple[User, Organization] | None:
    org = db.session.execute(
        select(Organization).where(Organization.inn == inn)
    ).scalar_one_or_none()
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    return (user, org) if org is not None and user is not None else None


def _bids() -> int:
    import demo
    from results import commission_demo_data, publication
    from tenders import service as tenders

    if db.session.execute(select(Tender.id).where(Tender.title == LOST)).first():
        return 0
    buyer = _customer(demo.ORGS[1][1], "buyer2@demo.tenders")
    if buyer is None:
        return 0
    user, org = buyer
    real_now = clock.now()
    steel = [
        (1, "Арматура А500С d12", 18, "168", "68000.00", "24.10", "ГОСТ 34028-2016"),
        (2, "Лист горячекатаный 4 мм", 6, "168", "82000.00", "24.10", ""),
    ]
    open_tender = tenders.create_draft(
        user,
        org,
        {
            "title": RANK_ONLY,
            "description": "Участники видят только своё место и лучшую цену по позиции.",
            "region_code": "66",
            "categories": ["24.1"],
            "visibility": "rank_only",
            "bid_deadline": real_now + dt.timedelta(days=2, hours=3),
            "lots": [demo._lot("Металлопрокат", "per_position", steel)],
        },
    )
    tenders.publish(user, org, open_tender.id)
    demo._demo_bid("supplier4@demo.tenders", open_tender, {"1": "64500", "2": "79900"})
    demo._demo_bid("supplier1@demo.tenders", open_tender, {"1": "65200", "2": "78800"})
    try:
        lost = demo._finished_tender(
            org,
            user,
            {
                "title": LOST,
                "description": "Лот целиком: болты, гайки, шайбы.",
                "region_code": "66",
                "categories": ["25.9"],
                "lots": [
                    demo._lot(
                        "Крепёж",
                        "whole_lot",
                        [
                            (1, "Болт М12x60 оцинк.", 4000, "796", "18.00", "25.94", ""),
                            (2, "Гайка М12 оцинк.", 4000, "796", "4.50", "25.94", ""),
                        ],
                    )
                ],
            },
            [
                ("supplier1@demo.tenders", {"1": "16.80", "2": "4.10"}, None),
                ("supplier4@demo.tenders", {"1": "15.90", "2": "3.95"}, None),
            ],
            real_now - dt.timedelta(days=9),
        )
        clock.freeze(real_now - dt.timedelta(days=5))
        commission_demo_data.decide_as_ranked(lost, user, org)
        publication.publish(user, org, lost.id)
    finally:
        clock.reset()
    db.session.flush()
    return 2


def _follows() -> int:
    made = 0
    for email, titles in FOLLOWS.items():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            continue
        for title in titles:
            tender = db.session.execute(
                select(Tender).where(Tender.title.startswith(title)).limit(1)
            ).scalar_one_or_none()
            if tender is None or tender.published_at is None:
                continue
            if not subscriptions.is_following(user.id, tender.id):
                subscriptions.follow(user, tender.id)
                made += 1
    db.session.flush()
    return made
