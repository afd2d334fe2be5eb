"""Commission notifications (issue 21): when a decision on the results is prepared (or
changed), the other members of the tender's commission are asked to vote (inbox and mail in
their language); when the chair closes the vote, the member who prepared the decision and the
responsible person learn that the results can be published."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.events import DomainEvent
from core.http import external_url
from notifications import delivery
from tenders.models import Tender

delivery.HEADLINES.update(
    {
        "commission.vote_requested": _l("The commission's decision is waiting for your vote"),
        "commission.decided": _l("The commission adopted the decision"),
    }
)
delivery.SUBJECTS.update(
    {
        "commission.vote_requested": _l("Tender %(number)s: please vote on the decision"),
        "commission.decided": _l("Tender %(number)s: the commission adopted the decision"),
    }
)


def link(tender: Tender) -> str:
    """The decision and the votes on the customer's review page."""
    return external_url("results.review_page", tender_id=tender.id, _anchor="commission")


def _to_recipients(event: DomainEvent, tender: Tender) -> None:
    payload = dict(event.payload)
    reason = "member" if event.kind == "commission.vote_requested" else "author"
    recipients = dict.fromkeys(payload.pop("recipients", []), reason)
    delivery.notify_users(
        recipients, event.kind, tender, f"event:{event.id}", payload, template="commission"
    )


delivery.HANDLERS.update(
    {"commission.vote_requested": _to_recipients, "commission.decided": _to_recipients}
)
delivery.LINKS["commission."] = link
