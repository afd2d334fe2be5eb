"""Subscriptions: saving them (with the keyword terms the matcher looks up), the default
subscription made from an organization's declared categories, and following tenders."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select, text

from accounts.models import Membership, Organization, User
from accounts.service import require_member
from audit.service import record
from core import clock
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.transaction import dialect
from notifications.models import (
    Subscription,
    SubscriptionCategory,
    SubscriptionCustomer,
    SubscriptionKeyword,
    SubscriptionKeywordTerm,
    SubscriptionRegion,
    TenderFollow,
)
from notifications.rules import subscription_problems
from positions import classifiers
from tenders.models import Tender

WORD = re.compile(r"\w+", re.UNICODE)
# Russian endings cut on SQLite (no Russian stemmer there), as the registry search does.
_RU_ENDINGS = re.compile(
    r"(иями|ями|ами|ией|ого|его|ому|ему|ыми|ими|ая|яя|ое|ее|ые|ие|ой|ей|ий|ый|ом|ем|ам|ям|"
    r"ах|ях|ов|ев|ью|ия|а|я|о|е|ы|и|у|ю|ь)$"
)
MAX_SUBSCRIPTIONS = 50
FACETS = ("categories", "regions", "keywords", "customers")


def stem(word: str) -> str:
    """SQLite's normal form of a word: lower case, ё as е, common Russian endings cut."""
    word = word.lower().replace("ё", "е")
    if len(word) > 4 and re.search("[а-я]", word):
        return _RU_ENDINGS.sub("", word)
    return word


def python_terms(value: str) -> list[str]:
    """Distinct normal forms of the words of a text (SQLite)."""
    return sorted({stem(w) for w in WORD.findall(value)})


def keyword_terms(value: str) -> list[str]:
    """The terms a keyword stands for: PostgreSQL's Russian full-text lexemes (Latin words go
    through its English stemmer), or the SQLite normal forms. Stop words drop out."""
    if dialect() == "postgresql":
        lexemes = db.session.execute(
            text("SELECT tsvector_to_array(to_tsvector('russian', :v))"), {"v": value}
        ).scalar_one()
        return sorted(set(lexemes or []))
    return python_terms(value)


# -- reading ---------------------------------------------------------------------------------


def user_subscriptions(user: User) -> list[Subscription]:
    """A user's subscriptions, oldest first."""
    return list(
        db.session.execute(
            select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.id)
        ).scalars()
    )


def own_subscription(user: User, subscription_id: int) -> Subscription:
    """A subscription of this user (another user's is "not found", never shown)."""
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.user_id != user.id:
        raise NotFound(_("No such subscription."))
    return sub


def facets_of(sub: Subscription) -> dict:
    """The subscription as plain values (forms, API, the feed)."""
    return {
        "id": sub.id,
        "categories": [c.code for c in sub.categories],
        "regions": [r.region_code for r in sub.regions],
        "keywords": [k.text for k in sub.keywords],
        "customers": [c.organization_id for c in sub.customers],
        "price_min": sub.price_min,
        "price_max": sub.price_max,
    }


# -- writing ---------------------------------------------------------------------------------


def _check(data: dict) -> dict:
    problems = {k: _(m) for k, m in subscription_problems(data).items()}
    unknown = [c for c in data.get("categories", []) if classifiers.category(c) is None]
    if unknown:
        problems["categories"] = _("Unknown categories: %(codes)s.", codes=", ".join(unknown))
    customers = sorted(set(data.get("customers", [])))
    if customers:
        found = set(
            db.session.execute(
                select(Organization.id).where(Organization.id.in_(customers))
            ).scalars()
        )
        missing = [str(c) for c in customers if c not in found]
        if missing:
            problems["customers"] = _(
                "No such customer organization: %(ids)s.", ids=", ".join(missing)
            )
    for i, word in enumerate(data.get("keywords", [])):
        if not keyword_terms(word):
            problems[f"keywords.{i}"] = _(
                "“%(word)s” has no searchable word (only stop words).", word=word
            )
    if problems:
        raise Invalid(_("The subscription has invalid fields."), problems)
    return data


def _fill(sub: Subscription, data: dict) -> None:
    """Replace the facets and settings of a subscription from validated data."""
    for key in ("name", "active", "by_email", "in_cabinet", "frequency", "price_min", "price_max"):
        if key in data:
            setattr(sub, key, data[key])
    if sub.id is not None:
        for model in (SubscriptionCategory, SubscriptionRegion, SubscriptionCustomer):
            db.session.execute(delete(model).where(model.subscription_id == sub.id))
        db.session.execute(
            delete(SubscriptionKeyword).where(SubscriptionKeyword.subscription_id == sub.id)
        )
        db.session.expire(sub, ["categories", "regions", "keywords", "customers"])
    categories = sorted(set(data.get("categories", [])))
    regions = sorted(set(data.get("regions", [])))
    customers = sorted(set(data.get("customers", [])))
    keywords = list(dict.fromkeys(k.strip() for k in data.get("keywords", []) if k.strip()))
    sub.categories = [SubscriptionCategory(code=c) for c in categories]
    sub.regions = [SubscriptionRegion(region_code=r) for r in regions]
    sub.customers = [SubscriptionCustomer(organization_id=c) for c in customers]
    sub.keywords = []
    for word in keywords:
        terms = keyword_terms(word)
        sub.keywords.append(
            SubscriptionKeyword(
                text=word,
                term_count=len(terms),
                terms=[SubscriptionKeywordTerm(term=t[:100]) for t in terms],
            )
        )
    sub.has_categories, sub.has_regions = bool(categories), bool(regions)
    sub.has_customers, sub.has_keywords = bool(customers), bool(keywords)
    sub.updated_at = clock.now()


def create(user: User, data: dict) -> Subscription:
    """A new subscription of the user."""
    count = len(user_subscriptions(user))
    if count >= MAX_SUBSCRIPTIONS:
        raise Invalid(
            ngettext(
                "At most %(num)d subscription per user.",
                "At most %(num)d subscriptions per user.",
                MAX_SUBSCRIPTIONS,
            )
        )
    _check(data)
    sub = Subscription(user_id=user.id)
    _fill(sub, data)
    db.session.add(sub)
    db.session.flush()
    record(
        "subscription.created", "subscription", sub.id, {"name": sub.name}, actor_user_id=user.id
    )
    return sub


def update(user: User, subscription_id: int, data: dict) -> Subscription:
    """Change a subscription (the default one keeps the organization's categories)."""
    sub = own_subscription(user, subscription_id)
    if sub.default_for_org_id is not None:
        data = {**data, "categories": [c.code for c in sub.categories]}
    _check(data)
    _fill(sub, data)
    db.session.flush()
    return sub


def remove(user: User, subscription_id: int) -> None:
    """Delete a subscription (a default one is paused instead: the organization re-creates it)."""
    sub = own_subscription(user, subscription_id)
    if sub.default_for_org_id is not None:
        sub.active = False
    else:
        db.session.delete(sub)
    db.session.flush()


def set_email(user_id: int, subscription_id: int | None, on: bool) -> int:
    """Switch alert mail of one subscription (or all of the user's); returns how many."""
    query = select(Subscription).where(Subscription.user_id == user_id)
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    subs = list(db.session.execute(query).scalars())
    for sub in subs:
        sub.by_email = on
        if not on and not sub.in_cabinet:
            sub.in_cabinet = True  # keep it visible in the cabinet rather than lose it
        sub.updated_at = clock.now()
    db.session.flush()
    return len(subs)


# -- the default subscription of a supplier's declared categories ------------------------------


def sync_default(org: Organization, user: User) -> Subscription | None:
    """Create or update the user's subscription to the organization's declared categories
    (mailed only with the user's consent; always in the cabinet)."""
    sub = db.session.execute(
        select(Subscription).where(
            Subscription.user_id == user.id, Subscription.default_for_org_id == org.id
        )
    ).scalar_one_or_none()
    codes = sorted(set(org.declared_categories or []))
    if not codes or not org.is_supplier:
        if sub is not None:
            sub.active = False
        return sub
    if sub is None:
        sub = Subscription(
            user_id=user.id,
            default_for_org_id=org.id,
            name=f"{org.name}: declared categories",
            by_email=user.marketing_consent_at is not None,
            in_cabinet=True,
            frequency="daily",
        )
        db.session.add(sub)
        _fill(sub, {"categories": codes})
    else:
        keep = facets_of(sub) if sub.id else {}
        _fill(sub, {**keep, "categories": codes})
    db.session.flush()
    return sub


def declare_categories(user: User, org_id: int, codes: list[str]) -> Organization:
    """An organization admin sets the categories the organization supplies; every member's
    default subscription follows."""
    require_member(user, org_id, admin=True)
    unknown = [c for c in codes if classifiers.category(c) is None]
    if unknown:
        raise Invalid(
            _("Unknown categories."),
            {"categories": _("Unknown codes: %(codes)s", codes=", ".join(unknown))},
        )
    org = db.session.get(Organization, org_id)
    if codes and not org.is_supplier:
        raise Forbidden(_("Only a supplier organization declares the categories it supplies."))
    org.declared_categories = sorted(set(codes))
    members = db.session.execute(
        select(User).join(Membership).where(Membership.organization_id == org.id)
    ).scalars()
    for member in members:
        sync_default(org, member)
    record(
        "organization.categories_declared",
        "organization",
        org.id,
        {"categories": org.declared_categories},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    db.session.flush()
    return org


# -- following tenders -----------------------------------------------------------------------


def follow(user: User, tender_id: int) -> TenderFollow:
    """Follow a public tender (idempotent)."""
    tender = db.session.get(Tender, tender_id)
    if tender is None or tender.published_at is None:
        raise NotFound(_("No such tender."))
    row = db.session.get(TenderFollow, (user.id, tender_id))
    if row is None:
        row = TenderFollow(user_id=user.id, tender_id=tender_id)
        db.session.add(row)
        db.session.flush()
    return row


def unfollow(user_id: int, tender_id: int) -> bool:
    """Stop following; True if the user was following."""
    result = db.session.execute(
        delete(TenderFollow).where(
            TenderFollow.user_id == user_id, TenderFollow.tender_id == tender_id
        )
    )
    return bool(result.rowcount)


def is_following(user_id: int, tender_id: int) -> bool:
    """Whether the user follows the tender."""
    return db.session.get(TenderFollow, (user_id, tender_id)) is not None
