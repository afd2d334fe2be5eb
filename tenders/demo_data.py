"""Demo data for roles (called by `flask demo load`, issue 20): in ПАО «Северсталь-Демо» a
specialist in charge of two of its tenders and an observer; the buyer stays its
administrator and manager. Idempotent, and tolerant of the users existing already (another
loader may create the specialist): get-or-create by email, roles only added."""

from __future__ import annotations

from sqlalchemy import select

from accounts.demo_data import member, person
from accounts.models import Organization, User
from accounts.service import hash_password
from core.extensions import db
from tenders.models import Tender
from tenders.service import audit

CUSTOMER_INN = "7710123458"  # ПАО «Северсталь-Демо» (demo.py)
MANAGER = "buyer@demo.tenders"
PEOPLE = [
    ("specialist@demo.tenders", "Светлана Специалистова", "specialist"),
    ("observer@demo.tenders", "Олег Наблюдателев", "observer"),
]
# The specialist's tenders: the draft and the published cable tender (with its question).
IN_CHARGE = (
    "Ремонт кровли склада № 3 (черновик)",
    "Поставка кабельной продукции для ПС 110 кВ «Северная»",
)


def load_roles(password: str) -> list[tuple[str, str]]:
    """The specialist and the observer of the demo customer, the specialist put in charge of
    its tenders (once); returns the logins to print."""
    org = db.session.execute(
        select(Organization).where(Organization.inn == CUSTOMER_INN)
    ).scalar_one_or_none()
    manager = db.session.execute(select(User).where(User.email == MANAGER)).scalar_one_or_none()
    if org is None or manager is None:
        return []
    logins = []
    people = {}
    for email, name, role in PEOPLE:
        people[role] = person(email, name, hash_password(password))
        member(people[role], org, [role])
        logins.append((email, f"{role} of {org.name}"))
    specialist = people["specialist"]
    for tender in db.session.execute(
        select(Tender).where(Tender.customer_id == org.id, Tender.title.in_(IN_CHARGE))
    ).scalars():
        if tender.responsible_id == manager.id:  # once: a later reassignment stays
            tender.responsible_id = specialist.id
            audit(
                tender,
                "tender.responsible_changed",
                manager,
                {"from": manager.id, "to": specialist.id, "demo": True},
            )
    db.session.flush()
    return logins
