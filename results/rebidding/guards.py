"""What the rest of the results consult about re-bidding, without its use cases: publication
waits while a round runs."""

from __future__ import annotations

from sqlalchemy import select

from core.errors import Conflict
from core.extensions import db
from core.messages import N_, Text
from results.rebidding.models import RebiddingRound


class RoundRefused(Conflict):
    """The state of the tender or of its round refuses this (409, its own code)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def require_no_round(tender_id: int) -> None:
    """Publishing results while a round runs is refused (409): its offers are not in yet."""
    running = open_round(tender_id)
    if running is not None:
        text = N_(
            "Re-bidding round %(round)s is running until its deadline: the results are "
            "published after it ends and the offers are evaluated again."
        )
        raise RoundRefused("rebidding_running", Text(text, round=running.number))


def open_round(tender_id: int) -> RebiddingRound | None:
    """The round running now (announced, not yet closed), if any."""
    return db.session.execute(
        select(RebiddingRound).where(
            RebiddingRound.tender_id == tender_id, RebiddingRound.status == "open"
        )
    ).scalar_one_or_none()
