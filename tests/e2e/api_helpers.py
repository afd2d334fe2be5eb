"""Organizations with API tokens, for driving the API in tests."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.service import create_token
from core.transaction import commit
from tests.factories import draft_body, future, make_org, make_user

__all__ = ["Caller", "caller", "draft_body", "future", "published"]


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


def published(app, customer: Caller | None = None, **overrides) -> dict:
    """A tender published in-process by tests.factories.published_tender (same overrides), as
    the API shows it, with its customer (a Caller with a token) under "customer"."""
    from accounts.models import Organization, User
    from core.extensions import db
    from tenders.schemas import TenderOut
    from tests.factories import published_tender

    customer = customer or caller(app)
    with app.test_request_context():
        user = db.session.get(User, customer.user_id)
        org = db.session.get(Organization, customer.org_id)
        tender = published_tender((user, org), **overrides)
        shown = app.json.loads(app.json.dumps(TenderOut().dump(tender)))
    return {**shown, "customer": customer}
