"""Demo re-bidding rounds (`flask demo load`): a running round on the closed computer
tender (supplier1@demo.tenders is invited and sees the countdown on the notice), and a
finished tender whose published results include a finished round. Idempotent."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from accounts.models import Organization, User
from core import clock
from core.extensions import db
from results.rebidding import schemas, service
from tenders.models import Tender

RUNNING_ON = "Поставка компьютерной техники (переторжка)"
FINISHED = "Поставка кабеля ВВГ (итоги после переторжки)"


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _org(user: User, customer: bool) -> Organization:
    return next(
        m.organization
        for m in user.memberships
        if (m.organization.is_customer if customer else m.organization.is_supplier)
    )


def _announce(tender: Tender, email: str, lots: list[int], hours: float, scope="prices"):
    buyer = _user(email)
    org = db.session.get(Organization, tender.customer_id)
    deadline = clock.now() + dt.timedelta(hours=hours)
    data = schemas.RoundIn().load({"lots": lots, "deadline": deadline.isoformat(), "scope": scope})
    return service.announce(buyer, org, tender.id, data)


def _improve(email: str, tender: Tender, prices: dict[str, str]) -> None:
    """An invitee's signed improved offer (a demo key registered for it)."""
    from signatures import rules
    from signatures import service as signatures

    user = _user(email)
    org = _org(user, customer=False)
    private = rules.load_private_key(rules.generate_platform_key())
    key = signatures.register_key(user, rules.public_pem(private), "Demo key (re-bidding)")
    body = {"lines": [{"position": n, "unit_price": Decimal(p)} for n, p in prices.items()]}
    data = schemas.ImprovedOfferIn().load(
        {"lines": [{"position": n, "unit_price": p} for n, p in prices.items()]}
    )
    prepared = service.prepare(user, org, tender.id, data)
    signature = rules.sign(private, base64.b64decode(prepared["canonical_b64"]))
    service.submit(user, org, tender.id, body, key.id, base64.b64encode(signature).decode())


def load_running() -> bool:
    """A round running for two hours on the closed computer tender (lot 1, everyone), which
    takes prices and criterion values (supplier1 may extend its 12-month warranty)."""
    tender = db.session.execute(
        select(Tender).where(Tender.title == RUNNING_ON)
    ).scalar_one_or_none()
    if tender is None or tender.status != "closed" or service.rounds_of(tender.id):
        return False
    _announce(tender, "buyer2@demo.tenders", [1], hours=2, scope="prices_and_criteria")
    return True


def load_finished() -> bool:
    """A cable tender: closed, a round in which two suppliers lowered prices (one took
    position 1 from the leader), then the results published."""
    from demo import _finished_tender, _lot
    from results import commission_demo_data, publication

    if db.session.execute(select(Tender.id).where(Tender.title == FINISHED)).first():
        return False
    buyer = _user("buyer@demo.tenders")
    customer = _org(buyer, customer=True)
    real_now = clock.now()
    started = real_now - dt.timedelta(days=6)
    try:
        tender = _finished_tender(
            customer,
            buyer,
            {
                "title": FINISHED,
                "description": "Попозиционная закупка, только цена; проведена переторжка.",
                "region_code": "77",
                "categories": ["27.3"],
                "lots": [
                    _lot(
                        "Кабель силовой",
                        "per_position",
                        [
                            (1, "Кабель ВВГнг(А)-LS 3x1.5", 3000, "006", "62.00", "27.32", ""),
                            (2, "Кабель ВВГнг(А)-LS 3x4", 1200, "006", "140.00", "27.32", ""),
                        ],
                    )
                ],
            },
            [
                ("supplier1@demo.tenders", {"1": "55.10", "2": "128.00"}, None),
                ("supplier2@demo.tenders", {"1": "56.40", "2": "125.50"}, None),
                ("supplier4@demo.tenders", {"1": "58.00"}, None),
            ],
            started,
        )
        clock.freeze(started + dt.timedelta(days=3, hours=2))
        round_ = _announce(tender, "buyer@demo.tenders", [1], hours=24)
        clock.freeze(started + dt.timedelta(days=3, hours=20))
        _improve("supplier2@demo.tenders", tender, {"1": "54.80", "2": "124.00"})
        clock.freeze(started + dt.timedelta(days=3, hours=23))
        _improve("supplier1@demo.tenders", tender, {"2": "126.00"})
        clock.freeze(round_.deadline + dt.timedelta(seconds=1))
        service.close(round_.id)
        clock.freeze(round_.deadline + dt.timedelta(hours=3))
        commission_demo_data.decide_as_ranked(tender, buyer, customer)
        publication.publish(buyer, customer, tender.id)
    finally:
        clock.reset()
    return True


def load() -> int:
    """Both demo rounds; how many were created."""
    return int(load_finished()) + int(load_running())


def load_command() -> None:
    """`flask demo load`'s step: load, commit, say what was made."""
    import click

    from core.transaction import commit

    if load():
        commit()
        click.echo(
            "Re-bidding: a round runs on the computer tender (supplier1 is invited); "
            "one cable tender has results after a finished round."
        )
