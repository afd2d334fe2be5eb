"""Catalog discipline and the one formatter (docs/i18n.md)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal as D
from pathlib import Path

import pytest

import accounts.regions  # noqa: F401  (registers the region names)
from core import formats
from tests.i18n_check import catalog_problems, js_problems, untranslated_english


def test_every_marked_message_has_a_russian_translation():
    problems = catalog_problems("ru")
    assert problems == [], "\n".join(problems)


def test_every_javascript_text_has_a_russian_entry():
    problems = js_problems("ru")
    assert problems == [], "\n".join(problems)


def test_english_javascript_plurals_have_singular_and_plural_forms():
    """en.json holds only the English forms of the plural entries ("with 1 participant"):
    every plural entry of ru.json, with "one" and "other", and nothing else."""
    root = Path(__file__).resolve().parents[2] / "static" / "i18n"
    ru = json.loads((root / "ru.json").read_text("utf-8"))
    en = json.loads((root / "en.json").read_text("utf-8"))
    plural = {key for key, value in ru.items() if isinstance(value, dict)}
    assert set(en) == plural
    for key, forms in en.items():
        assert set(forms) == {"one", "other"}, key
        assert set(re.findall(r"\{\w+\}", forms["one"])) == set(re.findall(r"\{\w+\}", key))
        assert set(re.findall(r"\{\w+\}", forms["other"])) == set(re.findall(r"\{\w+\}", key))
    assert (
        "participant."
        in en["Bidding closed at {at} with {n} participants. The customer now reviews the offers."][
            "one"
        ]
    )


@pytest.mark.parametrize(
    ("lang", "money", "qty", "percent"),
    [
        ("ru", "1\u00a0234\u00a0567,50", "1\u00a0500", "12,46\u00a0%"),
        ("en", "1,234,567.50", "1,500", "12.46%"),
    ],
)
def test_numbers_by_language(lang, money, qty, percent):
    assert formats.money(D("1234567.5"), lang) == money
    assert formats.qty(D("1500.000"), lang) == qty
    assert formats.percent(D("12.46"), lang) == percent
    assert formats.money(None, lang) == formats.qty(None, lang) == ""


def test_floats_are_written_as_they_read():
    # A file of 100 bytes is 0.1 KB, not 0,1000000000000000055511151231 KB (the vault).
    assert formats.qty(round(100 / 1024, 1), "ru") == "0,1"
    assert formats.money(0.1, "en") == "0.10"


def test_currency_sign_in_russian_code_in_english():
    assert formats.currency("RUB", "ru") == "₽" and formats.currency("RUB", "en") == "RUB"
    assert formats.currency("KZT", "ru") == "KZT"


def test_small_and_negative_amounts():
    assert formats.money(D("0.5"), "ru") == "0,50"
    assert formats.money(D("-1234.5"), "ru") == "-1\u00a0234,50"
    assert formats.qty(D("2.500"), "ru") == "2,5"


AT = dt.datetime(2026, 12, 6, 11, 30, 5, tzinfo=dt.UTC)


def test_moments_in_the_tenders_zone_named():
    assert formats.moment(AT, "Europe/Moscow", "ru") == "06.12.2026 14:30 МСК"
    assert formats.moment(AT, "Europe/Moscow", "en") == "06.12.2026 14:30 MSK"
    assert formats.moment(AT, "Asia/Yekaterinburg", "ru") == "06.12.2026 16:30 UTC+5"
    assert formats.moment(AT, "Europe/Moscow", "ru", seconds=True) == "06.12.2026 14:30:05 МСК"
    assert formats.moment(None, "Europe/Moscow") == ""
    assert formats.date(AT, "Asia/Vladivostok") == "06.12.2026"


def test_regions_by_name_never_a_bare_code():
    assert formats.region("78", "ru") == "Санкт-Петербург"
    assert formats.region("7", "ru") == formats.region("07", "ru")
    assert formats.region("66", "en") == "Sverdlovsk Oblast"
    assert formats.region("00", "ru") == "00"  # unknown: as it is


def test_the_scan_finds_english_outside_the_catalog():
    html = (
        '<html><body><h1>Вход</h1><p>Log in</p><button title="Send">Отправить</button>'
        '<a href="mailto:a@b.ru">a@b.ru</a><code>ignored text</code>'
        '<button lang="en" title="English">EN</button></body></html>'
    )
    assert untranslated_english(html) == ["Log in", "Send"]
