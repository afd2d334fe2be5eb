"""Operator view of the mail outbox: undelivered mail and retry."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from accounts.access import operator_required
from core.errors import NotFound
from core.extensions import db
from core.transaction import commit
from notifications import service
from notifications.models import OutgoingEmail

bp = Blueprint("notifications", __name__)


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
    return render_template("notifications/operator_mail.html", mails=rows)


@bp.post("/operator/mail/<int:mail_id>/retry")
@operator_required
def operator_retry(mail_id: int):
    """Put a failed mail back in the queue."""
    if service.retry_failed(mail_id) is None:
        raise NotFound("No failed mail with this number.")
    commit()
    flash("Mail queued again.", "success")
    return redirect(url_for("notifications.operator_mail"))
