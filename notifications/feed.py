""" "Tenders for me": published tenders matching any of the user's subscriptions (the same
facets as the matcher: ANDed within a subscription, subscriptions ORed), newest first."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import selectinload

from accounts.models import User
from core.extensions import db
from core.transaction import dialect
from notifications import rules, subscriptions
from positions import classifiers
from tenders import search
from tenders.models import Tender


def _keyword(word: str):
    """Tenders whose indexed text holds every word of a keyword (registry's full text)."""
    if dialect() == "postgresql":
        tsq = func.plainto_tsquery(literal_column("'russian'"), word)
        return Tender.id.in_(
            select(search.SEARCH_PG.c.tender_id).where(search.SEARCH_PG.c.document.op("@@")(tsq))
        )
    terms = [subscriptions.stem(w) for w in subscriptions.WORD.findall(word)]
    match = " AND ".join('"' + t.replace('"', "") + '"*' for t in terms if t)
    if not match:
        return false()
    return Tender.id.in_(
        select(search.SEARCH_FTS5.c.rowid).where(
            text("tender_search MATCH :m").bindparams(bindparam("m", match, unique=True))
        )
    )


def _condition(f: dict):
    parts = []
    if f["categories"]:
        parts.append(or_(*[search._in_category(c) for c in f["categories"]]))
    if f["regions"]:
        parts.append(Tender.region_code.in_(f["regions"]))
    if f["customers"]:
        parts.append(Tender.customer_id.in_(f["customers"]))
    if f["keywords"]:
        parts.append(or_(*[_keyword(k) for k in f["keywords"]]))
    if f["price_min"] is not None:
        parts.append(
            or_(Tender.estimated_value.is_(None), Tender.estimated_value >= f["price_min"])
        )
    if f["price_max"] is not None:
        parts.append(
            or_(Tender.estimated_value.is_(None), Tender.estimated_value <= f["price_max"])
        )
    return and_(*parts) if parts else false()


def for_me(user: User, query: dict) -> tuple[list[Tender], int, list[dict]]:
    """One page of the feed, the total, and the facets it used (after the page's changes)."""
    subs = [s for s in subscriptions.user_subscriptions(user) if s.active]
    if query.get("subscription"):
        subs = [s for s in subs if s.id == query["subscription"]]
    facets = rules.adjust_facets(
        [subscriptions.facets_of(s) for s in subs],
        query.get("add_region", []),
        query.get("drop_category", []),
        classifiers.is_within,
    )
    if not facets:
        return [], 0, facets
    where = [
        Tender.status == "published",
        Tender.published_at.is_not(None),
        or_(*[_condition(f) for f in facets]),
    ]
    for code in query.get("drop_category", []):
        where.append(~type_coerce(search._in_category(code), Boolean))
    ids_query = select(Tender.id).where(*where)
    if query.get("q"):
        ids_query, _ = search._text_condition(ids_query, query["q"])
    total = db.session.execute(
        select(func.count()).select_from(ids_query.limit(search.COUNT_CAP + 1).subquery())
    ).scalar_one()
    page_ids = list(
        db.session.execute(
            ids_query.order_by(Tender.published_at.desc(), Tender.id.desc())
            .limit(query.get("per_page", 25))
            .offset((query.get("page", 1) - 1) * query.get("per_page", 25))
        ).scalars()
    )
    rows = {
        t.id: t
        for t in db.session.execute(
            select(Tender)
            .where(Tender.id.in_(page_ids))
            .options(selectinload(Tender.customer), selectinload(Tender.lots))
        ).scalars()
    }
    return [rows[i] for i in page_ids], total, facets
