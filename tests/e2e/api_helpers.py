"""Organizations with API tokens, for driving the API in tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accounts.service import create_token
from core import clock
from core.transaction import commit
from tests.factories import make_org, make_user


@dataclass
class Caller:
    org_id: int
    user_id: int
    email: str
    headers: dict


def caller(app, *, customer=True, supplier=False, **org) -> Caller:
    """A committed organization with an admin user and a bearer token."""
    with app.test_request_context():
        o = make_org(is_customer=customer, is_supplier=supplier, **org)
        u = make_user(o)
        _, token = create_token(u, o.id, "test")
        ids = Caller(o.id, u.id, u.email, {"Authorization": f"Bearer {token}"})
        commit()
    return ids


def future(days: int = 10, hours: int = 0) -> str:
    """An ISO moment in the future (aware, UTC)."""
    return (clock.now() + dt.timedelta(days=days, hours=hours)).isoformat()


def draft_body(**overrides) -> dict:
    """A complete, publishable tender."""
    body = {
        "title": "Поставка кабельной продукции для подстанции",
        "description": "Кабель силовой и контрольный, доставка на склад заказчика.",
        "region_code": "66",
        "categories": ["27.3"],
        "bid_deadline": future(10),
        "questions_until": future(7),
        "lots": [
            {
                "title": "Кабель",
                "award_mode": "per_position",
                "price_weight": "70",
                "positions": [
                    {
                        "number": "1",
                        "name": "Кабель ВВГнг-LS 3x2.5",
                        "quantity": "1500",
                        "unit_code": "006",
                        "max_unit_price": "95.50",
                        "category_code": "27.32",
                    },
                    {
                        "number": "2",
                        "name": "Кабель КВВГ 7x1.5",
                        "quantity": "800",
                        "unit_code": "м",
                        "max_unit_price": "120",
                    },
                ],
                "criteria": [
                    {
                        "name": "Гарантия",
                        "kind": "number",
                        "unit": "мес",
                        "weight": "20",
                        "direction": "higher_better",
                        "required": True,
                        "min_value": "12",
                    },
                    {
                        "name": "Отсрочка платежа",
                        "kind": "choice",
                        "weight": "10",
                        "options": [
                            {"label": "нет", "score": "0"},
                            {"label": "30 дней", "score": "1"},
                        ],
                    },
                ],
            },
            {
                "title": "Муфты",
                "award_mode": "whole_lot",
                "positions": [
                    {"number": "3", "name": "Муфта концевая", "quantity": "40", "unit_code": "796"}
                ],
            },
        ],
    }
    body.update(overrides)
    return body
