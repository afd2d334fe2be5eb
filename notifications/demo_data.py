"""Demo data for notifications (called by `flask demo load`): suppliers' declared categories
and subscriptions, a followed tender, and inbox notifications."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Organization, User
from core import clock
from core.events import DomainEvent
from core.extensions import db
from notifications import delivery, subscriptions
from notifications.models import Notification, Subscription
from tenders.models import Tender

# Supplier INN -> declared categories (their members' default subscription).
DECLARED = {
    "5012123454": ["23.5", "23.6", "F"],  # OOO Stroymaterialy: cement, building works
    "7814123452": ["27.3"],  # AO Kabel-Snab: cable
    "7813123450": ["25.9", "28.15"],  # OOO Metiz-Torg: hardware, bearings
}
SUBSCRIPTIONS = {
    "supplier3@demo.tenders": [
        {
            "name": "Кабель: Москва и Свердловская область, от 100 000 ₽",
            "categories": ["27"],
            "regions": ["77", "66"],
            "price_min": "100000",
            "frequency": "instant",
        },
        {"name": "Слово «кабель» везде", "keywords": ["кабель"], "frequency": "daily"},
    ],
    "supplier2@demo.tenders": [
        {"name": "Подшипники и метизы", "keywords": ["подшипник", "болт"], "by_email": False},
    ],
}


def load_subscriptions() -> int:
    """Declared categories and subscriptions (idempotent); returns how many were created."""
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    for email in ("supplier1@demo.tenders", "supplier3@demo.tenders"):
        if email in users and users[email].marketing_consent_at is None:
            users[email].marketing_consent_at = clock.now()  # opted in at "registration"
    created = 0
    for inn, codes in DECLARED.items():
        org = db.session.execute(
            select(Organization).where(Organization.inn == inn)
        ).scalar_one_or_none()
        if org is None or org.declared_categories:
            continue
        admin = next(m.user for m in org.memberships if m.may("administer"))
        subscriptions.declare_categories(admin, org.id, codes)
        created += len(org.memberships)
    for email, subs in SUBSCRIPTIONS.items():
        user = users.get(email)
        if user is None:
            continue
        have = {s.name for s in subscriptions.user_subscriptions(user)}
        for data in subs:
            if data["name"] not in have:
                subscriptions.create(user, {"by_email": True, "in_cabinet": True, **data})
                created += 1
    db.session.flush()
    return created


def load_inbox() -> int:
    """Deliver the demo tenders' events now (so the inbox is filled without a worker), let
    supplier2 follow the cable tender, and mark one notification read; returns the number
    of notifications."""
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    cable = db.session.execute(
        select(Tender).where(Tender.title.like("Поставка кабельной продукции%"))
    ).scalar_one_or_none()
    follower = users.get("supplier2@demo.tenders")
    if cable is not None and follower is not None and cable.published_at is not None:
        subscriptions.follow(follower, cable.id)
    pending = db.session.execute(
        select(DomainEvent.id).where(DomainEvent.processed_at.is_(None)).order_by(DomainEvent.id)
    ).scalars()
    for event_id in list(pending):
        delivery.process_event(event_id)
    # Tenders published before the subscriptions existed: match them once more (idempotent).
    for tender in db.session.execute(select(Tender).where(Tender.status == "published")).scalars():
        delivery.fan_out_matches(tender)
    first = db.session.execute(
        select(Notification)
        .join(Subscription, Subscription.id == Notification.subscription_id)
        .where(Notification.read_at.is_(None))
        .order_by(Notification.id)
        .limit(1)
    ).scalar_one_or_none()
    if first is not None:
        first.read_at = clock.now()
    db.session.flush()
    return db.session.execute(select(db.func.count(Notification.id))).scalar_one()
