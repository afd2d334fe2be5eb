"""Demo data for approval chains (called by `flask demo load` after the tenders and bids):
PAO Severstal-Demo publishes with one manager's approval (a specialist prepares, a manager
approves): one draft waits for approval, one was returned with a comment; OOO Metiz-Torg
requires a manager's approval of every bid before it is signed, and its specialist's
offer on the cement tender waits for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.demo_data import member, person
from accounts.models import Organization, User
from approvals import service
from approvals.models import ApprovalSettings
from bids import service as bids
from bids.schemas import OfferIn
from core import clock
from core.extensions import db
from tenders import service as tenders
from tenders.models import Tender
from tenders.schemas import TenderCreate

CUSTOMER_INN = "7710123458"  # ПАО «Северсталь-Демо»
SUPPLIER_INN = "7813123450"  # ООО «Метиз-Торг»
# (email, name, organization INN, roles)
PEOPLE = [
    ("specialist@demo.tenders", "Светлана Специалистова", CUSTOMER_INN, ("specialist",)),
    ("manager@demo.tenders", "Максим Руководов", CUSTOMER_INN, ("manager",)),
    ("specialist2@demo.tenders", "Иван Метизов", SUPPLIER_INN, ("specialist",)),
]


def _draft(user: User, org: Organization, title: str, positions: list[tuple]) -> Tender:
    deadline = clock.now() + dt.timedelta(days=14)
    body = {
        "title": title,
        "description": "Поставка на склад заказчика, г. Череповец. Оплата в течение 30 дней.",
        "region_code": "35",
        "categories": [positions[0][3]],
        "bid_deadline": deadline.isoformat(),
        "questions_until": (deadline - dt.timedelta(days=3)).isoformat(),
        "lots": [
            {
                "title": title,
                "positions": [
                    {
                        "number": str(i),
                        "name": name,
                        "quantity": qty,
                        "unit_code": unit,
                        "category_code": code,
                        "max_unit_price": price,
                    }
                    for i, (name, qty, unit, code, price) in enumerate(positions, 1)
                ],
            }
        ],
    }
    return tenders.create_draft(user, org, TenderCreate().load(body))


def load(password_hash: str) -> list[tuple[str, str]]:
    """The approval demo (idempotent: only once); returns the new logins to print."""
    orgs = {
        o.inn: o
        for o in db.session.execute(
            select(Organization).where(Organization.inn.in_([CUSTOMER_INN, SUPPLIER_INN]))
        ).scalars()
    }
    if len(orgs) < 2:
        return []
    logins = []
    # once: the customer's approval settings are this loader's own (the people may have
    # been made by another loader already)
    fresh = db.session.get(ApprovalSettings, orgs[CUSTOMER_INN].id) is None
    users = {}
    for email, name, inn, roles in PEOPLE:
        user = users[email] = person(email, name, password_hash)
        org = orgs[inn]
        member(user, org, roles)
        logins.append((email, f"{', '.join(roles)} of {org.name}"))
    db.session.flush()
    if not fresh:
        return logins
    customer, supplier = orgs[CUSTOMER_INN], orgs[SUPPLIER_INN]
    founder = next(m.user for m in customer.memberships if m.may("administer"))
    service.save_settings(founder, customer, {"publication": True, "approvers": 1})
    supplier_admin = next(m.user for m in supplier.memberships if m.may("administer"))
    service.save_settings(supplier_admin, supplier, {"bids": True})
    specialist, manager = users["specialist@demo.tenders"], users["manager@demo.tenders"]
    waiting = _draft(
        specialist,
        customer,
        "Поставка подшипников для прокатного стана",
        [
            ("Подшипник 3182124 (NN3024K)", "40", "796", "28.15", "18500.00"),
            ("Подшипник 22322 CC/W33", "24", "796", "28.15", "42100.00"),
        ],
    )
    service.send_tender(
        specialist, customer, waiting.id, "publish", "Прошу согласовать: потребность цеха №2."
    )
    returned = _draft(
        specialist,
        customer,
        "Поставка спецодежды для цеха холодной прокатки",
        [("Костюм сварщика брезентовый", "150", "839", "14.12", "6400.00")],
    )
    req = service.send_tender(specialist, customer, returned.id, "publish", "Черновик готов.")
    service.decide(
        manager,
        customer,
        req.id,
        False,
        "Уточните размеры и добавьте требование о сертификате ТР ТС 019/2011.",
    )
    _bid_request(users["specialist2@demo.tenders"], supplier)
    return logins


def _bid_request(user: User, org: Organization) -> None:
    """The supplier's specialist sends an improved offer on the cement tender for approval."""
    cement = db.session.execute(
        select(Tender).where(Tender.title == "Поставка цемента и сухих смесей")
    ).scalar_one_or_none()
    if cement is None or cement.status != "published":
        return
    offer = OfferIn().load(
        {
            "lines": [
                {"position": "3", "unit_price": "13.50"},
                {"position": "4", "unit_price": "11.20"},
            ]
        }
    )
    manager = next(m.user for m in org.memberships if m.may("approve"))
    bids.reassign(manager, org, cement.id, user.id)  # the specialist prepares it now
    service.send_bid(
        user, org, cement.id, offer, "Снизили цену по согласованию с коммерческим отделом."
    )
