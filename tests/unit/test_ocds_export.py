"""The OCDS mapping on plain objects: valid against the official schemas (core + lots, bid and
enquiries extensions, every extension used declared) at every stage, tenderers that agree with
the bids, amendments after a correction, and nothing disclosed before its time."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from types import SimpleNamespace as NS

import pytest

from reports import ocds
from results.rules import RankedOffer, UnitResult
from tests.ocds_schema import EXTENSIONS, field_sources, problems

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
PUBLISHED = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def _org(name, inn, ogrn=None):
    return NS(name=name, inn=inn, kpp="770101001", ogrn=ogrn, region_code="77")


CUSTOMER = _org("ПАО «Заказчик»", "7700000001", "1027700000001")
ALFA = _org("ООО «Альфа»", "7700000002")
BETA = _org("АО «Бета»", "7700000003")
GAMMA = _org("ООО «Гамма»", "7700000004")


def _position(number, name, quantity, max_price=None, code="27.32"):
    return NS(
        number=number,
        name=name,
        quantity=D(quantity),
        unit_code="006",
        max_unit_price=D(max_price) if max_price else None,
        category_code=code,
    )


LOTS = (
    NS(
        number=1,
        title="Кабель",
        award_mode="per_position",
        positions=[
            _position("1", "Кабель ВВГнг-LS 3x2.5", "1500", "95.50"),
            _position("2", "Кабель КВВГ 7x1.5", "800", None, None),
        ],
        criteria=[NS(kind="number", weight=D(20))],
    ),
    NS(
        number=2,
        title="Муфты",
        award_mode="whole_lot",
        positions=[_position("3", "Муфта концевая", "40", "1000.10")],
        criteria=[],
    ),
)


def _tender(status, deadline=DEADLINE, **extra):
    values = dict(
        number="T-2026-000042",
        title="Поставка кабельной продукции",
        description="Кабель и муфты",
        status=status,
        currency="RUB",
        published_at=T0,
        updated_at=T0,
        bid_deadline=deadline,
        questions_until=T0 + dt.timedelta(days=2),
        latest_close=None,
        estimated_value=D("183255.00"),
        amendment_count=0,
        cancelled_at=None,
        closed_at=DEADLINE if status in ("closed", "results_published", "unsuccessful") else None,
    )
    values.update(extra)
    return NS(**values)


BIDS = (
    ocds.BidFacts(11, 1, ALFA, "active", T0, {1: D("135000.55"), 2: D("38000.00")}),
    ocds.BidFacts(12, 2, BETA, "active", T0, {1: D("140000.00")}),
    ocds.BidFacts(13, 3, GAMMA, "withdrawn", T0, {1: D("120000.00")}),
)


def _offer(bid_id, participant, rank, unit_price, total):
    return RankedOffer(
        bid_id=bid_id,
        participant_number=participant,
        organization_id=bid_id,
        rank=rank,
        unit_price=D(unit_price) if unit_price else None,
        total=D(total),
        score=D("100"),
        price_weight=D(100),
        best_price=D(1),
        price_points=D(100),
        criteria=(),
        first_offered_at=T0,
    )


RESULTS = ocds.ResultsFacts(
    published_at=PUBLISHED,
    units=(
        UnitResult(1, "per_position", "1", "awarded", (_offer(11, 1, 1, "90.00", "135000.00"),)),
        UnitResult(1, "per_position", "2", "unsuccessful", ()),
        UnitResult(2, "whole_lot", None, "awarded", (_offer(11, 1, 1, None, "38000.00"),)),
    ),
    disqualified_lots={(12, 1): "Нет сертификата соответствия"},
)
QUESTIONS = (NS(asked_at=T0, text="Сроки поставки?", answer="30 дней", answered_at=T0),)


def _package(status, now, results=None, bids=BIDS, **tender):
    src = ocds.Source(
        tender=_tender(status, **tender),
        customer=CUSTOMER,
        lots=LOTS,
        bids=bids,
        questions=QUESTIONS,
        questions_asked=2,
        results=results,
    )
    return json.loads(
        ocds.dumps(
            ocds.package(
                src, prefix="ocds-abc123", uri="http://x/api", publisher="Tenders", now=now
            )
        )
    )


@pytest.mark.parametrize(
    ("status", "now", "results"),
    [
        ("published", DEADLINE - dt.timedelta(hours=1), None),
        ("published", DEADLINE + dt.timedelta(seconds=1), None),  # close job not yet run
        ("closed", DEADLINE + dt.timedelta(hours=1), None),
        ("unsuccessful", DEADLINE + dt.timedelta(hours=1), None),
        ("cancelled", DEADLINE - dt.timedelta(hours=5), None),
        ("results_published", PUBLISHED, RESULTS),
    ],
)
def test_valid_against_the_official_schemas(status, now, results):
    package = _package(status, now, results)
    assert problems(package) == []
    release = package["releases"][0]
    assert release["ocid"] == "ocds-abc123-T-2026-000042"
    assert release["tender"]["tenderPeriod"]["endDate"] == "2026-11-23T12:00:00Z"
    assert [item["relatedLot"] for item in release["tender"]["items"]] == ["1", "1", "2"]


def test_nothing_of_the_bids_while_bidding_is_open():
    package = _package("published", DEADLINE - dt.timedelta(minutes=1))
    release = package["releases"][0]
    text = json.dumps(package, ensure_ascii=False)
    assert "bids" not in release and "awards" not in release
    # The count is public (DESIGN.md). OCDS counts "the parties who submit a bid": Gamma
    # submitted and withdrew, so 3 (the platform's pages count the 2 standing bids).
    assert release["tender"]["numberOfTenderers"] == 3
    assert release["tag"] == ["tender"]
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]
    for secret in ("Альфа", "Бета", "Гамма", "135000", "7700000002"):
        assert secret not in text


def test_after_the_deadline_statuses_only_until_results():
    package = _package("published", DEADLINE)  # at the deadline bidding is closed
    release = package["releases"][0]
    text = json.dumps(package, ensure_ascii=False)
    details = release["bids"]["details"]
    assert [(d["id"], d["status"]) for d in details] == [
        ("T-2026-000042-P1-L1", "pending"),
        ("T-2026-000042-P1-L2", "pending"),
        ("T-2026-000042-P2-L1", "pending"),
        ("T-2026-000042-P3-L1", "withdrawn"),
    ]
    assert all("value" not in d and "tenderers" not in d for d in details)
    assert release["tag"] == ["tenderUpdate"]
    for secret in ("Альфа", "Бета", "Гамма", "135000", "7700000003"):
        assert secret not in text


def test_results_name_bidders_and_award_per_position_and_lot():
    package = _package("results_published", PUBLISHED, RESULTS)
    release = package["releases"][0]
    assert release["tag"] == ["award"]
    assert release["tender"]["status"] == "complete"
    statuses = {d["id"]: d["status"] for d in release["bids"]["details"]}
    assert statuses == {
        "T-2026-000042-P1-L1": "valid",
        "T-2026-000042-P1-L2": "valid",
        "T-2026-000042-P2-L1": "disqualified",
        "T-2026-000042-P3-L1": "withdrawn",
    }
    first = release["bids"]["details"][0]
    assert first["tenderers"] == [{"id": "RU-INN-7700000002", "name": "ООО «Альфа»"}]
    assert first["value"] == {"amount": 135000.55, "currency": "RUB"}
    awards = {a["id"]: a for a in release["awards"]}
    assert set(awards) == {"T-2026-000042-L1-P1", "T-2026-000042-L1-P2", "T-2026-000042-L2"}
    a1 = awards["T-2026-000042-L1-P1"]
    assert a1["status"] == "active" and a1["relatedLots"] == ["1"]
    assert a1["relatedBids"] == ["T-2026-000042-P1-L1"]
    assert a1["suppliers"] == [{"id": "RU-INN-7700000002", "name": "ООО «Альфа»"}]
    assert a1["value"] == {"amount": 135000, "currency": "RUB"}
    assert a1["items"][0]["unit"]["value"]["amount"] == 90
    assert awards["T-2026-000042-L1-P2"]["status"] == "unsuccessful"
    assert "suppliers" not in awards["T-2026-000042-L1-P2"]
    assert awards["T-2026-000042-L2"]["relatedLots"] == ["2"]
    roles = {p["id"]: p["roles"] for p in release["parties"]}
    assert roles["RU-INN-7700000002"] == ["supplier", "tenderer"]
    assert roles["RU-INN-7700000003"] == ["tenderer"]
    assert roles["RU-INN-7700000004"] == ["tenderer"]  # Gamma withdrew its bid
    assert release["tender"]["lots"][0]["status"] == "complete"
    assert release["tender"]["hasEnquiries"] is True
    assert len(release["tender"]["enquiries"]) == 1


def test_amounts_are_exact_json_numbers():
    src = ocds.value(D("12345678901234567.89"), "RUB")
    text = ocds.dumps({"value": src, "q": D("0.001"), "n": D("-5")})
    assert (
        text == '{"value": {"amount": 12345678901234567.89, "currency": "RUB"}, '
        '"q": 0.001, "n": -5}'
    )


def test_a_text_that_looks_like_the_marker_stays_text():
    text = ocds.dumps({"title": "deadbeefdeadbeef:5", "amount": D("1.50")})
    assert json.loads(text) == {"title": "deadbeefdeadbeef:5", "amount": 1.5}


def test_stage():
    assert ocds.stage("published", DEADLINE, DEADLINE - dt.timedelta(seconds=1)) == "bidding"
    assert ocds.stage("published", DEADLINE, DEADLINE) == "closed"
    assert ocds.stage("closed", DEADLINE, DEADLINE) == "closed"
    assert ocds.stage("unsuccessful", DEADLINE, DEADLINE) == "closed"
    assert ocds.stage("results_published", DEADLINE, DEADLINE) == "results"
    assert ocds.stage("cancelled", DEADLINE, T0) == "cancelled"


def test_prefix_is_configurable_and_checked(tmp_path):
    import config

    assert config.load("test", {}, str(tmp_path))["OCDS_PREFIX"] == "ocds-000000"
    values = config.load("test", {"OCDS_PREFIX": "ocds-ab12cd"}, str(tmp_path))
    assert values["OCDS_PREFIX"] == "ocds-ab12cd"
    with pytest.raises(RuntimeError, match="OCDS_PREFIX"):
        config.load("test", {"OCDS_PREFIX": "tenders"}, str(tmp_path))


# -- extensions declared --------------------------------------------------------------------

STAGES = [
    ("published", DEADLINE - dt.timedelta(hours=1), None),
    ("published", DEADLINE + dt.timedelta(seconds=1), None),
    ("cancelled", DEADLINE - dt.timedelta(hours=5), None),
    ("results_published", PUBLISHED, RESULTS),
]


@pytest.mark.parametrize(("status", "now", "results"), STAGES)
def test_every_field_outside_core_comes_from_a_declared_extension(status, now, results):
    package = _package(status, now, results)
    sources = field_sources(package["releases"][0])
    assert None not in sources.values(), [p for p, url in sources.items() if url is None]
    assert set(sources.values()) <= set(package["extensions"])


def test_the_extensions_declared_are_the_ones_used():
    used = {}
    for status, now, results in STAGES:
        release = _package(status, now, results)["releases"][0]
        for pointer, url in field_sources(release).items():
            used.setdefault(url, set()).add(pointer[1])  # a definition or a release field
    assert set(used) == set(ocds.EXTENSIONS) == set(EXTENSIONS)
    enquiries, lots, bids = (
        next(url for url in ocds.EXTENSIONS if name in url) for name in ("enquiry", "lots", "bid_")
    )
    assert {"Tender", "Enquiry"} <= used[enquiries]
    assert {"Tender", "Lot", "Item", "Award"} <= used[lots]
    assert {"bids", "Bid", "Award"} <= used[bids]


def test_enquiries_are_validated_by_the_extension_schema():
    package = _package("published", DEADLINE - dt.timedelta(hours=1))
    enquiry = package["releases"][0]["tender"]["enquiries"][0]
    assert enquiry == {
        "id": "1",
        "date": "2026-11-20T09:00:00Z",
        "description": "Сроки поставки?",
        "answer": "30 дней",
        "dateAnswered": "2026-11-20T09:00:00Z",
    }
    assert package["releases"][0]["tender"]["hasEnquiries"] is True  # core 1.1
    enquiry["id"], enquiry["date"] = 1, "yesterday"
    found = problems(package)
    assert any(p.startswith("releases/0/tender/enquiries/0/id") for p in found), found
    assert any(p.startswith("releases/0/tender/enquiries/0/date") for p in found), found


# -- tenderers -------------------------------------------------------------------------------


def test_tenderers_parties_and_bids_agree():
    release = _package("results_published", PUBLISHED, RESULTS)["releases"][0]
    tender = release["tender"]
    tenderer_parties = {p["id"] for p in release["parties"] if "tenderer" in p["roles"]}
    in_bids = {t["id"] for d in release["bids"]["details"] for t in d["tenderers"]}
    listed = [t["id"] for t in tender["tenderers"]]
    assert listed == ["RU-INN-7700000002", "RU-INN-7700000003", "RU-INN-7700000004"]
    assert set(listed) == tenderer_parties == in_bids
    assert tender["numberOfTenderers"] == len(listed) == 3


@pytest.mark.parametrize(
    ("status", "now"),
    [
        ("published", DEADLINE - dt.timedelta(hours=1)),
        ("published", DEADLINE),
        ("closed", DEADLINE + dt.timedelta(hours=1)),
    ],
)
def test_the_number_of_tenderers_is_the_same_before_names_are_disclosed(status, now):
    release = _package(status, now)["releases"][0]
    assert release["tender"]["numberOfTenderers"] == 3
    assert "tenderers" not in release["tender"]
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]


def test_a_bid_never_submitted_is_no_tenderer():
    draft = ocds.BidFacts(14, 4, _org("ООО «Дельта»", "7700000005"), "active", None, {})
    package = _package("results_published", PUBLISHED, RESULTS, bids=(*BIDS, draft))
    release = package["releases"][0]
    assert problems(package) == []
    assert release["tender"]["numberOfTenderers"] == 3
    assert "RU-INN-7700000005" not in {p["id"] for p in release["parties"]}


# -- corrections -----------------------------------------------------------------------------

CORRECTED_AT = PUBLISHED + dt.timedelta(days=2)
REASON = "Жалоба участника: сертификат участника 2 подтверждён"
CORRECTED = ocds.ResultsFacts(
    published_at=CORRECTED_AT,
    units=(
        UnitResult(1, "per_position", "1", "awarded", (_offer(12, 2, 1, "85.00", "127500.00"),)),
        UnitResult(1, "per_position", "2", "unsuccessful", ()),
        UnitResult(2, "whole_lot", None, "awarded", (_offer(11, 1, 1, None, "38000.00"),)),
    ),
    versions=(
        ocds.VersionFacts(1, PUBLISHED),
        ocds.VersionFacts(
            2, CORRECTED_AT, REASON, (ocds.Change("lift", 2, 1, "Сертификат действителен"),)
        ),
    ),
    offered={1: frozenset({(1, "1"), (1, "2"), (2, None)}), 2: frozenset({(1, "1")})},
)


def test_a_correction_amends_the_awards_it_changed():
    package = _package("results_published", CORRECTED_AT, CORRECTED)
    assert problems(package) == []
    release = package["releases"][0]
    assert release["tag"] == ["awardUpdate"]
    assert release["id"] == "T-2026-000042-results-20261126T100000Z"
    awards = {a["id"]: a for a in release["awards"]}
    changed = awards["T-2026-000042-L1-P1"]
    assert changed["amendments"] == [
        {
            "id": "results-v2",
            "date": "2026-11-26T10:00:00Z",
            "rationale": REASON,
            "description": "Results version 2 supersedes version 1: "
            "participant 2 reinstated for lot 1: Сертификат действителен.",
            "amendsReleaseID": "T-2026-000042-results-20261124T100000Z",
            "releaseID": release["id"],
        }
    ]
    assert changed["date"] == "2026-11-26T10:00:00Z"
    assert changed["suppliers"] == [{"id": "RU-INN-7700000003", "name": "АО «Бета»"}]
    for untouched in ("T-2026-000042-L1-P2", "T-2026-000042-L2"):
        assert "amendments" not in awards[untouched]
        assert awards[untouched]["date"] == "2026-11-24T10:00:00Z"  # decided at version 1


def test_a_whole_bid_change_amends_every_award_of_the_participant():
    third = CORRECTED_AT + dt.timedelta(days=1)
    results = ocds.ResultsFacts(
        published_at=third,
        units=CORRECTED.units,
        versions=(
            *CORRECTED.versions,
            ocds.VersionFacts(3, third, REASON, (ocds.Change("disqualify", 1, None, "Подлог"),)),
        ),
        offered=CORRECTED.offered,
    )
    package = _package("results_published", third, results)
    assert problems(package) == []
    awards = {a["id"].removeprefix("T-2026-000042-"): a for a in package["releases"][0]["awards"]}
    ids = {key: [m["id"] for m in a.get("amendments", [])] for key, a in awards.items()}
    assert ids == {
        "L1-P1": ["results-v2", "results-v3"],
        "L1-P2": ["results-v3"],
        "L2": ["results-v3"],
    }
    assert "participant 1 disqualified: Подлог" in awards["L2"]["amendments"][0]["description"]
    assert (
        awards["L1-P1"]["amendments"][1]["amendsReleaseID"]
        == (awards["L1-P1"]["amendments"][0]["releaseID"])
    )


def test_uncorrected_results_are_an_award_release_without_amendments():
    first = ocds.ResultsFacts(
        published_at=PUBLISHED,
        units=RESULTS.units,
        disqualified_lots=RESULTS.disqualified_lots,
        versions=(ocds.VersionFacts(1, PUBLISHED),),
        offered={1: frozenset({(1, "1")})},
    )
    release = _package("results_published", PUBLISHED, first)["releases"][0]
    assert release["tag"] == ["award"]
    assert all("amendments" not in a for a in release["awards"])
