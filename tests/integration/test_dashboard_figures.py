"""The customer dashboard's figures over a small fixed data set written row by row: every
stage, a draft inside and one outside the period, the period's last second, results not
yet published and in another currency, a withdrawn bid, a tender of two lots whose bid's
latest revision no longer prices one of them, another customer's tender. The expected
figures are counted by hand (docs/dashboard.md, "What counts")."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from bids.models import Bid, BidLine, BidRevision
from core.extensions import db as _db
from positions.models import Position
from reports import dashboard
from results.models import ResultSet
from tenders.models import Lot, Tender, TenderCategory
from tests.factories import make_org, make_supplier, make_user

UTC = dt.UTC
_hashes = itertools.count(1)


def _at(month: int, day: int, *hms: int) -> dt.datetime:
    return dt.datetime(2026, month, day, *hms, tzinfo=UTC)


class _Data:
    def __init__(self):
        self.customer = make_org(is_customer=True, is_supplier=False)
        self.user = make_user(self.customer)
        self.sme = make_supplier(is_sme=True)
        self.big = make_supplier(is_sme=False)
        self.third = make_supplier(is_sme=True)

    def tender(
        self,
        number,
        status,
        moment,
        *,
        lots=1,
        ext=0,
        currency="RUB",
        value=None,
        categories=(),
        customer=None,
        draft=False,
    ):
        t = Tender(
            number=number,
            title=number,
            customer_id=(customer or self.customer).id,
            created_by_id=self.user.id,
            region_code="77",
            status=status,
            currency=currency,
            published_at=None if draft else moment,
            bid_deadline=moment + dt.timedelta(days=7),
            original_deadline=moment + dt.timedelta(days=7),
            extensions_count=ext,
            estimated_value=value,
            created_at=moment,
            updated_at=moment,
        )
        _db.session.add(t)
        _db.session.flush()
        t.test_positions = {}
        for n in range(1, lots + 1):
            lot = Lot(tender_id=t.id, number=n, title=f"Лот {n}")
            _db.session.add(lot)
            _db.session.flush()
            p = Position(
                tender_id=t.id,
                lot_id=lot.id,
                number=str(n),
                sort_key=f"{n:08d}",
                name="Товар",
                quantity=D(10),
                unit_code="796",
            )
            _db.session.add(p)
            _db.session.flush()
            t.test_positions[str(n)] = p
        for code in categories:
            _db.session.add(TenderCategory(tender_id=t.id, code=code, path=code))
        return t

    def bid(self, tender, supplier, *revisions, status="active"):
        """revisions: for each, the position numbers it prices."""
        _, org, key, _ = supplier
        b = Bid(
            tender_id=tender.id,
            organization_id=org.id,
            participant_number=next(_hashes),
            status=status,
            revision_count=len(revisions),
            responsible_id=self.user.id,
        )
        _db.session.add(b)
        _db.session.flush()
        for number, priced in enumerate(revisions, 1):
            r = BidRevision(
                bid_id=b.id,
                number=number,
                accepted_at=tender.published_at,
                total=D(0),
                submitted_by_id=self.user.id,
                signing_key_id=key.id,
                signature="s",
                payload_hash=f"dash-{next(_hashes)}",
                receipt_signature="r",
                triggering=True,
                deadline_before=tender.bid_deadline,
                deadline_after=tender.bid_deadline,
            )
            _db.session.add(r)
            _db.session.flush()
            for n in priced:
                _db.session.add(
                    BidLine(
                        revision_id=r.id,
                        position_id=tender.test_positions[n].id,
                        position_number=n,
                        unit_price=D(90),
                        total=D(900),
                    )
                )
        _db.session.flush()

    def results(self, tender, reference, savings, published=True):
        _db.session.add(
            ResultSet(
                tender_id=tender.id,
                reference_total=D(reference),
                savings=D(savings),
                published_at=tender.published_at + dt.timedelta(days=8) if published else None,
            )
        )
        _db.session.flush()


def test_figures_of_a_fixed_data_set(app, ctx, db):
    d = _Data()
    t1 = d.tender(
        "DF-1", "results_published", _at(1, 10), ext=2, value=D("5000"), categories=("27.3",)
    )
    d.bid(t1, d.sme, ("1",))
    d.bid(t1, d.big, ("1",))
    d.results(t1, "1000.00", "100.00")
    t2 = d.tender("DF-2", "closed", _at(2, 5), lots=2, value=D("3000"), categories=("27.3", "23.5"))
    d.bid(t2, d.sme, ("1", "2"), ("1",))  # the latest revision prices lot 1 only
    d.bid(t2, d.big, ("1", "2"))
    d.bid(t2, d.third, ("2",), status="withdrawn")
    d.results(t2, "500.00", "50.00", published=False)  # evaluated, not published
    t3 = d.tender(
        "DF-3",
        "results_published",
        _at(2, 20),
        ext=1,
        currency="USD",
        value=D("999"),
        categories=("23.5",),
    )
    d.bid(t3, d.sme, ("1",))
    d.results(t3, "700.00", "70.00")  # not in roubles
    t4 = d.tender("DF-4", "published", _at(3, 1), ext=3, categories=("28.15",))
    d.bid(t4, d.big, ("1",))  # open: stages only
    d.tender("DF-5", "draft", _at(3, 15), draft=True)
    d.tender("DF-6", "draft", dt.datetime(2025, 12, 31, 23, 59, tzinfo=UTC), draft=True)
    d.tender("DF-7", "results_published", _at(4, 1), categories=("27.3",))  # after
    d.tender("DF-8", "unsuccessful", _at(3, 31, 23, 59, 59), ext=1)
    other = d.tender("DF-9", "closed", _at(1, 20), customer=make_org(), categories=("27.3",))
    d.bid(other, d.sme, ("1",))

    data = dashboard.dashboard(d.customer, dt.date(2026, 1, 1), dt.date(2026, 3, 31))

    assert data["tenders"] == 6
    assert {s["status"]: s["tenders"] for s in data["stages"] if s["tenders"]} == {
        "results_published": 2,
        "closed": 1,
        "published": 1,
        "draft": 1,
        "unsuccessful": 1,
    }
    # Ended: DF-1, DF-2, DF-3, DF-8 -> 5 lots; standing bids 2 + 2 + 1 (the withdrawn one
    # not), 3 of them SME; offers: DF-1 2, DF-3 1, DF-2 lot 1 both, lot 2 only "big".
    assert data["participation"] == {
        "lots": 5,
        "offers": 6,
        "average_per_lot": D("1.20"),
        "participations": 5,
        "sme": 3,
        "sme_percent": D("60.00"),
    }
    assert data["savings"] == {
        "tenders": 1,
        "reference": D("1000.00"),
        "savings": D("100.00"),
        "percent": D("10.00"),
    }
    assert [(m["month"], m["tenders"], m["savings"], m["percent"]) for m in data["months"]] == [
        ("2026-01", 1, D("100.00"), D("10.00")),
        ("2026-02", 2, D(0), None),
        ("2026-03", 3, D(0), None),
    ]
    assert data["extensions"] == {
        "tenders": 4,
        "extended": 3,
        "total": 4,
        "average": D("1.00"),
        "most": 2,
    }
    assert [(c["code"], c["tenders"], c["estimated_value"]) for c in data["categories"]] == [
        ("23.5", 2, D("3000.00")),
        ("27.3", 2, D("8000.00")),
        ("28.15", 1, D(0)),
    ]
