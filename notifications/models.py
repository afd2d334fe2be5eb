"""Subscriptions, followed tenders and the cabinet inbox (the mail outbox is core/mail.py,
the domain events core/events.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.extensions import db
from core.types import ExactDecimal, UTCDateTime

FREQUENCIES = ("instant", "daily")
EMAIL_MODES = ("none", "instant", "digest")


class Subscription(db.Model):
    """What a user wants to hear about: facets are ANDed, values within a facet ORed; an
    empty facet means "any". At least one of categories, regions, keywords, customers."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # The subscription made from the organization's declared categories (kept in step with it).
    default_for_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    by_email: Mapped[bool] = mapped_column(default=True)
    in_cabinet: Mapped[bool] = mapped_column(default=True)
    frequency: Mapped[str] = mapped_column(String(8), default="instant")
    # Which facets are set: the matching query tests only these (no join for "any").
    has_categories: Mapped[bool] = mapped_column(default=False)
    has_regions: Mapped[bool] = mapped_column(default=False)
    has_keywords: Mapped[bool] = mapped_column(default=False)
    has_customers: Mapped[bool] = mapped_column(default=False)
    price_min: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    price_max: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    categories: Mapped[list[SubscriptionCategory]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriptionCategory.code"
    )
    regions: Mapped[list[SubscriptionRegion]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriptionRegion.region_code"
    )
    keywords: Mapped[list[SubscriptionKeyword]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriptionKeyword.id"
    )
    customers: Mapped[list[SubscriptionCustomer]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriptionCustomer.organization_id"
    )


class SubscriptionCategory(db.Model):
    """A category subtree: tenders carry every ancestor of their codes, so a subtree match is
    an equality on this indexed code."""

    __tablename__ = "subscription_categories"
    __table_args__ = (Index("ix_subscription_categories_code", "code", "subscription_id"),)

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(20), primary_key=True)


class SubscriptionRegion(db.Model):
    """A region of delivery the subscriber serves."""

    __tablename__ = "subscription_regions"
    __table_args__ = (Index("ix_subscription_regions_code", "region_code", "subscription_id"),)

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(String(2), primary_key=True)


class SubscriptionCustomer(db.Model):
    """A customer organization whose tenders the subscriber wants."""

    __tablename__ = "subscription_customers"
    __table_args__ = (Index("ix_subscription_customers_org", "organization_id", "subscription_id"),)

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)


class SubscriptionKeyword(db.Model):
    """A keyword or phrase; it matches a tender whose text holds every one of its terms."""

    __tablename__ = "subscription_keywords"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(200))
    term_count: Mapped[int] = mapped_column(default=0)

    terms: Mapped[list[SubscriptionKeywordTerm]] = relationship(cascade="all, delete-orphan")


class SubscriptionKeywordTerm(db.Model):
    """One normalized term (the full-text stem) of a keyword, indexed for reverse matching."""

    __tablename__ = "subscription_keyword_terms"
    __table_args__ = (Index("ix_subscription_keyword_terms_term", "term", "keyword_id"),)

    keyword_id: Mapped[int] = mapped_column(
        ForeignKey("subscription_keywords.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


class TenderFollow(db.Model):
    """A user follows a tender: its changes, answers, reminders and results reach them."""

    __tablename__ = "tender_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tender_id: Mapped[int] = mapped_column(
        ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Notification(db.Model):
    """Something a user was told: an inbox item (in_inbox) and/or a mail (instant or in the
    daily digest). (user, dedupe_key) is unique, so no alert is ever made twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_inbox", "user_id", "in_inbox", "read_at", "id"),
        Index("ix_notifications_digest", "email_mode", "mail_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    tender_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenders.id", ondelete="CASCADE"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    in_inbox: Mapped[bool] = mapped_column(default=True)
    email_mode: Mapped[str] = mapped_column(String(8), default="none")
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_emails.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
