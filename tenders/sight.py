"""Who sees a tender as its customer: its members who see all (accounts.rules.sees), its
responsible person, its author, and those the packages above add (ALSO_IN_CHARGE: the
members of its commission). A module of its own so that tenders.sockets asks the same
question as the services without importing them (tenders.service imports closing, which
imports sockets)."""

from __future__ import annotations

from collections.abc import Callable, Container

from accounts.models import Organization, User
from accounts.service import member_sees
from tenders.models import Tender

# Who else sees a tender as its customer, told by packages above this one: the members of
# its commission (results.commission) judge the offers whatever their roles.
ALSO_IN_CHARGE: list[Callable[[Tender], set[int]]] = []


class _InCharge(Container):
    """Who sees the tender besides those who see all: its responsible person, its author and
    those the packages above add (ALSO_IN_CHARGE). Asked lazily: a member who sees all never
    asks (accounts.rules.sees), and the additions (a query each) only when the first two are
    not the member."""

    def __init__(self, tender: Tender):
        self.tender = tender

    def __contains__(self, user_id) -> bool:
        t = self.tender
        if user_id in (t.responsible_id, t.created_by_id):
            return True
        return any(user_id in also(t) for also in ALSO_IN_CHARGE)


def in_charge(tender: Tender) -> Container:
    """Who is in charge of the tender (`user_id in in_charge(tender)`)."""
    return _InCharge(tender)


def sees_tender(user: User | None, org: Organization | None, tender: Tender) -> bool:
    """Whether this user, acting for org, sees the tender as its customer (a draft, the
    customer's view of the offers and questions)."""
    return (
        org is not None
        and tender.customer_id == org.id
        and member_sees(user, org.id, in_charge(tender))
    )
