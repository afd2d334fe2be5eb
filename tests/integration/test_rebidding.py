"""The re-bidding round on the database: announcing it (and every refusal), improved offers
(the rule, the signature, the round's own deadline exact to the second, its auto-extension),
the close job and the sweeper with the re-evaluation, and publication blocked while it runs."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from audit.models import AuditEvent
from bids.models import Bid, BidRevision
from core import clock, jobs
from core.chains import tender_chain
from core.errors import Conflict, Forbidden, Invalid
from core.extensions import db as _db
from core.transaction import commit
from results import publication
from results.models import Award
from results.rebidding import jobs as rebidding_jobs
from results.rebidding import schemas, service
from results.rebidding.models import RebiddingInvitation, RebiddingOffer, RebiddingRound
from tenders import closing
from tests.factories import (
    decided,
    make_org,
    make_supplier,
    make_user,
    one_position_lots,
    published_tender,
    signed_submit,
)


def _two_lots() -> list[dict]:
    return [
        {
            "title": "Кабель",
            "positions": [
                {"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"},
                {"number": "2", "name": "Провод", "quantity": "5", "unit_code": "006"},
            ],
        },
        {
            "title": "Муфты",
            "positions": [{"number": "3", "name": "Муфта", "quantity": "4", "unit_code": "796"}],
        },
    ]


class Closed:
    """A closed, evaluated tender with a customer and two bidders (a: dearer, b: cheaper)."""

    def __init__(self, app, lots=None, criteria=False, prices_a=None, prices_b=None, **extra):
        org = make_org(is_customer=True, is_supplier=False)
        self.customer = (make_user(org), org)
        self.tender = published_tender(
            self.customer,
            deadline=dt.timedelta(minutes=90),
            lots=lots or _two_lots(),
            criteria=criteria,
            **extra,
        )
        self.a, self.b = make_supplier(), make_supplier()
        commit()
        signed_submit(self.a, self.tender, prices_a or {"1": "100.00", "2": "50.00", "3": "10.00"})
        signed_submit(self.b, self.tender, prices_b or {"1": "90.00", "2": "60.00"})
        clock.advance(dt.timedelta(minutes=91))
        with app.app_context():
            deadline = self.tender.bid_deadline.isoformat()
            assert jobs.run_job(closing.CLOSE_JOB, self.tender.id, deadline) == "closed"
        self.id = self.tender.id

    def number(self, supplier) -> int:
        return _db.session.execute(
            select(Bid.participant_number).where(
                Bid.tender_id == self.id, Bid.organization_id == supplier[1].id
            )
        ).scalar_one()

    def announce(self, hours: float = 2, **body):
        data = schemas.RoundIn().load(
            {
                "lots": body.pop("lots", [1]),
                "deadline": (clock.now() + dt.timedelta(hours=hours)).isoformat(),
                **body,
            }
        )
        round_ = service.announce(*self.customer, self.id, data)
        commit()
        return round_


def improve(supplier, tender_id: int, prices: dict, criteria=None, *, sign_with=None):
    """Prepare, sign and submit an improved offer as an invitee's integrator would."""
    user, org, key, private = supplier
    body = {"lines": [{"position": n, "unit_price": p} for n, p in prices.items()]}
    if criteria:
        body["criteria"] = criteria
    data = schemas.ImprovedOfferIn().load(body)
    prepared = service.prepare(user, org, tender_id, data)
    message = base64.b64decode(prepared["canonical_b64"])
    signer = sign_with or private
    signature = base64.b64encode(signer.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
    accepted = service.submit(user, org, tender_id, data, key.id, signature)
    commit()
    return accepted


def service_close_time(round_):
    return closing.close_time(round_.deadline)


def _audit(tender_id: int, action: str) -> list[AuditEvent]:
    return list(
        _db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.chain == tender_chain(tender_id), AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def _winner_price(tender_id: int, position: str):
    award = _db.session.execute(
        select(Award).where(Award.tender_id == tender_id, Award.position_number == position)
    ).scalar_one()
    return award.price


def test_a_round_invites_every_admissible_participant_and_schedules_its_close(app, ctx, db):
    t = Closed(app)
    round_ = t.announce(lots=[1])
    assert round_.number == 1 and round_.status == "open" and round_.scope == "prices"
    invited = {(i.lot_number, i.bid_id) for i in round_.invitations}
    assert {lot for lot, _ in invited} == {1} and len(invited) == 2
    entry = app.extensions["jobs"]._by_id.get(service.close_job_id(round_.id, round_.deadline))
    assert entry is not None and entry.path == service.CLOSE_JOB
    assert entry.args == (round_.id, round_.deadline.isoformat())
    [event] = _audit(t.id, "rebidding.announced")
    assert event.payload["lots"] == [1] and len(event.payload["participants"]) == 2


def test_an_improved_offer_lowers_prices_and_the_close_re_evaluates(app, ctx, db):
    t = Closed(app)
    assert _winner_price(t.id, "1") == pytest.approx(90)
    round_ = t.announce(lots=[1])
    accepted = improve(t.a, t.id, {"1": "85.00"})  # a undercuts b on position 1
    assert accepted.number == 2 and accepted.bid_deadline == round_.deadline
    assert not accepted.extended
    # Before the close the stored results are the ranking at the close.
    assert str(_winner_price(t.id, "1")) == "90.00"
    revisions = _db.session.execute(
        select(BidRevision).join(Bid).where(Bid.organization_id == t.a[1].id)
    ).scalars()
    first, second = sorted(revisions, key=lambda r: r.number)
    assert second.previous_hash == first.payload_hash  # the earlier revision stays in the chain
    assert _db.session.get(RebiddingOffer, second.id).round_id == round_.id

    clock.freeze(service_close_time(round_))
    assert app.extensions["jobs"].run_due() >= 1  # the close job at the round's deadline
    _db.session.refresh(round_)
    assert round_.status == "closed" and round_.closed_at == clock.now()
    assert str(_winner_price(t.id, "1")) == "85.00"
    assert str(_winner_price(t.id, "2")) == "50.00"  # another lot's award is untouched
    report = service.report(round_)
    row = next(r for r in report["positions"] if r["position"] == "1" and r["after"] != r["before"])
    assert (str(row["before"]), str(row["after"])) == ("100.00", "85.00")
    assert report["offers"] == 1 and len(_audit(t.id, "rebidding.closed")) == 1


def test_refusals_of_an_improved_offer_store_nothing(app, ctx, db):
    t = Closed(app)
    t.announce(lots=[1])
    before = _db.session.execute(select(func.count()).select_from(BidRevision)).scalar_one()
    cases = [
        ({"1": "101.00"}, "lines.1.unit_price", "above your previous price"),
        ({"3": "9.00"}, "lines.3.unit_price", "not in this re-bidding round"),
        ({}, "lines", "changes no price"),
    ]
    for prices, field, words in cases:
        with pytest.raises(Invalid) as refused:
            improve(t.a, t.id, prices)
        assert field in refused.value.fields and words in " ".join(refused.value.fields[field])
    with pytest.raises(Invalid) as refused:  # b never offered position 3 (and it is lot 2)
        improve(t.b, t.id, {"1": "80.00", "2": "70.00"})
    assert "lines.2.unit_price" in refused.value.fields
    after = _db.session.execute(select(func.count()).select_from(BidRevision)).scalar_one()
    assert after == before


def test_positions_not_offered_before_cannot_be_added(app, ctx, db):
    t = Closed(app, prices_b={"1": "90.00"})  # b skipped position 2
    t.announce(lots=[1])
    with pytest.raises(Invalid) as refused:
        improve(t.b, t.id, {"2": "40.00"})
    assert "did not offer it before" in refused.value.fields["lines.2.unit_price"][0]


def test_a_non_invitee_and_an_outsider_are_refused(app, ctx, db):
    t = Closed(app)
    t.announce(lots=[1], participants=[t.number(t.b)])
    with pytest.raises(Forbidden):
        improve(t.a, t.id, {"1": "80.00"})
    with pytest.raises(Forbidden):
        improve(make_supplier(), t.id, {"1": "80.00"})


def test_the_round_deadline_is_exact_to_the_second(app, ctx, db):
    t = Closed(app, max_extensions=0)
    clock.freeze(clock.now())
    round_ = t.announce(hours=1)
    clock.freeze(round_.deadline - dt.timedelta(microseconds=1))
    improve(t.a, t.id, {"1": "89.00"})  # the last microsecond is in time
    clock.freeze(round_.deadline)
    with pytest.raises(Conflict) as refused:
        improve(t.b, t.id, {"1": "80.00"})
    assert refused.value.code == "rebidding_closed" and "ended at" in refused.value.message


def test_a_late_change_extends_the_round_by_the_tenders_rule(app, ctx, db):
    t = Closed(app)
    clock.freeze(clock.now())
    round_ = t.announce(hours=1)
    first = round_.deadline
    clock.freeze(first - dt.timedelta(minutes=10))
    accepted = improve(t.a, t.id, {"1": "89.00"})
    assert accepted.extended and accepted.bid_deadline == first + dt.timedelta(minutes=30)
    _db.session.refresh(round_)
    assert round_.deadline == first + dt.timedelta(minutes=30) and round_.extensions_count == 1
    assert len(_audit(t.id, "rebidding.extended")) == 1
    assert not _audit(t.id, "tender.extended") or all(
        e.payload.get("round") is None for e in _audit(t.id, "tender.extended")
    )
    # The job at the first deadline follows the deadline; the sweeper closes nothing early.
    round_id, final = round_.id, round_.deadline
    clock.freeze(first + dt.timedelta(seconds=1))
    assert jobs.run_job(service.CLOSE_JOB, round_id, first.isoformat()) == "moved"
    assert rebidding_jobs.close_overdue() == 0
    clock.freeze(final)
    assert rebidding_jobs.close_overdue() == 1
    assert _db.session.get(RebiddingRound, round_id).status == "closed"


def test_announcing_is_refused_in_every_wrong_state(app, ctx, db):
    t = Closed(app)
    cases = [
        ({"hours": 0.5}, "deadline", "at least 60 minutes"),
        ({"lots": [7]}, "lots", "no lot 7"),
        ({"participants": [99]}, "participants", "Participant 99"),
    ]
    for body, field, words in cases:
        with pytest.raises(Invalid) as refused:
            t.announce(**body)
        assert words in " ".join(refused.value.fields[field])
    assert _db.session.execute(select(func.count()).select_from(RebiddingRound)).scalar_one() == 0
    t.announce()
    with pytest.raises(Conflict) as refused:
        t.announce()
    assert refused.value.code == "rebidding_running"
    # Not the customer; a member without the right to prepare.
    with pytest.raises(Forbidden):
        service.announce(make_user(make_org()), None, t.id, {})
    observer = make_user(t.customer[1], roles=("observer",))
    with pytest.raises(Forbidden):
        service.announce(observer, t.customer[1], t.id, {})


def test_no_round_on_an_open_tender_nor_after_publication(app, ctx, db):
    org = make_org(is_customer=True, is_supplier=False)
    customer = (make_user(org), org)
    tender = published_tender(customer, deadline=dt.timedelta(hours=5), lots=one_position_lots())
    body = schemas.RoundIn().load(
        {"lots": [1], "deadline": (clock.now() + dt.timedelta(hours=2)).isoformat()}
    )
    with pytest.raises(Conflict) as refused:
        service.announce(*customer, tender.id, body)
    assert refused.value.code == "rebidding_not_closed"
    t = Closed(app)
    decided(*t.customer, t.id)
    publication.publish(*t.customer, t.id)
    commit()
    with pytest.raises(Conflict) as refused:
        t.announce()
    assert refused.value.code == "rebidding_published"


def test_results_are_not_published_while_a_round_runs(app, ctx, db):
    t = Closed(app)
    t.announce()
    with pytest.raises(Conflict) as refused:
        publication.publish(*t.customer, t.id)
    assert refused.value.code == "rebidding_running"
    _db.session.rollback()
    clock.advance(dt.timedelta(hours=3))
    assert rebidding_jobs.close_overdue() == 1
    decided(*t.customer, t.id)
    publication.publish(*t.customer, t.id)
    commit()


def test_disqualified_participants_are_not_invited_and_a_second_round_follows(app, ctx, db):
    from results import disqualification

    t = Closed(app)
    disqualification.disqualify(*t.customer, t.id, t.number(t.a), 1, "Нет сертификата соответствия")
    commit()
    with pytest.raises(Invalid) as refused:  # a is out of lot 1
        t.announce(lots=[1], participants=[t.number(t.a)])
    assert "Participant" in refused.value.fields["participants"][0]
    round_ = t.announce(lots=[1])
    assert {i.bid_id for i in round_.invitations} == {
        _db.session.execute(select(Bid.id).where(Bid.organization_id == t.b[1].id)).scalar_one()
    }
    clock.advance(dt.timedelta(hours=3))
    rebidding_jobs.close_overdue()
    second = t.announce(lots=[2])
    assert second.number == 2
    assert (
        _db.session.execute(select(func.count()).select_from(RebiddingInvitation)).scalar_one() == 2
    )


def test_criteria_may_improve_only_when_the_round_takes_them(app, ctx, db):
    from tests.factories import draft_body

    lots = draft_body()["lots"][:1]
    criteria = lambda months: [{"lot": 1, "criterion": cid, "value": months}]  # noqa: E731
    org = make_org(is_customer=True, is_supplier=False)
    t = Closed.__new__(Closed)
    t.customer = (make_user(org), org)
    t.tender = published_tender(t.customer, deadline=dt.timedelta(minutes=90), lots=lots)
    from positions.models import Criterion

    cid = (
        _db.session.execute(
            select(Criterion.id).where(Criterion.name == "Гарантия").order_by(Criterion.id.desc())
        )
        .scalars()
        .first()
    )
    t.a, t.b = make_supplier(), make_supplier()
    commit()
    signed_submit(t.a, t.tender, {"1": "90.00", "2": "100.00"}, criteria=criteria("24"))
    signed_submit(t.b, t.tender, {"1": "95.00"}, criteria=criteria("12"))
    t.id, deadline = t.tender.id, t.tender.bid_deadline.isoformat()
    clock.advance(dt.timedelta(minutes=91))
    with app.app_context():
        assert jobs.run_job(closing.CLOSE_JOB, t.id, deadline) == "closed"
    t.announce()
    with pytest.raises(Invalid) as refused:
        improve(t.b, t.id, {"1": "94.00"}, criteria("18"))
    assert "prices only" in refused.value.fields[f"criteria.1.{cid}"][0]
    clock.advance(dt.timedelta(hours=3))
    rebidding_jobs.close_overdue()
    t.announce(scope="prices_and_criteria")
    with pytest.raises(Invalid) as refused:
        improve(t.a, t.id, {"1": "89.00"}, criteria("18"))  # 24 -> 18 months is worse
    assert "worse than your previous value" in refused.value.fields[f"criteria.1.{cid}"][0]
    improve(t.b, t.id, {"1": "94.00"}, criteria("36"))


def test_invitees_get_an_inbox_item_a_mail_in_their_language_and_a_live_notice(
    app, ctx, db, monkeypatch
):
    from core import live
    from core.mail import OutgoingEmail
    from notifications.models import Notification

    pushed = []
    monkeypatch.setattr(live, "emit_now", lambda event, data, room: pushed.append((event, room)))
    t = Closed(app)
    t.b[0].locale = "ru"
    commit()
    t.announce(lots=[1], participants=[t.number(t.b)])
    assert ("rebidding_invited", live.user_room(t.b[0].id)) in pushed
    assert ("rebidding_invited", live.user_room(t.a[0].id)) not in pushed  # not invited
    notes = _db.session.execute(
        select(Notification.user_id).where(Notification.kind == "rebidding.announced")
    ).scalars()
    assert set(notes) == {t.b[0].id}  # a was not invited
    [mail] = _db.session.execute(
        select(OutgoingEmail).where(
            OutgoingEmail.to_addr == t.b[0].email, OutgoingEmail.kind == "rebidding_invitation"
        )
    ).scalars()
    assert "переторжк" in mail.subject.lower() and "переторжк" in mail.text_body.lower()
    assert "МСК" in mail.text_body  # the round's deadline in the tender's zone
