"""Demo data for qualified signatures in bidding (called by `flask demo load`): a tender
that requires КЭП and supplier1's bid on it, signed by `openssl cms -sign` with the GOST
engine and the certificate of the demo's TEST certification centre (signatures/demo_data.py)."""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from accounts.models import Organization, User
from core import clock
from core.extensions import db
from signatures import demo_data as signatures_demo
from signatures import testca

TITLE = "Поставка кирпича керамического (только с КЭП)"
SUPPLIER = "supplier1@demo.tenders"
BUYER = "buyer@demo.tenders"


def load_qualified_bid() -> str:
    """supplier1's qualified certificate, the tender requiring КЭП and a bid signed with it
    (idempotent); returns what was done, to print."""
    from bids import service as bids
    from tenders import service as tenders
    from tenders.models import Tender

    folder = signatures_demo.load_centre()
    if folder is None:
        return "Qualified signatures: skipped (openssl has no GOST engine: libengine-gost-openssl)."
    done = f"supplier1 bid with a qualified GOST signature (TEST centre, its key in {folder})."
    if db.session.execute(select(Tender.id).where(Tender.title == TITLE)).first():
        return done
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    supplier, buyer = users[SUPPLIER], users[BUYER]
    org = _org_of(supplier, supplier=True)
    customer = _org_of(buyer, supplier=False)
    key = signatures_demo.load_certificate(supplier, folder)
    tender = tenders.create_draft(buyer, customer, _tender_data())
    tenders.publish(buyer, customer, tender.id)
    offer = {
        "lines": [
            {"position": "1", "unit_price": Decimal("31.40"), "note": ""},
            {"position": "2", "unit_price": Decimal("44.90"), "note": "поддоны возвратные"},
        ],
        "criteria": [],
    }
    prepared = bids.prepare(supplier, org, tender.id, offer)
    with tempfile.TemporaryDirectory(prefix="demo-gost-sign-") as tmp:
        message = Path(tmp) / "bid.json"
        message.write_bytes(base64.b64decode(prepared["canonical_b64"]))
        der = testca.sign_cms(
            message, folder / "le256.pem", folder / "le256.key.pem", Path(tmp) / "bid.json.p7s"
        )
    bids.submit(supplier, org, tender.id, offer, key.id, base64.b64encode(der).decode())
    return done


def _org_of(user: User, *, supplier: bool) -> Organization:
    return next(
        m.organization
        for m in user.memberships
        if (m.organization.is_supplier if supplier else m.organization.is_customer)
    )


def _tender_data() -> dict:
    now = clock.now()
    return {
        "title": TITLE,
        "description": "Заявки принимаются только с квалифицированной электронной подписью "
        "(ГОСТ Р 34.10-2012) сертификатом, выданным на участника: ИНН и ОГРН в сертификате "
        "должны совпадать с данными организации. В демо доверенным считается ТЕСТОВЫЙ УЦ.",
        "region_code": "77",
        "categories": ["23.3"],
        "qualified_signature_required": True,
        "bid_deadline": now + dt.timedelta(days=5),
        "questions_until": now + dt.timedelta(days=4),
        "lots": [
            {
                "title": "Кирпич",
                "award_mode": "per_position",
                "price_weight": Decimal(100),
                "positions": [
                    _position(1, "Кирпич керамический полнотелый М150", 20000, "32.00"),
                    _position(2, "Кирпич облицовочный пустотелый М175", 12000, "46.00"),
                ],
                "criteria": [],
            }
        ],
    }


def _position(number: int, name: str, quantity: int, price: str) -> dict:
    return {
        "number": str(number),
        "name": name,
        "quantity": Decimal(quantity),
        "unit_code": "796",
        "max_unit_price": Decimal(price),
        "category_code": "23.32",
        "specification": "ГОСТ 530-2012",
        "delivery_place": "г. Москва, склад заказчика",
        "delivery_date": None,
    }
