"""`make run`'s demo data loads on SQLite and PostgreSQL, twice without harm, and shows every
workflow: roles, approvals, the commission, re-bidding, qualified signatures, workspaces."""

from sqlalchemy import func, select

from core.extensions import db


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_the_demo_loads_twice_and_shows_each_workflow(app):
    from accounts.models import Membership, User
    from approvals.models import ApprovalRequest
    from bids.models import Bid
    from results.models import CommissionVote
    from results.rebidding.models import RebiddingRound
    from tenders.models import Tender

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (_count(Tender), _count(Bid), _count(Membership), _count(User))
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    for login in ("specialist@demo.tenders", "observer@demo.tenders", "manager2@demo.tenders"):
        assert login in again.output
    with app.app_context():
        assert (_count(Tender), _count(Bid), _count(Membership), _count(User)) == counts
        assert _count(Tender, Tender.qualified_signature_required.is_(True)) == 1
        assert _count(Tender, Tender.status == "results_published") >= 3
        assert _count(ApprovalRequest) >= 2
        assert _count(CommissionVote) >= 1
        assert {r.status for r in db.session.execute(select(RebiddingRound)).scalars()} == {
            "open",
            "closed",
        }
        roles = {
            u.email: m.roles
            for m, u in db.session.execute(
                select(Membership, User).join(User, User.id == Membership.user_id)
            )
        }
        assert roles["observer@demo.tenders"] == ["observer"]
        assert roles["specialist2@demo.tenders"] == ["specialist"]
