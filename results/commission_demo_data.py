"""Demo data of the commission's decision (called by `flask demo load`): a second manager of
the demo customers (manager2@demo.tenders), the approved decision of the tender with
published results, and a decision in its vote on the tender closed for review."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.demo_data import member, person
from accounts.models import Organization, User
from core import clock
from core.extensions import db
from results import commission
from results.models import Award, AwardOffer, CommissionDecision
from tenders.models import Tender

MANAGER2 = ("manager2@demo.tenders", "Максим Руководов")
REVIEWED = "Поставка офисной мебели (рассмотрение заявок)"


def manager2(password_hash: str, orgs: list[Organization]) -> User:
    """manager2@demo.tenders, a manager of each of these organizations (get or create)."""
    user = person(*MANAGER2, password_hash)
    for org in orgs:
        member(user, org, ["manager"])
    return user


def _ranked(tender: Tender, position: str, place: int) -> int:
    """The participant number at a place of a position's ranking."""
    from bids.models import Bid

    return db.session.execute(
        select(Bid.participant_number)
        .join(AwardOffer, AwardOffer.bid_id == Bid.id)
        .join(Award, Award.id == AwardOffer.award_id)
        .where(
            Award.tender_id == tender.id,
            Award.position_number == position,
            AwardOffer.rank == place,
        )
    ).scalar_one()


def decide_as_ranked(tender: Tender, user: User, org: Organization) -> None:
    """Before a demo publication: the buyer alone is the commission and approves the
    ranking as it stands."""
    commission.set_commission(user, org, tender.id, [user.id], user.id)
    commission.prepare(user, org, tender.id, [])
    commission.vote(user, org, tender.id, "for", "")
    commission.close_vote(user, org, tender.id)


def decide_published(
    tender: Tender, chair: User, org: Organization, member: User, at: dt.datetime
) -> None:
    """Before the demo's publication: the commission (the two managers, chaired by the
    responsible buyer) chooses the second-ranked offer on position 2 and approves."""
    clock.freeze(at)
    commission.set_commission(chair, org, tender.id, [chair.id, member.id], chair.id)
    clock.freeze(at + dt.timedelta(minutes=10))
    commission.prepare(
        chair,
        org,
        tender.id,
        [
            {
                "lot": 1,
                "position": "2",
                "outcome": "choose",
                "participant": _ranked(tender, "2", 2),
                "reason": "Победитель по баллам не подтвердил поставку в срок по письму "
                "№ 118; второй участник подтвердил срок и наличие на складе.",
            }
        ],
    )
    clock.freeze(at + dt.timedelta(hours=1))
    commission.vote(chair, org, tender.id, "for", "")
    clock.freeze(at + dt.timedelta(hours=2))
    commission.vote(member, org, tender.id, "for", "Согласен: срок поставки важнее.")
    clock.freeze(at + dt.timedelta(hours=2, minutes=5))
    commission.close_vote(chair, org, tender.id)


def load(password_hash: str) -> bool:
    """The closed tender under review: its commission (buyer2 in the chair, manager2), a
    prepared decision that chooses the second-ranked offer on position 1, and the chair's
    vote for it; manager2 has not voted yet (idempotent)."""
    tender = db.session.execute(select(Tender).where(Tender.title == REVIEWED)).scalar_one_or_none()
    if tender is None or tender.status != "closed":
        return False
    if db.session.get(CommissionDecision, tender.id) is not None:
        return False
    org = db.session.get(Organization, tender.customer_id)
    chair = db.session.execute(select(User).where(User.email == "buyer2@demo.tenders")).scalar_one()
    member = manager2(password_hash, [org])
    real_now = clock.now()
    try:
        clock.freeze(real_now - dt.timedelta(days=2))
        commission.set_commission(chair, org, tender.id, [chair.id, member.id], chair.id)
        clock.freeze(real_now - dt.timedelta(days=1))
        commission.prepare(
            chair,
            org,
            tender.id,
            [
                {
                    "lot": 1,
                    "position": "1",
                    "outcome": "choose",
                    "participant": _ranked(tender, "1", 2),
                    "reason": "Первое место: столы без сертификата пожарной безопасности "
                    "(п. 3.4 технического задания); второй участник его приложил.",
                }
            ],
        )
        clock.freeze(real_now - dt.timedelta(hours=3))
        commission.vote(chair, org, tender.id, "for", "")
    finally:
        clock.reset()
    return True
