"""Account jobs: live pushes about accreditation decisions."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from accounts.models import Organization
from core import live
from core.extensions import db
from core.i18n import label
from core.mail import recipient_language


def _message(org: Organization) -> str:
    """The decision in the current language (the page words its own notice; this is the
    fallback text of the push)."""
    if org.accreditation_status == "accredited":
        return gettext("%(org)s is now accredited.", org=org.name)
    return gettext(
        "%(org)s: accreditation %(status)s. %(reason)s",
        org=org.name,
        status=label("accreditation", org.accreditation_status),
        reason=org.accreditation_reason or "",
    ).strip()


def push_accreditation(org_id: int) -> int:
    """Tell every member's open pages about the operator's decision, each in the member's
    language; return how many users."""
    org = db.session.get(Organization, org_id)
    if org is None:
        return 0
    payload = {
        "organization_id": org.id,
        "organization_name": org.name,  # the page words the notice in its language
        "status": org.accreditation_status,
        "reason": org.accreditation_reason or "",
    }
    for m in org.memberships:
        with force_locale(recipient_language(m.user)):
            message = _message(org)
        live.emit_now("accreditation", {**payload, "message": message}, live.user_room(m.user_id))
    return len(org.memberships)
