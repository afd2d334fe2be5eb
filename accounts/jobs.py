"""Account jobs: live pushes about accreditation decisions."""

from __future__ import annotations

from accounts.models import Organization
from core import live
from core.extensions import db


def push_accreditation(org_id: int) -> int:
    """Tell every member's open pages about the operator's decision; return how many users."""
    org = db.session.get(Organization, org_id)
    if org is None:
        return 0
    status = org.accreditation_status
    message = (
        f"{org.name} is now accredited."
        if status == "accredited"
        else f"{org.name}: accreditation {status}. {org.accreditation_reason or ''}".strip()
    )
    payload = {"organization_id": org.id, "status": status, "message": message}
    for m in org.memberships:
        live.emit_now("accreditation", payload, live.user_room(m.user_id))
    return len(org.memberships)
