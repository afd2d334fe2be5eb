"""Which subscriptions a newly published tender matches: one SQL query, never every
subscription loaded into Python.

Candidates come from index lookups on the facets the tender can hit (its categories with
their ancestors, its region, its customer, the stems of its text); each candidate then has
every facet it sets checked (facets are ANDed, an unset facet means "any").
"""

from __future__ import annotations

import json

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql import column, table

from accounts.models import Membership, User
from core.extensions import db
from core.transaction import dialect
from notifications.models import (
    Subscription,
    SubscriptionCategory,
    SubscriptionCustomer,
    SubscriptionKeyword,
    SubscriptionKeywordTerm,
    SubscriptionRegion,
)
from notifications.subscriptions import python_terms
from tenders.models import Tender
from tenders.search import document_text

SEARCH_PG = table("tender_search", column("tender_id"), column("document"))


def tender_terms(tender: Tender) -> Select:
    """The tender's full-text terms as a one-column SELECT (`term`)."""
    if dialect() == "postgresql":
        # The lexemes of the registry's index row: Russian stems, and English ones.
        return select(
            func.unnest(func.tsvector_to_array(SEARCH_PG.c.document)).label("term")
        ).where(SEARCH_PG.c.tender_id == tender.id)
    head, body = document_text(tender)
    terms = json.dumps(python_terms(f"{head}\n{body}"), ensure_ascii=False)
    each = func.json_each(terms).table_valued("value")
    return select(each.c.value.cast(String).label("term"))


def _keyword_hits(tender: Tender) -> Select:
    """Keywords whose every term is in the tender's text (ids)."""
    terms = tender_terms(tender).scalar_subquery()
    found = (
        select(
            SubscriptionKeywordTerm.keyword_id.label("keyword_id"),
            func.count().label("found"),
        )
        .where(SubscriptionKeywordTerm.term.in_(terms))
        .group_by(SubscriptionKeywordTerm.keyword_id)
        .subquery()
    )
    return (
        select(SubscriptionKeyword.id)
        .join(found, found.c.keyword_id == SubscriptionKeyword.id)
        .where(found.c.found == SubscriptionKeyword.term_count)
    )


def _hits(tender: Tender):
    """Per candidate subscription, which facets the tender hits (1/0): index lookups on the
    category codes (the tender's codes with their ancestors), the region, the customer and
    the keyword terms, summed up by subscription."""

    def hit(column, kind: str):
        flags = {k: literal(1 if k == kind else 0) for k in ("c", "r", "u", "k")}
        return select(column.label("sid"), *(v.label(k) for k, v in flags.items()))

    codes = list(tender.category_codes or [])
    parts = union_all(
        hit(SubscriptionCategory.subscription_id, "c").where(SubscriptionCategory.code.in_(codes)),
        hit(SubscriptionRegion.subscription_id, "r").where(
            SubscriptionRegion.region_code == tender.region_code
        ),
        hit(SubscriptionCustomer.subscription_id, "u").where(
            SubscriptionCustomer.organization_id == tender.customer_id
        ),
        hit(SubscriptionKeyword.subscription_id, "k").where(
            SubscriptionKeyword.id.in_(_keyword_hits(tender))
        ),
    ).subquery()
    return (
        select(
            parts.c.sid,
            func.max(parts.c.c).label("c"),
            func.max(parts.c.r).label("r"),
            func.max(parts.c.u).label("u"),
            func.max(parts.c.k).label("k"),
        )
        .group_by(parts.c.sid)
        .subquery()
    )


def matching_subscriptions(tender: Tender) -> Select:
    """SELECT of (subscription id, user id, by_email, in_cabinet, frequency) for every active
    subscription the tender matches, of users who are not the tender's customer. Only the
    subscriptions a facet lookup hit are read; each must be hit on every facet it sets."""
    h = _hits(tender)
    s = Subscription
    conditions = [
        s.active.is_(True),
        or_(s.has_categories.is_(False), h.c.c == 1),
        or_(s.has_regions.is_(False), h.c.r == 1),
        or_(s.has_customers.is_(False), h.c.u == 1),
        or_(s.has_keywords.is_(False), h.c.k == 1),
        User.disabled.is_(False),
        User.email_confirmed_at.is_not(None),  # unconfirmed accounts cannot log in yet
        s.user_id.not_in(
            select(Membership.user_id).where(Membership.organization_id == tender.customer_id)
        ),
    ]
    value = tender.estimated_value
    if value is not None:  # a tender without an estimate is never filtered out by price
        conditions.append(or_(s.price_min.is_(None), s.price_min <= value))
        conditions.append(or_(s.price_max.is_(None), s.price_max >= value))
    return (
        select(
            s.id.label("subscription_id"),
            s.user_id,
            s.by_email,
            s.in_cabinet,
            s.frequency,
        )
        .select_from(h)
        .join(s, s.id == h.c.sid)
        .join(User, User.id == s.user_id)
        .where(and_(*conditions))
    )


def planner_settings() -> None:
    """PostgreSQL: the estimate of this query is high enough to trigger JIT compilation,
    which costs more than the query itself."""
    if dialect() == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        # Parallel workers cost more to start than they save here (and queue up under load).
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def count_matches(tender: Tender) -> int:
    """How many subscriptions match (benchmarks, operators)."""
    planner_settings()
    return db.session.execute(
        select(func.count()).select_from(matching_subscriptions(tender).subquery())
    ).scalar_one()


def matching_users(tender: Tender) -> Select:
    """One row per matched user: whether any matching subscription wants the cabinet, the
    strongest mail mode (2 instant, 1 digest, 0 none) and the subscription that mailed it."""
    m = matching_subscriptions(tender).subquery()
    mail_rank = case(
        (and_(m.c.by_email.is_(True), m.c.frequency == "instant"), 2),
        (m.c.by_email.is_(True), 1),
        else_=0,
    )
    return select(
        m.c.user_id,
        func.max(cast(m.c.in_cabinet, Integer)).label("in_cabinet"),
        func.max(mail_rank).label("mail_rank"),
        func.coalesce(
            func.min(case((m.c.by_email.is_(True), m.c.subscription_id))),
            func.min(m.c.subscription_id),
        ).label("subscription_id"),
    ).group_by(m.c.user_id)
