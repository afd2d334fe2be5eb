"""Factories for tests: each takes **overrides; numbers are unique and checksum-valid."""

from __future__ import annotations

import datetime as dt
import itertools

from accounts.models import Membership, Organization, User
from accounts.service import hash_password
from core import clock
from core.extensions import db

PASSWORD = "Correct-horse-42"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}
_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def valid_inn10(n: int) -> str:
    """A checksum-valid 10-digit INN derived from n."""
    body = f"77{n:07d}"
    return body + str(sum(int(d) * w for d, w in zip(body, _W10)) % 11 % 10)


def valid_ogrn13(n: int) -> str:
    """A checksum-valid 13-digit OGRN derived from n."""
    body = f"10277{n:07d}"
    return body + str(int(body) % 11 % 10)


def unique_number() -> int:
    """A number not used before in this run (also across processes of one run)."""
    import os

    return (os.getpid() % 1000) * 1000 + next(_seq)


def _hashed(password: str) -> str:
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_org(**overrides) -> Organization:
    n = unique_number()
    values = dict(
        name=f"OOO Test {n}",
        inn=valid_inn10(n),
        kpp="770101001",
        ogrn=valid_ogrn13(n),
        region_code="77",
        is_sme=True,
        is_customer=True,
        is_supplier=True,
        accreditation_status="accredited",
    )
    values.update(overrides)
    org = Organization(**values)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(
    org: Organization | None = None, roles=("administrator", "manager"), **overrides
) -> User:
    n = unique_number()
    password = overrides.pop("password", PASSWORD)
    values = dict(
        email=f"user{n}@example.test",
        name=f"User {n}",
        password_hash=_hashed(password),
        email_confirmed_at=clock.now(),
    )
    values.update(overrides)
    user = User(**values)
    db.session.add(user)
    db.session.flush()
    if org is not None:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, roles=list(roles)))
        db.session.flush()
    return user


def make_supplier(**overrides):
    """An accredited supplier organization, its admin user and a registered ECDSA P-256 key:
    (user, org, key, private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from signatures.service import register_key

    org = make_org(is_customer=False, is_supplier=True, **overrides)
    user = make_user(org)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return user, org, register_key(user, pem, "test"), private


def supplier_with_key(**overrides):
    """make_supplier, committed: (user, org, key, private key)."""
    from core.transaction import commit

    supplier = make_supplier(**overrides)
    commit()
    return supplier


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


def one_position_lots() -> list[dict]:
    """Lots of a tender with one position, number "1", without price caps or criteria."""
    return [
        {
            "title": "Кабель",
            "positions": [{"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"}],
        }
    ]


def published_tender(
    customer=None,
    *,
    deadline: dt.datetime | dt.timedelta | None = None,
    criteria: bool = True,
    commit: bool = True,
    **overrides,
):
    """A tender published through tenders.service (draft_body with overrides), committed.

    customer: (user, org), or None for a new customer organization and its admin.
    deadline: the bid deadline, or how long from now; questions then close at once
    (questions_until=None) unless given. criteria=False drops the lots' criteria and price
    weights. Returns the Tender."""
    from core.transaction import commit as commit_now
    from tenders import service
    from tenders.schemas import TenderCreate

    if customer is None:
        org = make_org(is_customer=True, is_supplier=False)
        customer = (make_user(org), org)
    if deadline is not None:
        if isinstance(deadline, dt.timedelta):
            deadline = clock.now() + deadline
        overrides = {"bid_deadline": deadline.isoformat(), "questions_until": None, **overrides}
    body = draft_body(**overrides)
    if not criteria:
        for lot in body["lots"]:
            lot.pop("criteria", None)
            lot.pop("price_weight", None)
    user, org = customer
    tender = service.create_draft(user, org, TenderCreate().load(body))
    service.publish(user, org, tender.id)
    if commit:
        commit_now()
    return tender


def signed_submit(
    supplier, tender, prices: dict, *, note: str = "", criteria=None, documents=(), commit=True
):
    """Prepare an offer, sign its canonical payload with the supplier's key and submit it
    through bids.service, then commit (as the view does). supplier: make_supplier()'s
    (user, org, key, private key); tender: a Tender or its id; prices: {position: price}.
    Returns the BidRevision."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from bids import schemas, service
    from core.transaction import commit as commit_now

    user, org, key, private = supplier
    tender_id = tender if isinstance(tender, int) else tender.id
    body = {
        "lines": [{"position": n, "unit_price": p, "note": note} for n, p in prices.items()],
        "criteria": criteria or [],
        "documents": list(documents),
    }
    data = schemas.OfferIn().load(body)
    prepared = service.prepare(user, org, tender_id, data)
    message = base64.b64decode(prepared["canonical_b64"])
    signature = base64.b64encode(private.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
    revision = service.submit(user, org, tender_id, data, key.id, signature)
    if commit:
        commit_now()
    return revision


def decided(user: User, org: Organization, tender_id: int) -> None:
    """The commission's decision as ranked, voted for and closed by the customer (the only
    manager: the default commission and its chair), so the results may be published."""
    from results import commission

    commission.prepare(user, org, tender_id, [])
    commission.vote(user, org, tender_id, "for", "")
    commission.close_vote(user, org, tender_id)
