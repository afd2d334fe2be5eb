"""The tender registry's search: one function over PostgreSQL full text (tsvector + GIN,
Russian and English) and SQLite FTS5, plus structured filters, sorting and paging."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import (
    Select,
    String,
    Text,
    and_,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import selectinload

from accounts.models import Organization
from core import clock
from core.extensions import db
from core.transaction import dialect
from positions.models import Position
from tenders.models import Tender

NUMBER = re.compile(r"T-\d{4}-\d{1,6}", re.IGNORECASE)
WORD = re.compile(r"\w+", re.UNICODE)
COUNT_CAP = 10_000
FEW = 3_000  # at most this many matches: filter first, then sort (see _order)
BODY_LIMIT = 200_000  # characters of position names indexed per tender
STAGES = {
    "bidding": ("published",),
    "evaluation": ("closed",),
    "finished": ("results_published", "unsuccessful", "cancelled"),
}
SORTS = ("relevance", "published_desc", "deadline_asc", "value_desc", "value_asc")
# Russian endings cut before a prefix match on SQLite (which has no Russian stemmer).
_RU_ENDINGS = re.compile(
    r"(иями|ями|ами|ией|ией|ого|его|ому|ему|ыми|ими|ая|яя|ое|ее|ые|ие|ой|ей|ий|ый|ом|ем|ам|ям|"
    r"ах|ях|ов|ев|ью|ия|ие|а|я|о|е|ы|и|у|ю|ь)$"
)


@dataclass
class Filters:
    """What the registry can be narrowed by."""

    q: str = ""
    customer: str = ""
    regions: list[str] = field(default_factory=list)
    category: str | None = None
    sme_only: bool | None = None
    statuses: list[str] = field(default_factory=list)
    stage: str | None = None
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    sort: str = "published_desc"
    page: int = 1
    per_page: int = 25


def document_text(tender: Tender) -> tuple[str, str]:
    """(title part, body part) of a tender's searchable text."""
    names = db.session.execute(
        select(Position.name).where(Position.tender_id == tender.id).distinct()
    ).scalars()
    body, size = [], 0
    for name in names:
        if size > BODY_LIMIT:
            break
        body.append(name)
        size += len(name) + 1
    head = f"{tender.number} {tender.title}"
    return head, f"{tender.description}\n" + "\n".join(body)


def index_tender(tender: Tender) -> None:
    """(Re)index a published tender in the caller's transaction."""
    head, body = document_text(tender)
    if dialect() == "postgresql":
        db.session.execute(
            text(
                "INSERT INTO tender_search (tender_id, document) VALUES (:id,"
                " setweight(to_tsvector('russian', :head), 'A') ||"
                " setweight(to_tsvector('english', :head), 'A') ||"
                " to_tsvector('russian', :body) || to_tsvector('english', :body))"
                " ON CONFLICT (tender_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            {"id": tender.id, "head": head, "body": body},
        )
    else:
        db.session.execute(text("DELETE FROM tender_search WHERE rowid = :id"), {"id": tender.id})
        db.session.execute(
            text("INSERT INTO tender_search (rowid, body) VALUES (:id, :body)"),
            {"id": tender.id, "body": f"{head}\n{body}"},
        )


def _fts5_query(q: str) -> str | None:
    terms = []
    for word in WORD.findall(q.lower()):
        stem = _RU_ENDINGS.sub("", word) if len(word) > 4 and re.search("[а-яё]", word) else word
        terms.append('"' + stem.replace('"', "") + '"*')
    return " AND ".join(terms) or None


SEARCH_PG = table("tender_search", column("tender_id"), column("document"))
SEARCH_FTS5 = table("tender_search", column("rowid"), column("body"))


def _text_condition(query: Select, q: str, join: bool = True) -> tuple[Select, object | None]:
    """Join the full-text table (or select from it alone); returns the query and a
    relevance ordering."""
    if dialect() == "postgresql":
        tsq = func.websearch_to_tsquery(literal_column("'russian'"), q).op("||")(
            func.websearch_to_tsquery(literal_column("'english'"), q)
        )
        doc = SEARCH_PG.c.document
        query = (
            query.join(SEARCH_PG, SEARCH_PG.c.tender_id == Tender.id)
            if join
            else query.select_from(SEARCH_PG)
        )
        return query.where(doc.op("@@")(tsq)), func.ts_rank(doc, tsq).desc()
    match = _fts5_query(q)
    if match is None:
        return query, None
    query = (
        query.join(SEARCH_FTS5, SEARCH_FTS5.c.rowid == Tender.id)
        if join
        else query.select_from(SEARCH_FTS5)
    )
    query = query.where(text("tender_search MATCH :match").bindparams(match=match))
    return query, text("bm25(tender_search)")


def _quick(query: Select, q: str) -> tuple[Select, object | None]:
    q = q.strip()
    if not q:
        return query, None
    if NUMBER.fullmatch(q):
        return query.where(Tender.number == q.upper()), None
    if q.isdigit() and len(q) >= 3:
        return query.where(Tender.number.like(f"%{q}")), None
    return _text_condition(query, q)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _filters(query: Select, f: Filters) -> Select:
    conditions = [Tender.published_at.is_not(None)]  # drafts are never public
    if f.customer:
        name = f.customer.strip()
        org = select(Organization.id).where(
            or_(Organization.inn == name, func.lower(Organization.name).contains(name.lower()))
        )
        conditions.append(Tender.customer_id.in_(org))
    if f.regions:
        conditions.append(Tender.region_code.in_(f.regions))
    if f.category:
        conditions.append(_in_category(f.category))
    if f.sme_only is not None:
        conditions.append(Tender.sme_only.is_(f.sme_only))
    statuses = list(f.statuses) + list(STAGES.get(f.stage or "", ()))
    if statuses:
        conditions.append(Tender.status.in_(statuses))
    if f.stage == "bidding":
        conditions.append(Tender.bid_deadline > clock.now())
    conditions += _range(Tender.published_at, f.published_from, f.published_to)
    conditions += _range(Tender.bid_deadline, f.deadline_from, f.deadline_to)
    if f.price_min is not None:
        conditions.append(Tender.estimated_value >= f.price_min)
    if f.price_max is not None:
        conditions.append(Tender.estimated_value <= f.price_max)
    return query.where(and_(*conditions))


def _in_category(code: str):
    """The tender has a category in the subtree of `code` (codes carry their ancestors)."""
    if dialect() == "postgresql":
        wanted = cast(postgresql.array([code]), postgresql.ARRAY(String(20)))
        return type_coerce(Tender.category_codes, postgresql.ARRAY(String(20))).op("@>")(wanted)
    return type_coerce(Tender.category_codes, Text()).like(f"% {code} %")


def _range(column, start: dt.date | None, end: dt.date | None) -> list:
    out = []
    if start:
        out.append(column >= _day_start(start))
    if end:
        out.append(column < _day_start(end + dt.timedelta(days=1)))
    return out


def _order(query: Select, sort: str, relevance, few: bool) -> Select:
    """Sort the page. With few matches, sort keys are wrapped so the database filters first
    and sorts the handful of rows, instead of walking a sort index hoping to meet matches."""

    def key(column):
        return func.coalesce(column, column) if few else column

    if sort == "relevance" and relevance is not None:
        return query.order_by(relevance, Tender.id.desc())
    if sort == "deadline_asc":
        return query.order_by(key(Tender.bid_deadline).asc(), Tender.id)
    if sort == "value_desc":
        return query.order_by(key(Tender.estimated_value).desc().nulls_last(), Tender.id.desc())
    if sort == "value_asc":
        return query.order_by(key(Tender.estimated_value).asc().nulls_last(), Tender.id.desc())
    return query.order_by(key(Tender.published_at).desc(), Tender.id.desc())


def _only_text(f: Filters) -> bool:
    return f == Filters(q=f.q, sort=f.sort, page=f.page, per_page=f.per_page)


def _count(query: Select, f: Filters) -> int:
    """Matches, counted up to COUNT_CAP ("10,000+" is as useful as an exact figure)."""
    q = f.q.strip()
    if q and _only_text(f) and not NUMBER.fullmatch(q) and not q.isdigit():
        # Only public tenders are indexed, so a words-only search counts the index alone.
        query, _ = _text_condition(select(literal_column("1")), q, join=False)
    capped = query.limit(COUNT_CAP + 1).subquery()
    return db.session.execute(select(func.count()).select_from(capped)).scalar_one()


def search(f: Filters) -> tuple[list[Tender], int]:
    """One page of matching tenders and the total count."""
    if dialect() == "postgresql":
        # Registry queries are short and run side by side; parallel workers cost more to start
        # than they save, and make an ordered index walk overshoot (see bench/).
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    query, relevance = _quick(select(Tender.id), f.q)
    query = _filters(query, f)
    total = _count(query, f)
    if total == 0 or (f.page - 1) * f.per_page >= total:
        return [], total
    page = _order(query, f.sort, relevance, few=total <= FEW)
    page = page.limit(f.per_page).offset((f.page - 1) * f.per_page)
    ids = list(db.session.execute(page).scalars())
    if not ids:
        return [], total
    # Listings show the customer and the "itemized" mark: load them with the page, not per row.
    query = (
        select(Tender)
        .where(Tender.id.in_(ids))
        .options(selectinload(Tender.customer), selectinload(Tender.lots))
    )
    rows = {t.id: t for t in db.session.execute(query).scalars()}
    return [rows[i] for i in ids], total
