"""The demo's people (`flask demo load`): every package's demo loader gets or creates its
users and memberships here, so a person two loaders name is made once and only gains roles."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Membership, Organization, User
from audit.service import record
from core import clock
from core.extensions import db


def person(
    email: str, name: str, password_hash: str, *, locale: str = "ru", operator: bool = False
) -> User:
    """The demo user with this email, created (confirmed, audited) if missing."""
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(
            email=email,
            name=name,
            password_hash=password_hash,
            email_confirmed_at=clock.now(),
            is_operator=operator,
            locale=locale,
        )
        db.session.add(user)
        db.session.flush()
        record("user.registered", "user", user.id, {"email": email, "demo": True})
    return user


def member(user: User, org: Organization, roles) -> Membership:
    """The user's membership in the organization with at least these roles (joined and
    audited if new; roles only ever added)."""
    m = db.session.execute(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organization_id == org.id
        )
    ).scalar_one_or_none()
    if m is None:
        m = Membership(user_id=user.id, organization_id=org.id, roles=sorted(set(roles)))
        db.session.add(m)
        record(
            "organization.member_joined",
            "organization",
            org.id,
            {"user_id": user.id, "email": user.email, "roles": m.roles, "demo": True},
            actor_user_id=user.id,
            actor_org_id=org.id,
        )
    elif not set(roles) <= set(m.roles):
        m.roles = sorted({*m.roles, *roles})
    db.session.flush()
    return m
