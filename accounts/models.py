"""Organizations, users, memberships, invitations, API tokens, login throttling."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.rules import PROFILE_FIELDS, may
from core import clock
from core.extensions import db
from core.types import CodeList, UTCDateTime

ACCREDITATION_STATUSES = ("pending", "accredited", "rejected", "blocked")
CHANGE_STATUSES = ("pending", "accepted", "rejected", "withdrawn")
TOKEN_SCOPES = ("organization", "operator")


class Organization(db.Model):
    """A legal entity or individual entrepreneur, identified by its INN."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str] = mapped_column(String(12), unique=True)
    kpp: Mapped[str | None] = mapped_column(String(9))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    region_code: Mapped[str] = mapped_column(String(2))
    is_sme: Mapped[bool] = mapped_column(default=False)
    is_customer: Mapped[bool] = mapped_column(default=False)
    is_supplier: Mapped[bool] = mapped_column(default=False)
    accreditation_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    accreditation_reason: Mapped[str | None] = mapped_column(Text)
    accreditation_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # OKPD2 codes a supplier declares it works in: its users' default subscription.
    declared_categories: Mapped[list[str]] = mapped_column(CodeList(), default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")
    # The change request awaiting the operator, if any (at most one: see accounts.service).
    pending_change: Mapped[OrganizationChange | None] = relationship(
        primaryjoin="and_(OrganizationChange.organization_id == Organization.id, "
        "OrganizationChange.status == 'pending')",
        viewonly=True,
        uselist=False,
    )

    @property
    def is_accredited(self) -> bool:
        return self.accreditation_status == "accredited"

    @property
    def roles(self) -> list[str]:
        return [
            r for r, on in (("customer", self.is_customer), ("supplier", self.is_supplier)) if on
        ]


class OrganizationChange(db.Model):
    """Changes to a verified organization's profile awaiting the operator; the old profile
    stays in force until the operator accepts them."""

    __tablename__ = "organization_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # field -> requested value, and field -> value in force when last requested (the diff).
    changes: Mapped[dict] = mapped_column(JSON)
    previous: Mapped[dict] = mapped_column(JSON)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])

    @property
    def diff(self) -> list[dict]:
        """[{field, old, new}] in the profile's order, for the operator and the admins."""
        return [
            {"field": f, "old": self.previous.get(f), "new": self.changes[f]}
            for f in PROFILE_FIELDS
            if f in self.changes
        ]


class User(UserMixin, db.Model):
    """A person who logs in; acts on behalf of one of its organizations at a time."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    is_operator: Mapped[bool] = mapped_column(default=False)
    disabled: Mapped[bool] = mapped_column(default=False)
    # Changes when the password changes: invalidates sessions and reset links.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Opt-in to alert mail not asked for one by one (default subscription); None = no consent.
    marketing_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The interface and mail language ("ru", "en"); None: the platform's default (core/i18n.py).
    locale: Mapped[str | None] = mapped_column(String(8))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.disabled

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Membership(db.Model):
    """A user's place in an organization."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # accounts.rules.MEMBER_ROLES, one or several
    roles: Mapped[list[str]] = mapped_column(CodeList(), default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")

    def may(self, right: str) -> bool:
        """Whether this member has the right (accounts.rules.RIGHTS)."""
        return may(self.roles, right)


class Invitation(db.Model):
    """An organization admin's invitation of an email address."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    roles: Mapped[list[str]] = mapped_column(CodeList(), default=list)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()


class ApiToken(db.Model):
    """An integrator's bearer token: shown once, stored as a SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # "organization": acts for the user in organization_id; "operator": acts as the platform
    # operator (no organization) while the user keeps the operator flag.
    scope: Mapped[str] = mapped_column(String(16), default="organization")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    organization: Mapped[Organization | None] = relationship()


class LoginThrottle(db.Model):
    """Failed logins per account and per client address, for backoff."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "account" or "address"
    key: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
