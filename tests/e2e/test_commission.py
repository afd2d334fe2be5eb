"""The commission's decision (issue 21): the commission, the decision against the ranking,
votes, the chair's close, publication only after it, and what the results then show."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from accounts.models import Organization, User
from accounts.service import create_token
from audit.models import AuditEvent
from core import clock
from core.chains import tender_chain
from core.extensions import db as _db
from core.transaction import commit
from results.models import CommissionMember, CommissionVote, DecisionItem
from tests.e2e.api_helpers import Caller, caller
from tests.e2e.helpers import login, post_form
from tests.e2e.test_results import _closed_tender
from tests.factories import make_user


def _member(app, customer: Caller, roles) -> Caller:
    """Another member of the customer's organization, with a token."""
    with app.test_request_context():
        org = _db.session.get(Organization, customer.org_id)
        user = make_user(org, roles=roles)
        _, token = create_token(user, org.id, "test")
        found = Caller(org.id, user.id, user.email, {"Authorization": f"Bearer {token}"})
        commit()
    return found


def _url(tid: int, tail: str = "") -> str:
    return f"/api/v1/tenders/{tid}{tail}"


def _ranking(client, tid: int, headers: dict) -> dict:
    """(lot, position) -> participants in rank order (valid offers only)."""
    rows = client.get(_url(tid, "/evaluation"), headers=headers).get_json()["rows"]
    return {
        (r["lot"], r["position"]): [
            o["participant"]
            for o in sorted(r["offers"], key=lambda o: o["rank"] or 99)
            if o["rank"] is not None
        ]
        for r in rows
    }


def _error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()["error"]


def _state(client, tid: int, headers: dict) -> dict:
    resp = client.get(_url(tid, "/commission"), headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _stored(tid: int) -> tuple:
    """What the commission's tables hold for the tender (to check refusals change nothing)."""
    return tuple(
        _db.session.execute(
            select(func.count()).select_from(m).where(m.tender_id == tid)
        ).scalar_one()
        for m in (CommissionMember, DecisionItem, CommissionVote)
    )


def _setup(app, client):
    tender, customer, a, b, c = _closed_tender(app, client)
    manager2 = _member(app, customer, ("manager",))
    specialist = _member(app, customer, ("specialist",))
    observer = _member(app, customer, ("observer",))
    return tender, customer, manager2, specialist, observer, (a, b, c)


def test_commission_decides_and_the_results_show_it(app, client, db):
    tender, customer, manager2, specialist, observer, bidders = _setup(app, client)
    tid = tender["id"]
    headers = customer.headers
    ranking = _ranking(client, tid, headers)
    first, second = ranking[(1, "1")][:2]

    # the default commission: the managers, the responsible person (a manager) in the chair
    state = _state(client, tid, headers)
    assert state["status"] == "not_prepared" and state["default_members"] is True
    assert {m["user_id"]: m["chair"] for m in state["members"]} == {
        customer.user_id: True,
        manager2.user_id: False,
    }
    # publication before the decision is refused, naming the reason
    error = _error(client.post(_url(tid, "/results/publish"), headers=headers), 409)
    assert "after the commission's decision" in error["message"] and "decision" in error["fields"]

    # a commission of three, chaired by manager2
    resp = client.post(
        _url(tid, "/commission"),
        json={
            "members": [customer.user_id, manager2.user_id, specialist.user_id],
            "chair": manager2.user_id,
        },
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["default_members"] is False

    # the responsible person prepares: another winner on position 1, position 2 unsuccessful
    items = [
        {
            "lot": 1,
            "position": "1",
            "outcome": "choose",
            "participant": second,
            "reason": "Опыт поставок кабеля на объекты АЭС",
        },
        {
            "lot": 1,
            "position": "2",
            "outcome": "unsuccessful",
            "reason": "Цены выше бюджета на 2026 год",
        },
    ]
    resp = client.post(_url(tid, "/decision"), json={"items": items}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    prepared = resp.get_json()
    assert prepared["status"] == "voting" and prepared["digest"] == prepared["prepared_digest"]
    deviations = {(d["lot"], d["position"]): d for d in prepared["deviations"]}
    assert deviations[(1, "1")]["winner"] == second
    assert deviations[(1, "1")]["ranked_first"] == first
    assert (
        deviations[(1, "2")]["outcome"] == "unsuccessful" and deviations[(1, "2")]["winner"] is None
    )

    # votes: the chair cannot close without a majority of the whole commission
    vote = _url(tid, "/decision/votes")
    assert client.post(vote, json={"vote": "for"}, headers=specialist.headers).status_code == 200
    error = _error(client.post(_url(tid, "/decision/close"), headers=manager2.headers), 409)
    assert error["message"] == "No majority yet: 1 of 3 members voted for, 2 are needed."
    # a changed vote replaces the member's earlier one
    resp = client.post(
        vote,
        json={"vote": "against", "comment": "Нужна справка об опыте"},
        headers=manager2.headers,
    )
    assert resp.status_code == 200
    resp = client.post(
        vote, json={"vote": "for", "comment": "Справку получили"}, headers=manager2.headers
    )
    state = resp.get_json()
    assert state["tally"] == {
        "members": 3,
        "for": 2,
        "against": 0,
        "pending": 1,
        "needed": 2,
        "majority": True,
    }
    assert [(v["name"] != "", v["vote"]) for v in state["votes"]] == [(True, "for"), (True, "for")]
    # only the chair closes
    error = _error(client.post(_url(tid, "/decision/close"), headers=headers), 403)
    assert "chair" in error["message"]
    resp = client.post(_url(tid, "/decision/close"), headers=manager2.headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "approved"

    # a disqualification that changes the decided ranking: publication refused until decided anew
    resp = client.post(
        _url(tid, "/disqualifications"),
        json={"participant": second, "lot": 1, "reason": "Отозван сертификат"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    dq_id = resp.get_json()["id"]
    assert _state(client, tid, headers)["status"] == "changed"
    error = _error(client.post(_url(tid, "/results/publish"), headers=headers), 409)
    assert "changed after the commission's vote" in error["message"]
    resp = client.post(
        _url(tid, f"/disqualifications/{dq_id}/lift"),
        json={"reason": "Сертификат действует"},
        headers=headers,
    )
    assert resp.status_code == 200
    assert _state(client, tid, headers)["status"] == "approved"  # the same decision again

    resp = client.post(_url(tid, "/results/publish"), headers=headers)
    assert resp.status_code == 200, resp.get_json()
    published = client.get(_url(tid, "/results"), headers=headers).get_json()
    awards = {(x["lot"], x["position"]): x for x in published["awards"]}
    assert awards[(1, "1")]["winner"] == second and awards[(1, "1")]["status"] == "awarded"
    won = [o["participant"] for o in awards[(1, "1")]["offers"] if o["won"]]
    assert won == [second]
    assert next(o for o in awards[(1, "1")]["offers"] if o["participant"] == first)["rank"] == 1
    assert awards[(1, "2")]["status"] == "unsuccessful" and awards[(1, "2")]["winner"] is None
    chosen = next(o for o in awards[(1, "1")]["offers"] if o["participant"] == second)
    assert awards[(1, "1")]["price"] == chosen["unit_price"]
    assert Decimal(awards[(1, "1")]["savings"]) == Decimal(
        awards[(1, "1")]["reference_total"]
    ) - Decimal(chosen["total"])
    decision = published["decision"]
    assert decision["status"] == "approved" and len(decision["votes"]) == 2
    assert "email" not in decision["members"][0]
    reasons = {d["reason"] for d in decision["deviations"]}
    assert reasons == {items[0]["reason"], items[1]["reason"]}
    # the public summary gets the decision too (names and reasons, no emails)
    public = client.get(_url(tid, "/results")).get_json()
    assert public["level"] == "summary" and len(public["decision"]["deviations"]) == 2

    # the chosen participant won position 1 (its own results, as the mail says)
    people = {1: bidders[0], 2: bidders[1], 3: bidders[2]}
    mine = client.get(_url(tid, "/results/mine"), headers=people[second].headers).get_json()
    assert next(i for i in mine["items"] if i["award"]["position"] == "1")["won"] is True
    theirs = client.get(_url(tid, "/results/mine"), headers=people[first].headers).get_json()
    assert next(i for i in theirs["items"] if i["award"]["position"] == "1")["won"] is False

    # the public page, the OCDS awards
    page = client.get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert 'id="decision"' in page and items[0]["reason"] in page and "Справку получили" in page
    ocds = client.get(_url(tid, "/ocds")).get_json()
    described = [a["description"] or "" for a in ocds["releases"][0]["awards"]]
    assert any(items[0]["reason"] in d and "commission chose" in d for d in described)
    assert all("Votes:" in d for d in described)

    # the audit chain holds every step
    actions = set(
        _db.session.execute(
            select(AuditEvent.action).where(AuditEvent.chain == tender_chain(tid))
        ).scalars()
    )
    assert {
        "tender.commission_named",
        "tender.decision_prepared",
        "tender.decision_vote",
        "tender.decision_approved",
    } <= actions

    # after publication the decision is final
    error = _error(client.post(vote, json={"vote": "for"}, headers=specialist.headers), 409)
    assert "published" in error["message"]


def test_refusals_change_nothing(app, client, db):
    tender, customer, manager2, specialist, observer, (a, b, c) = _setup(app, client)
    tid = tender["id"]
    headers = customer.headers
    other = caller(app, name="ООО Другой заказчик")
    ranking = _ranking(client, tid, headers)
    first, second = ranking[(1, "1")][:2]
    before = _stored(tid)

    # anonymous, another organization, a supplier, a specialist who is not responsible
    assert _error(client.get(_url(tid, "/commission")), 401)
    assert _error(client.post(_url(tid, "/decision"), json={"items": []}), 401)
    assert _error(client.get(_url(tid, "/commission"), headers=other.headers), 403)
    assert _error(
        client.post(_url(tid, "/decision"), json={"items": []}, headers=other.headers), 403
    )
    assert _error(client.post(_url(tid, "/decision"), json={"items": []}, headers=a.headers), 403)
    error = _error(
        client.post(_url(tid, "/decision"), json={"items": []}, headers=specialist.headers), 403
    )
    assert "responsible for it or a manager" in error["message"]
    error = _error(
        client.post(
            _url(tid, "/commission"),
            json={"members": [specialist.user_id], "chair": specialist.user_id},
            headers=specialist.headers,
        ),
        403,
    )

    # a bad commission: an outsider, a chair outside it, nobody
    bad = [
        ({"members": [customer.user_id, other.user_id], "chair": customer.user_id}, "members"),
        ({"members": [customer.user_id], "chair": manager2.user_id}, "chair"),
        ({"members": [], "chair": customer.user_id}, "members"),
        ({"members": [customer.user_id]}, "chair"),
    ]
    for body, field in bad:
        error = _error(client.post(_url(tid, "/commission"), json=body, headers=headers), 422)
        assert field in error["fields"], (body, error)

    # bad decisions: no reason, a participant without an offer, the top-ranked, unknown unit
    absent = next(p for p in (1, 2, 3) if p not in ranking[(1, "1")])
    bad_items = [
        (
            {"lot": 1, "position": "1", "outcome": "choose", "participant": second},
            "items.0.reason",
            "give the reason",
        ),
        (
            {"lot": 1, "position": "1", "outcome": "unsuccessful", "reason": " "},
            "items.0.reason",
            "give the reason",
        ),
        (
            {"lot": 1, "position": "1", "outcome": "choose", "participant": absent, "reason": "x"},
            "items.0.participant",
            "made no offer",
        ),
        (
            {"lot": 1, "position": "1", "outcome": "choose", "participant": first, "reason": "x"},
            "items.0.participant",
            "ranked first",
        ),
        (
            {"lot": 1, "position": "99", "outcome": "unsuccessful", "reason": "x"},
            "items.0.position",
            "no such position",
        ),
        ({"lot": 1, "position": "1", "outcome": "maybe", "reason": "x"}, "items.0.outcome", ""),
    ]
    for item, field, words in bad_items:
        error = _error(
            client.post(_url(tid, "/decision"), json={"items": [item]}, headers=headers), 422
        )
        assert field in error["fields"] and words in error["message"], (item, error)
    # a disqualified participant cannot be chosen
    resp = client.post(
        _url(tid, "/disqualifications"),
        json={"participant": second, "lot": 1, "reason": "Нет лицензии"},
        headers=headers,
    )
    assert resp.status_code == 201
    item = {"lot": 1, "position": "1", "outcome": "choose", "participant": second, "reason": "x"}
    error = _error(
        client.post(_url(tid, "/decision"), json={"items": [item]}, headers=headers), 422
    )
    assert "is disqualified here" in error["message"]
    assert _stored(tid) == before
    assert _state(client, tid, headers)["status"] == "not_prepared"

    # voting before a decision is prepared; then non-members and a missing comment
    vote = _url(tid, "/decision/votes")
    error = _error(
        client.post(vote, json={"vote": "for"}, headers=headers), 403
    )  # no commission yet
    resp = client.post(_url(tid, "/decision"), json={"items": []}, headers=headers)
    assert resp.status_code == 200
    error = _error(client.post(vote, json={"vote": "for"}, headers=observer.headers), 403)
    assert "not a member of the commission" in error["message"]
    assert _error(client.post(vote, json={"vote": "for"}, headers=other.headers), 403)
    assert _error(client.post(vote, json={"vote": "for"}, headers=a.headers), 403)
    error = _error(client.post(vote, json={"vote": "against"}, headers=headers), 422)
    assert "comment is required" in error["message"] and "comment" in error["fields"]
    assert (
        "vote" in _error(client.post(vote, json={"vote": "maybe"}, headers=headers), 422)["fields"]
    )
    assert _state(client, tid, headers)["votes"] == []

    # the commission is frozen once a vote is cast; a changed decision needs a new vote
    assert client.post(vote, json={"vote": "for"}, headers=headers).status_code == 200
    error = _error(
        client.post(
            _url(tid, "/commission"),
            json={"members": [customer.user_id], "chair": customer.user_id},
            headers=headers,
        ),
        409,
    )
    assert "started voting" in error["message"]
    whole = _ranking(client, tid, headers)[(2, None)]
    item = {
        "lot": 2,
        "outcome": "choose",
        "participant": whole[1],
        "reason": "Сроки",
    }
    resp = client.post(_url(tid, "/decision"), json={"items": [item]}, headers=headers)
    state = resp.get_json()
    assert resp.status_code == 200, state
    assert state["status"] == "voting" and state["votes"] == [] and state["tally"]["for"] == 0


def test_review_page_shows_the_commission_and_its_forms(app, client, db):
    tender, customer, manager2, specialist, observer, _bidders = _setup(app, client)
    tid = tender["id"]
    review = f"/cabinet/tenders/{tid}/review"
    with app.app_context():
        user = _db.session.get(User, customer.user_id)
        email = user.email
    login(client, email)
    page = client.get(review).get_data(as_text=True)
    assert 'id="commission"' in page and 'id="decision-form"' in page
    assert 'id="decision-status">not prepared' in page
    # a choice without a reason: 422 on the page, named
    resp = post_form(
        client,
        review,
        f"{review}/decision",
        {"lot": "1", "position": "1", "outcome": "unsuccessful", "reason": ""},
    )
    assert resp.status_code == 422 and "give the reason" in resp.get_data(as_text=True)
    resp = post_form(
        client,
        review,
        f"{review}/decision",
        {"lot": "1", "position": "1", "outcome": "unsuccessful", "reason": "Бюджет сокращён"},
    )
    assert resp.status_code == 302
    page = client.get(review).get_data(as_text=True)
    assert "Бюджет сокращён" in page and 'id="vote-form"' in page and 'id="close-vote"' in page
    resp = post_form(client, review, f"{review}/vote", {"vote": "against", "comment": ""})
    assert resp.status_code == 422 and "comment is required" in resp.get_data(as_text=True)
    assert post_form(client, review, f"{review}/vote", {"vote": "for"}).status_code == 302
    # 1 of 2 managers: no majority yet
    resp = post_form(client, review, f"{review}/close-vote", {})
    assert resp.status_code == 409 and "No majority yet" in resp.get_data(as_text=True)
    clock.advance(dt.timedelta(minutes=1))
    assert (
        client.post(
            _url(tid, "/decision/votes"), json={"vote": "for"}, headers=manager2.headers
        ).status_code
        == 200
    )
    assert post_form(client, review, f"{review}/close-vote", {}).status_code == 302
    assert post_form(client, review, f"{review}/publish", {}).status_code == 302
    page = client.get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert "Бюджет сокращён" in page


def test_a_correction_keeps_the_exceptions_the_corrected_ranking_admits(app, client, db):
    """docs/results.md: a correction is the customer's own audited amendment; the commission's
    exceptions stay where the corrected ranking admits them, the others lapse to the ranking."""
    tender, customer, *_rest = _setup(app, client)
    tid, headers = tender["id"], customer.headers
    ranking = _ranking(client, tid, headers)
    first, second = ranking[(1, "1")][:2]
    whole_first, whole_second = ranking[(2, None)][:2]
    items = [
        {"lot": 1, "position": "1", "outcome": "choose", "participant": second, "reason": "Опыт"},
        {"lot": 2, "outcome": "choose", "participant": whole_second, "reason": "Сроки"},
    ]
    # the default commission: the customer and manager2 (both managers) must vote
    manager2 = _rest[0]
    base = _url(tid, "/decision")
    assert client.post(base, json={"items": items}, headers=headers).status_code == 200
    for who in (customer, manager2):
        resp = client.post(f"{base}/votes", json={"vote": "for"}, headers=who.headers)
        assert resp.status_code == 200
    assert client.post(f"{base}/close", headers=headers).status_code == 200
    assert client.post(_url(tid, "/results/publish"), headers=headers).status_code == 200

    # the correction disqualifies position 1's chosen winner in lot 1
    resp = client.post(
        _url(tid, "/results/corrections"),
        json={
            "reason": "Жалоба: сертификат участника недействителен",
            "changes": [
                {"action": "disqualify", "participant": second, "lot": 1, "reason": "Сертификат"}
            ],
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    published = client.get(_url(tid, "/results"), headers=headers).get_json()
    awards = {(x["lot"], x["position"]): x for x in published["awards"]}
    assert awards[(1, "1")]["winner"] == first  # lapsed: the corrected ranking's first
    assert awards[(2, None)]["winner"] == whole_second  # untouched: still the commission's
    lot2 = awards[(2, None)]
    chosen = next(o for o in lot2["offers"] if o["participant"] == whole_second)
    assert lot2["total"] == chosen["total"] and lot2["price"] == chosen["total"]
    if lot2["reference_total"] is not None:  # savings against the chosen offer's lines
        assert Decimal(lot2["savings"]) == Decimal(lot2["reference_total"]) - Decimal(
            chosen["total"]
        )
    deviations = {(d["lot"], d["position"]): d for d in published["decision"]["deviations"]}
    assert "disqualified" in deviations[(1, "1")]["problem"]
    assert deviations[(2, None)]["problem"] is None
    assert published["summary"]["awarded"] == len(awards)
    page = client.get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert "lapsed after a correction" in page


def test_refusals_in_russian(app, client, db, russian):
    """The API says the commission's refusals in the reader's language (Russian by default)."""
    tender, customer, manager2, _specialist, observer, _bidders = _setup(app, client)
    tid, headers = tender["id"], customer.headers
    error = _error(client.post(_url(tid, "/results/publish"), headers=headers), 409)
    assert error["message"] == (
        f"Итоги закупки {tender['number']} публикуются после решения комиссии: ответственный "
        "выносит решение, члены комиссии голосуют, председатель завершает голосование."
    )
    item = {"lot": 1, "position": "1", "outcome": "unsuccessful", "reason": ""}
    error = _error(
        client.post(_url(tid, "/decision"), json={"items": [item]}, headers=headers), 422
    )
    assert error["fields"]["items.0.reason"] == ["позиция 1: укажите основание решения."]
    assert (
        client.post(_url(tid, "/decision"), json={"items": []}, headers=headers).status_code == 200
    )
    vote = _url(tid, "/decision/votes")
    error = _error(client.post(vote, json={"vote": "for"}, headers=observer.headers), 403)
    assert error["message"] == f"Вы не член комиссии закупки {tender['number']}."
    assert client.post(vote, json={"vote": "for"}, headers=headers).status_code == 200
    error = _error(client.post(_url(tid, "/decision/close"), headers=headers), 409)
    assert error["message"] == (
        "Большинства пока нет: «за» проголосовали 1 из 2 членов комиссии, нужно 2."
    )


def test_members_are_asked_to_vote_and_told_of_the_adoption(app, client, db, mailbox):
    """A prepared (or changed) decision asks the other members to vote, in their language;
    the same decision prepared again asks nobody twice; the chair's close tells the member
    who prepared it that the results can be published."""
    from core.mail import OutgoingEmail
    from notifications.models import Notification

    tender, customer, manager2, specialist, _observer, _bidders = _setup(app, client)
    tid = tender["id"]
    resp = client.post(
        _url(tid, "/commission"),
        json={
            "members": [customer.user_id, manager2.user_id, specialist.user_id],
            "chair": manager2.user_id,
        },
        headers=customer.headers,
    )
    assert resp.status_code == 200, resp.get_json()
    db.session.get(User, specialist.user_id).locale = "ru"
    commit()

    def asked() -> dict[int, list[str]]:
        db.session.expire_all()
        found: dict[int, list[str]] = {}
        for user_id, subject in db.session.execute(
            select(OutgoingEmail.user_id, OutgoingEmail.subject)
            .where(OutgoingEmail.kind == "commission")
            .order_by(OutgoingEmail.id)
        ).all():
            found.setdefault(user_id, []).append(subject)
        return found

    decision = _url(tid, "/decision")
    assert client.post(decision, json={"items": []}, headers=customer.headers).status_code == 200
    number = tender["number"]
    assert asked() == {
        manager2.user_id: [f"Tender {number}: please vote on the decision"],
        specialist.user_id: [f"Закупка {number}: проголосуйте за решение комиссии"],
    }
    # The same decision again: nobody is asked twice.
    assert client.post(decision, json={"items": []}, headers=customer.headers).status_code == 200
    assert sum(len(s) for s in asked().values()) == 2
    # A changed decision: asked again, the mail says how it deviates from the ranking.
    first = _ranking(client, tid, customer.headers)[(1, "1")][0]
    changed = [{"lot": 1, "position": "1", "outcome": "unsuccessful", "reason": "Дорого"}]
    resp = client.post(decision, json={"items": changed}, headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    assert first and len(asked()[manager2.user_id]) == 2
    mail = (
        db.session.execute(
            select(OutgoingEmail)
            .where(OutgoingEmail.kind == "commission", OutgoingEmail.user_id == manager2.user_id)
            .order_by(OutgoingEmail.id.desc())
        )
        .scalars()
        .first()
    )
    assert "1 deviation from the ranking" in mail.text_body
    assert f"/cabinet/tenders/{tid}/review#commission" in mail.text_body
    inbox = db.session.execute(
        select(Notification.user_id).where(Notification.kind == "commission.vote_requested")
    ).scalars()
    assert customer.user_id not in set(inbox)  # who prepared it is not asked
    # The specialist named to the commission sees what it votes on (its role alone would
    # not show it a tender it is not responsible for); another specialist does not.
    outsider = _member(app, customer, ("specialist",))
    for path in ("/evaluation", "/commission"):
        assert client.get(_url(tid, path), headers=specialist.headers).status_code == 200
        assert client.get(_url(tid, path), headers=outsider.headers).status_code == 403

    for who in (customer, manager2):
        vote = client.post(f"{decision}/votes", json={"vote": "for"}, headers=who.headers)
        assert vote.status_code == 200, vote.get_json()
    assert client.post(f"{decision}/close", headers=manager2.headers).status_code == 200
    db.session.expire_all()
    told = db.session.execute(
        select(OutgoingEmail.user_id, OutgoingEmail.subject).where(
            OutgoingEmail.subject.like("%adopted%")
        )
    ).all()
    assert told == [(customer.user_id, f"Tender {number}: the commission adopted the decision")]
