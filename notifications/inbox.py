"""The cabinet inbox: a user's notifications, read and unread, and one-click unsubscribe."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select, update

from audit.service import record
from core import clock
from core.errors import Invalid, NotFound
from core.extensions import db
from notifications import delivery, rules, subscriptions
from notifications.models import Notification, Subscription
from tenders.models import Tender


def unread_count(user_id: int) -> int:
    """Unread inbox notifications of a user (the header counter)."""
    return db.session.execute(
        select(func.count()).where(
            Notification.user_id == user_id,
            Notification.in_inbox.is_(True),
            Notification.read_at.is_(None),
        )
    ).scalar_one()


def page(
    user_id: int, *, unread_only: bool = False, page_no: int = 1, per_page: int = 50
) -> tuple[list[tuple[Notification, Tender | None]], int]:
    """One page of the user's inbox, newest first, with the tenders; and the total."""
    where = [Notification.user_id == user_id, Notification.in_inbox.is_(True)]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = db.session.execute(select(func.count()).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Notification, Tender)
        .outerjoin(Tender, Tender.id == Notification.tender_id)
        .where(*where)
        .order_by(Notification.id.desc())
        .limit(per_page)
        .offset((page_no - 1) * per_page)
    ).all()
    return [tuple(r) for r in rows], total


def mark_read(user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (another user's is "not found")."""
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != user_id or not n.in_inbox:
        raise NotFound(_("No such notification."))
    if n.read_at is None:
        n.read_at = clock.now()
        db.session.flush()
        delivery.push_unread([user_id])
    return n


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.in_inbox.is_(True),
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
    )
    delivery.push_unread([user_id])
    return result.rowcount or 0


def describe(n: Notification, tender: Tender | None) -> str:
    """One line for the inbox, in the reader's language."""
    headline = delivery.headline(n.kind)
    if tender is not None:
        return _(
            "%(headline)s: %(number)s %(title)s",
            headline=headline,
            number=tender.number,
            title=tender.title,
        )
    if n.kind == "accreditation.decided":
        payload = n.payload or {}
        org, status = payload.get("message", ""), payload.get("status", "")
        if n.dedupe_key.startswith("org-change:") and status in ("accepted", "rejected"):
            return (
                _("%(org)s: profile change accepted", org=org)
                if status == "accepted"
                else _("%(org)s: profile change rejected", org=org)
            )
        if status == "accredited":
            return _("%(org)s: accredited", org=org)
        if status == "rejected":
            return _("%(org)s: accreditation rejected", org=org)
        return _("%(headline)s: %(org)s", headline=headline, org=org).strip(": ")
    return headline


def note(n: Notification) -> str:
    """The second line of an inbox entry: a participant's results in numbers, worded here;
    an amendment's summary as the customer wrote it."""
    payload = n.payload or {}
    if "won" in payload and "bid_on" in payload:
        return ngettext(
            "Won %(won)s of %(num)d position or lot bid on.",
            "Won %(won)s of %(num)d positions or lots bid on.",
            int(payload["bid_on"]),
            won=payload["won"],
        )
    return str(payload.get("summary") or "")


def unsubscribe_target(token: str) -> str:
    """What mail a valid one-click unsubscribe link stops, in words (the page asks first)."""
    user_id, scope = delivery.read_unsubscribe_token(token)
    kind, ident = rules.parse_scope(scope)
    if kind == "subscription":
        sub = db.session.get(Subscription, ident)
        if sub is None or sub.user_id != user_id:
            return _("New-tender alerts of a subscription that no longer exists.")
        return _(
            "New-tender alerts of your subscription “%(name)s” (%(frequency)s); "
            "other subscriptions keep mailing.",
            name=sub.name or sub.id,
            frequency=_FREQUENCY.get(sub.frequency, sub.frequency),
        )
    if kind == "alerts":
        return _("New-tender alerts (instant mails and daily digests) of all your subscriptions.")
    tender = db.session.get(Tender, ident)
    number = tender.number if tender else ident
    return _(
        "Mail about tender %(number)s, which you follow: amendments, deadline changes, "
        "clarifications and results. Mail about tenders your organization bids on continues.",
        number=number,
    )


_FREQUENCY = {"instant": _l("a mail per new tender"), "daily": _l("a daily digest")}


def unsubscribe(token: str) -> str:
    """Apply a one-click unsubscribe link; returns what was done, in words."""
    try:
        user_id, scope = delivery.read_unsubscribe_token(token)
    except ValueError:
        raise Invalid(_("This unsubscribe link is not valid.")) from None
    kind, ident = rules.parse_scope(scope)
    if kind == "subscription":
        sub = db.session.get(Subscription, ident)
        if sub is None or sub.user_id != user_id:
            return _("This subscription no longer exists: nothing more will be mailed from it.")
        subscriptions.set_email(user_id, ident, False)
        done = _(
            "Alert mail of the subscription “%(name)s” is switched off.", name=sub.name or sub.id
        )
    elif kind == "alerts":
        subscriptions.set_email(user_id, None, False)
        done = _("Alert mail of all your subscriptions is switched off.")
    else:
        tender = db.session.get(Tender, ident)
        subscriptions.unfollow(user_id, ident)
        number = tender.number if tender else ident
        done = _(
            "You no longer follow %(number)s. If your organization bids on it, mail about its "
            "deadline, changes and results still reaches you: you take part in it.",
            number=number,
        )
    record("notifications.unsubscribed", "user", user_id, {"scope": scope}, actor_user_id=user_id)
    return done
