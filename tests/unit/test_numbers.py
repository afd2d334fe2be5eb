"""The one number reader (core.numbers.parse_decimal) and the fields built on it: money and
quantities typed the Russian way are read the same in forms, JSON and CSV (issue 19.2)."""

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from bids.schemas import LineIn
from core.fields import ExactDecimal
from core.numbers import parse_decimal
from positions import csv_rules
from tenders.schemas import CriterionIn, LotUpdate, PositionIn

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("68 500,00", "68500.00"),
        (f"68{NBSP}500,00", "68500.00"),
        (f"1{NNBSP}234{NNBSP}567.5", "1234567.5"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("7 500", "7500"),
        ("  1000  ", "1000"),
        ("1.234,50", "1234.50"),
        ("-5", "-5"),
    ],
)
def test_parse_decimal_reads_russian_and_english_shapes(text, expected):
    assert str(parse_decimal(text)) == expected


@pytest.mark.parametrize("text", ["1 000,00 руб", "1e5", "NaN", "12a", "1,2,3", "1  000"])
def test_parse_decimal_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal(text)


def test_csv_rules_uses_the_same_function():
    assert csv_rules.parse_decimal is parse_decimal


@pytest.mark.parametrize("text", ["68 500,00", f"68{NBSP}500,00", "68500.00", "68500,0", 68500])
def test_exact_decimal_field_reads_what_parse_decimal_reads(text):
    assert ExactDecimal(places=2).deserialize(text) == Decimal("68500")


@pytest.mark.parametrize("value", [1.5, True, "1e5", "1 000,00 руб", ""])
def test_exact_decimal_field_refuses(value):
    with pytest.raises(ValidationError):
        ExactDecimal(places=2).deserialize(value)


def test_exact_decimal_message_shows_how_to_write_it():
    with pytest.raises(ValidationError) as caught:
        ExactDecimal().deserialize("1 000,00 руб")
    assert caught.value.messages == ["Not a number: write it like 1 234,50 or 1234.50."]


def test_every_money_and_quantity_field_reads_the_same():
    """The issue's three fields: max price, quantity, bid price (and weights, scores)."""
    position = PositionIn().load(
        {"number": "1", "name": "Цемент", "quantity": "1 200,5", "unit_code": "796",
         "max_unit_price": "68 500,00"}
    )  # fmt: skip
    assert position["quantity"] == Decimal("1200.5")
    assert position["max_unit_price"] == Decimal("68500.00")
    assert LineIn().load({"position": "1", "unit_price": f"7{NBSP}500"})["unit_price"] == 7500
    assert LotUpdate().load({"price_weight": "80,5"})["price_weight"] == Decimal("80.5")
    criterion = CriterionIn().load(
        {"name": "Срок", "kind": "choice", "weight": "19,5",
         "options": [{"label": "да", "score": "1 000"}, {"label": "нет", "score": "0"}]}
    )  # fmt: skip
    assert criterion["options"][0]["score"] == 1000 and criterion["weight"] == Decimal("19.5")


def test_openapi_describes_the_accepted_text():
    described = ExactDecimal(places=2).metadata
    assert described["type"] == "string" and "68 500,00" in described["description"]
