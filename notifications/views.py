"""Notification pages (inbox, subscriptions, "Tenders for me", follow, unsubscribe, the
operator's undelivered mail) and their API."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from accounts.access import operator_required
from accounts.models import Organization
from accounts.regions import REGION_OPTIONS
from core import formats
from core.api import API_PREFIX, actor, flatten_messages, route
from core.errors import DomainError, Forbidden, NotFound
from core.extensions import csrf, db
from core.forms import parse_query
from core.http import base_url, local_target
from core.mail import OutgoingEmail, retry_failed
from core.transaction import commit
from notifications import delivery, feed, inbox, schemas, subscriptions
from notifications.models import Notification, Subscription
from positions import classifiers
from tenders import service as tender_service
from tenders.models import Tender

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def inject_counts() -> dict:
    """The unread counter every page's header shows."""
    if not getattr(current_user, "is_authenticated", False):  # also mails rendered by jobs
        return {"unread_count": 0}
    return {"unread_count": inbox.unread_count(current_user.id)}


@bp.app_template_global()
def follows(tender) -> bool | None:
    """Whether the logged-in user follows the tender (None: anonymous, no button)."""
    if not current_user.is_authenticated:
        return None
    return subscriptions.is_following(current_user.id, tender.id)


@bp.get("/operator/mail")
@operator_required
def operator_mail():
    """Mail not yet delivered (pending or failed), oldest first."""
    rows = (
        db.session.execute(
            select(OutgoingEmail)
            .where(OutgoingEmail.status != "sent")
            .order_by(OutgoingEmail.id)
            .limit(500)
        )
        .scalars()
        .all()
    )
    return render_template(
        "notifications/operator_mail.html",
        mails=rows,
        mail_status=lambda s: str(MAIL_STATUSES.get(s, s)),
    )


MAIL_STATUSES = {
    "pending": _l("pending"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}


@bp.post("/operator/mail/<int:mail_id>/retry")
@operator_required
def operator_retry(mail_id: int):
    """Put a failed mail back in the queue."""
    if retry_failed(mail_id) is None:
        raise NotFound(_("No failed mail with this number."))
    commit()
    flash(_("Mail queued again."), "success")
    return redirect(url_for("notifications.operator_mail"))


# -- the cabinet inbox ---------------------------------------------------------------------------


def _notification_out(n: Notification, tender: Tender | None) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "text": inbox.describe(n, tender),
        "note": inbox.note(n),
        "tender_id": n.tender_id,
        "tender_number": tender.number if tender else None,
        "link": delivery.tender_link(tender, n.kind) if tender else None,
        "payload": n.payload or {},
        "created_at": n.created_at,
        "read": n.read_at is not None,
    }


@bp.get("/cabinet/notifications")
@login_required
def inbox_page():
    """The user's notifications, newest first; unread ones marked."""
    query, errors = parse_query(schemas.InboxQuery(), request.args)
    rows, total = inbox.page(
        current_user.id,
        unread_only=query["unread"],
        page_no=query["page"],
        per_page=query["per_page"],
    )
    return render_template(
        "notifications/inbox.html",
        items=[_notification_out(n, t) for n, t in rows],
        total=total,
        query=query,
        pages=max(1, -(-total // query["per_page"])),
        errors=errors,
    ), (400 if errors else 200)


@bp.post("/cabinet/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one notification read; go to its tender when asked to."""
    n = inbox.mark_read(current_user.id, notification_id)
    commit()
    if request.form.get("open") and n.tender_id:
        tender = db.session.get(Tender, n.tender_id)
        return redirect(delivery.tender_link(tender, n.kind).removeprefix(base_url()))
    return redirect(url_for("notifications.inbox_page"))


@bp.post("/cabinet/notifications/read-all")
@login_required
def mark_all_read():
    """Mark every notification read."""
    count = inbox.mark_all_read(current_user.id)
    commit()
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count),
        "success",
    )
    return redirect(url_for("notifications.inbox_page"))


# -- subscriptions -----------------------------------------------------------------------------


def _form_values(sub: Subscription | None) -> dict:
    if sub is None:
        return {"by_email": True, "in_cabinet": True, "frequency": "instant", "active": True}
    f = subscriptions.facets_of(sub)
    return {
        **f,
        "name": sub.name,
        "active": sub.active,
        "by_email": sub.by_email,
        "in_cabinet": sub.in_cabinet,
        "frequency": sub.frequency,
        "keywords_text": "\n".join(f["keywords"]),
        "customers_text": ", ".join(str(c) for c in f["customers"]),
        "price_min": "" if sub.price_min is None else sub.price_min,
        "price_max": "" if sub.price_max is None else sub.price_max,
    }


def _form_data(form) -> tuple[dict, dict]:
    """The subscription form as the API's input (keywords one per line, customers by INN or id)."""
    raw = {
        "name": form.get("name", ""),
        "active": "active" in form,
        "by_email": "by_email" in form,
        "in_cabinet": "in_cabinet" in form,
        "frequency": form.get("frequency", "instant"),
        "categories": form.getlist("categories"),
        "regions": form.getlist("regions"),
        "keywords": [k for k in form.get("keywords_text", "").splitlines() if k.strip()],
        "price_min": form.get("price_min") or None,
        "price_max": form.get("price_max") or None,
    }
    customers, problems = [], []
    for token in form.get("customers_text", "").replace(",", " ").split():
        org = db.session.execute(
            select(Organization.id).where(Organization.inn == token)
        ).scalar_one_or_none()
        if org is None and token.isdigit() and len(token) < 10:
            org = int(token)
        if org is None:
            problems.append(_("No organization with INN %(inn)s.", inn=token))
        else:
            customers.append(org)
    raw["customers"] = customers
    try:
        data = schemas.SubscriptionIn().load(raw)
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
        if problems:
            errors["customers_text"] = problems
        return {}, errors
    return data, ({"customers_text": problems} if problems else {})


def _subscription_page(sub: Subscription | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "notifications/subscription_form.html",
        sub=sub,
        values=values,
        errors=errors,
        tree=classifiers.category_tree(),
        chosen=set(values.get("categories", [])),
        regions=REGION_OPTIONS,
    ), status


@bp.get("/cabinet/subscriptions")
@login_required
def subscriptions_page():
    """The user's subscriptions and how each is delivered."""
    subs = subscriptions.user_subscriptions(current_user)
    return render_template(
        "notifications/subscriptions.html",
        subs=subs,
        consent=current_user.marketing_consent_at,
    )


@bp.route("/cabinet/subscriptions/new", methods=["GET", "POST"])
@login_required
def new_subscription():
    """Create a subscription."""
    if request.method == "GET":
        return _subscription_page(None, _form_values(None), {})
    data, errors = _form_data(request.form)
    if errors:
        return _subscription_page(None, _posted(request.form), errors, 422)
    try:
        subscriptions.create(current_user, data)
    except DomainError as exc:
        db.session.rollback()
        return _subscription_page(None, _posted(request.form), _problems(exc), exc.status)
    commit()
    flash(_("Subscription saved."), "success")
    return redirect(url_for("notifications.subscriptions_page"))


@bp.route("/cabinet/subscriptions/<int:subscription_id>", methods=["GET", "POST"])
@login_required
def edit_subscription(subscription_id: int):
    """Change a subscription."""
    sub = subscriptions.own_subscription(current_user, subscription_id)
    if request.method == "GET":
        return _subscription_page(sub, _form_values(sub), {})
    data, errors = _form_data(request.form)
    if errors:
        return _subscription_page(sub, _posted(request.form), errors, 422)
    try:
        subscriptions.update(current_user, subscription_id, data)
    except DomainError as exc:
        db.session.rollback()
        return _subscription_page(sub, _posted(request.form), _problems(exc), exc.status)
    commit()
    flash(_("Subscription saved."), "success")
    return redirect(url_for("notifications.subscriptions_page"))


@bp.post("/cabinet/subscriptions/<int:subscription_id>/delete")
@login_required
def delete_subscription(subscription_id: int):
    """Delete a subscription (the organization's default one is paused)."""
    subscriptions.remove(current_user, subscription_id)
    commit()
    flash(_("Subscription removed."), "success")
    return redirect(url_for("notifications.subscriptions_page"))


@bp.post("/cabinet/organization/categories")
@login_required
def org_categories():
    """An admin declares the categories the organization supplies."""
    if g.org is None:
        raise Forbidden(_("You are not a member of any organization."))
    codes = [c for c in request.form.getlist("categories") if c]
    try:
        subscriptions.declare_categories(current_user, g.org.id, codes)
    except DomainError as exc:
        db.session.rollback()
        flash(f"{exc.message} {' '.join(sum(exc.fields.values(), []))}".strip(), "error")
        return redirect(url_for("accounts.cabinet"))
    commit()
    flash(_("Declared categories saved; members' default subscriptions follow them."), "success")
    return redirect(url_for("accounts.cabinet"))


def _posted(form) -> dict:
    return {
        "name": form.get("name", ""),
        "active": "active" in form,
        "by_email": "by_email" in form,
        "in_cabinet": "in_cabinet" in form,
        "frequency": form.get("frequency", "instant"),
        "categories": form.getlist("categories"),
        "regions": form.getlist("regions"),
        "keywords_text": form.get("keywords_text", ""),
        "customers_text": form.get("customers_text", ""),
        "price_min": form.get("price_min", ""),
        "price_max": form.get("price_max", ""),
    }


def _problems(exc: DomainError) -> dict:
    errors = dict(exc.fields)
    errors.setdefault("_form", []).append(exc.message)
    return errors


# -- "Tenders for me" ----------------------------------------------------------------------------


@bp.get("/cabinet/for-me")
@login_required
def for_me_page():
    """Published tenders matching my subscriptions; add regions, hide categories, search."""
    query, errors = parse_query(schemas.FeedQuery(), request.args)
    if errors:  # apply what is valid; the page keeps the bad input beside its message
        bad = {key.split(".")[0] for key in errors}
        valid = {k: v for k, v in request.args.items() if k not in bad}
        query, _ = parse_query(schemas.FeedQuery(), MultiDict(valid))
        errors = {
            field: [m for key, msgs in errors.items() if key.split(".")[0] == field for m in msgs]
            for field in bad
        }
    items, total, facets = feed.for_me(current_user, query)
    return render_template(
        "notifications/for_me.html",
        items=items,
        total=total,
        query=query,
        facets=facets,
        subs=subscriptions.user_subscriptions(current_user),
        pages=max(1, -(-total // query["per_page"])),
        errors=errors,
        regions=REGION_OPTIONS,
        category_name=lambda code: getattr(classifiers.category(code), "name", code),
        region_list=lambda codes: ", ".join(formats.region(c) for c in codes),
        args=request.args,
    ), (400 if errors else 200)


# -- following a tender, unsubscribing -------------------------------------------------------------


@bp.post("/tenders/<number>/follow")
@login_required
def follow(number: str):
    """Follow a tender from its notice."""
    tender = tender_service.by_number(number)
    subscriptions.follow(current_user, tender.id)
    commit()
    flash(
        _(
            "You follow %(number)s: its changes, answers and deadline reach you.",
            number=tender.number,
        ),
        "success",
    )
    return _back(tender)


def _back(tender: Tender):
    """Back to the list the button was in (a path of this site), else to the notice."""
    target = local_target(request.form.get("next"))
    return redirect(target or url_for("main.notice", number=tender.number))


@bp.post("/tenders/<number>/unfollow")
@login_required
def unfollow(number: str):
    """Stop following a tender."""
    tender = tender_service.by_number(number)
    subscriptions.unfollow(current_user.id, tender.id)
    commit()
    flash(_("You no longer follow %(number)s.", number=tender.number), "success")
    return _back(tender)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a session
def unsubscribe(token: str):
    """One-click unsubscribe from a mailed link: GET asks, POST does (no login needed)."""
    try:
        delivery.read_unsubscribe_token(token)
    except ValueError:
        return render_template("notifications/unsubscribe.html", invalid=True, token=token), 400
    if request.method == "GET":
        what = inbox.unsubscribe_target(token)
        return render_template(
            "notifications/unsubscribe.html", invalid=False, token=token, what=what
        )
    done = inbox.unsubscribe(token)
    commit()
    return render_template("notifications/unsubscribe.html", invalid=False, done=done, token=token)


# -- API -------------------------------------------------------------------------------------------

api = Blueprint("notifications_api", __name__, url_prefix=API_PREFIX)


@route(
    api,
    "/notifications",
    "GET",
    summary="My notifications",
    query=schemas.InboxQuery,
    response=schemas.InboxOut,
    tag="notifications",
)
def api_inbox(query: dict):
    """The caller's inbox, newest first (unread=true for unread only)."""
    user, _ = actor()
    rows, total = inbox.page(
        user.id, unread_only=query["unread"], page_no=query["page"], per_page=query["per_page"]
    )
    return {
        "items": [_notification_out(n, t) for n, t in rows],
        "total": total,
        "unread": inbox.unread_count(user.id),
    }


@route(
    api,
    "/notifications/unread-count",
    "GET",
    summary="Unread notifications",
    response=schemas.UnreadOut,
    tag="notifications",
)
def api_unread():
    """The header counter."""
    user, _ = actor()
    return {"unread": inbox.unread_count(user.id)}


@route(
    api,
    "/notifications/<int:notification_id>/read",
    "POST",
    summary="Mark read",
    response=schemas.NotificationOut,
    tag="notifications",
)
def api_mark_read(notification_id: int):
    """Mark one of my notifications read (another user's answers 404)."""
    user, _ = actor()
    n = inbox.mark_read(user.id, notification_id)
    commit()
    tender = db.session.get(Tender, n.tender_id) if n.tender_id else None
    return _notification_out(n, tender)


@route(
    api,
    "/notifications/read-all",
    "POST",
    summary="Mark all read",
    response=schemas.UnreadOut,
    tag="notifications",
)
def api_mark_all_read():
    """Mark every notification of mine read."""
    user, _ = actor()
    inbox.mark_all_read(user.id)
    commit()
    return {"unread": 0}


@route(
    api,
    "/subscriptions",
    "GET",
    summary="My subscriptions",
    response=schemas.SubscriptionOut(many=True),
    tag="notifications",
)
def api_subscriptions():
    """The caller's subscriptions."""
    user, _ = actor()
    return subscriptions.user_subscriptions(user)


@route(
    api,
    "/subscriptions",
    "POST",
    summary="Subscribe",
    body=schemas.SubscriptionIn,
    response=schemas.SubscriptionOut,
    status=201,
    tag="notifications",
)
def api_create_subscription(body: dict):
    """Create a subscription (at least one of categories, regions, keywords, customers)."""
    user, _ = actor()
    sub = subscriptions.create(user, body)
    commit()
    return sub


@route(
    api,
    "/subscriptions/<int:subscription_id>",
    "GET",
    summary="A subscription",
    response=schemas.SubscriptionOut,
    tag="notifications",
)
def api_subscription(subscription_id: int):
    """One of my subscriptions (another user's answers 404)."""
    user, _ = actor()
    return subscriptions.own_subscription(user, subscription_id)


@route(
    api,
    "/subscriptions/<int:subscription_id>",
    "PUT",
    summary="Change a subscription",
    body=schemas.SubscriptionIn,
    response=schemas.SubscriptionOut,
    tag="notifications",
)
def api_update_subscription(subscription_id: int, body: dict):
    """Replace a subscription's facets and delivery."""
    user, _ = actor()
    sub = subscriptions.update(user, subscription_id, body)
    commit()
    return sub


@route(
    api,
    "/subscriptions/<int:subscription_id>",
    "DELETE",
    summary="Unsubscribe",
    status=204,
    tag="notifications",
)
def api_delete_subscription(subscription_id: int):
    """Delete a subscription (the organization's default one is paused)."""
    user, _ = actor()
    subscriptions.remove(user, subscription_id)
    commit()


@route(
    api,
    "/feed",
    "GET",
    summary="Tenders for me",
    query=schemas.FeedQuery,
    response=schemas.FeedOut,
    tag="notifications",
)
def api_feed(query: dict):
    """Published tenders matching my subscriptions, newest first; add_region widens,
    drop_category narrows (comma-separated)."""
    user, _ = actor()
    items, total, _ = feed.for_me(user, query)
    return {"items": items, "total": total}


@route(
    api,
    "/tenders/<int:tender_id>/follow",
    "PUT",
    summary="Follow a tender",
    response=schemas.FollowOut,
    tag="notifications",
)
def api_follow(tender_id: int):
    """Follow a published tender: its changes, answers, reminders and results reach me."""
    user, _ = actor()
    subscriptions.follow(user, tender_id)
    commit()
    return {"tender_id": tender_id, "following": True}


@route(
    api,
    "/tenders/<int:tender_id>/follow",
    "DELETE",
    summary="Unfollow a tender",
    response=schemas.FollowOut,
    tag="notifications",
)
def api_unfollow(tender_id: int):
    """Stop following a tender."""
    user, _ = actor()
    subscriptions.unfollow(user.id, tender_id)
    commit()
    return {"tender_id": tender_id, "following": False}


@route(
    api,
    "/organizations/<int:org_id>/categories",
    "PUT",
    summary="Declare the categories we supply",
    body=schemas.CategoriesIn,
    response=schemas.CategoriesOut,
    tag="notifications",
)
def api_declare_categories(org_id: int, body: dict):
    """An administrator of a supplier organization declares its categories; every member's
    default subscription follows them."""
    user, _ = actor()
    org = subscriptions.declare_categories(user, org_id, body["categories"])
    commit()
    return org
