"""The protocol and receipt PDFs rendered from plain data: they open, carry the expected text
(Cyrillic included, from the embedded DejaVu font), are reproducible, and are written in the
language they are rendered in (the service forces the tender's: Russian by default)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from flask import Flask
from flask_babel import force_locale
from pypdf import PdfReader

from core import i18n
from reports import pdf, protocol, receipt

T = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def babel_app():
    """A bare application with the platform's catalogs (no database)."""
    app = Flask(__name__)
    i18n.init_app(app)
    return app


@pytest.fixture(autouse=True)
def english(babel_app):
    """Render in English unless a test forces Russian (as the suite runs in English)."""
    with babel_app.app_context(), force_locale("en"):
        yield


def _text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def _protocol(**overrides) -> protocol.ProtocolData:
    offers = (
        protocol.RankedOffer(1, "ООО «Альфа»", D("90.00"), D("135000.00"), D("97.5")),
        protocol.RankedOffer(2, "АО «Бета»", D("95.00"), D("142500.00"), D("92.1")),
    )
    values = dict(
        number="T-2026-000007",
        title="Поставка кабеля для подстанции «Южная»",
        customer_name="ПАО «Энергосбыт»",
        customer_inn="7700000001",
        currency="RUB",
        vat_mode="included",
        timezone="Europe/Moscow",
        published_at=T - dt.timedelta(days=5),
        original_deadline=T - dt.timedelta(hours=1),
        final_deadline=T - dt.timedelta(minutes=30),
        closed_at=T - dt.timedelta(minutes=30),
        results_published_at=T,
        generated_at=T,
        extensions=(
            protocol.Extension(
                at=T - dt.timedelta(hours=1, minutes=5),
                previous=T - dt.timedelta(hours=1),
                deadline=T - dt.timedelta(minutes=30),
            ),
        ),
        participants=(
            protocol.Participant(1, "ООО «Альфа»", "7700000002", "valid", T, 2, T),
            protocol.Participant(2, "АО «Бета»", "7700000003", "valid", T, 1, T),
            protocol.Participant(3, "ИП Гаврилов", "770000000412", "disqualified", T, 1, T),
        ),
        results=(
            protocol.ItemResult(
                1,
                "Кабель",
                "1",
                "Кабель ВВГнг-LS 3x2.5",
                D("1500"),
                "м",
                D("150000.00"),
                "awarded",
                "ООО «Альфа»",
                D("90.00"),
                D("135000.00"),
                D("97.5"),
                offers,
            ),
            protocol.ItemResult(
                1, "Кабель", "2", "Кабель КВВГ 7x1.5", D("800"), "м", None, "unsuccessful"
            ),
        ),
        disqualifications=(
            protocol.Disqualification("ИП Гаврилов", None, "Не представлена лицензия", T),
        ),
        scored=True,
    )
    values.update(overrides)
    return protocol.ProtocolData(**values)


def test_protocol_has_every_section_in_cyrillic_with_the_zone():
    reader, text = _text(protocol.render(_protocol()))
    for expected in (
        "Results protocol — tender T-2026-000007",
        "Поставка кабеля для подстанции «Южная»",
        "ПАО «Энергосбыт»",
        "ООО «Альфа»",
        "АО «Бета»",
        "ИП Гаврилов",
        "Не представлена лицензия",
        "Кабель ВВГнг-LS 3x2.5",
        "no valid offer: unsuccessful",
        "Extension 1",
        "23.11.2026 14:30:00 MSK",  # the extended deadline, in the tender's zone
        "23.11.2026 13:55:00 MSK",  # when the extending bid came in
        "135,000.00",
        "97.5",  # a score as stored, without trailing zeros (not "97.5000")
        "saving 15,000.00 RUB (10%)",
    ):
        assert expected in text, expected
    assert any("DejaVuSans" in name for name in _fonts(reader))


def test_savings_share_and_scores_read_as_on_the_pages():
    """The share is the web's rule (half up to 0.01) with a decimal comma; scores are exact."""
    offer = protocol.RankedOffer(1, "ООО «Альфа»", D("87.54"), D("131310.00"), D("100.000000"))
    item = _protocol().results[0]
    cheaper = protocol.ItemResult(
        *(item.lot_number, item.lot_title, item.position, item.name, item.quantity, item.unit),
        D("150000.00"),
        "awarded",
        "ООО «Альфа»",
        D("87.54"),
        D("131310.00"),
        D("87.654321"),
        (offer,),
    )
    _, text = _text(protocol.render(_protocol(results=(cheaper,))))
    assert "saving 18,690.00 RUB (12.46%)" in text  # 12.46 %, not 12.5
    assert "87.654321" in text and "100.000000" not in text
    with force_locale("ru"):
        _, text = _text(protocol.render(_protocol(results=(cheaper,))))
    flat = text.replace(NBSP, " ")
    assert "экономия 18 690,00 ₽ (12,46 %)" in flat
    assert "87,654321" in text and "100,000000" not in text


def test_creation_date_is_when_the_document_was_generated():
    reader, _ = _text(protocol.render(_protocol()))
    assert reader.metadata.creation_date == T  # not 01.01.2000


def test_a_heading_never_ends_a_page():
    """Whatever the length of the sections above it, each heading shares its page with the
    start of its section (the "Disqualifications" heading was left alone at a page's end)."""
    item = _protocol().results[1]
    for extra in range(0, 40, 3):
        more = tuple(
            protocol.ItemResult(
                *(item.lot_number, item.lot_title, str(10 + i), f"Позиция {i}", D("1"), "шт"),
                None,
                "unsuccessful",
            )
            for i in range(extra)
        )
        reader, _ = _text(protocol.render(_protocol(results=_protocol().results + more)))
        for page in reader.pages:
            lines = [line for line in page.extract_text().splitlines() if line.strip()]
            assert lines[-2:] != ["Disqualifications", lines[-1]] or "Reason" in lines[-1], extra
            heading_last = [i for i, line in enumerate(lines) if line == "Disqualifications"]
            for i in heading_last:
                assert any("Reason" in line for line in lines[i + 1 :]), (extra, lines[i:])


def test_protocol_is_reproducible_and_changes_with_its_content():
    first = protocol.render(_protocol())
    assert protocol.render(_protocol()) == first
    assert protocol.render(_protocol(title="Другой предмет")) != first


def test_protocol_without_bids():
    _, text = _text(protocol.render(_protocol(participants=(), results=(), disqualifications=())))
    assert "No bids were submitted." in text and "Disqualifications" in text


def test_text_is_escaped_not_interpreted():
    _, text = _text(protocol.render(_protocol(title="<b>ООО</b> & <font>x")))
    assert "<b>ООО</b> & <font>x" in text


def test_protocol_in_russian():
    """The tender's language: every heading, label and status in Russian, money and moments
    in Russian formats (МСК), the Cyrillic font embedded."""
    with force_locale("ru"):
        reader, text = _text(protocol.render(_protocol()))
    flat = " ".join(text.replace(NBSP, " ").split())  # cells wrap
    for expected in (
        "Протокол подведения итогов — закупка T-2026-000007",
        "Заказчик",
        "ПАО «Энергосбыт» (ИНН 7700000001)",
        "цены с НДС",
        "Ход процедуры",
        "Извещение опубликовано",
        "Первоначальный срок окончания подачи заявок",
        "Продление 1",
        "23.11.2026 14:30:00 МСК",
        "Подача заявок завершена",
        "Итоги опубликованы",
        "Участники",
        "допущена",
        "отклонена",
        "Итоги по позициям",
        "Победитель",
        "нет допущенных предложений: не состоялась",
        "Рейтинг предложений",
        "Место",
        "Отклонённые заявки",
        "Основание",
        "Не представлена лицензия",
        "135 000,00",
        "97,5",
        "экономия 15 000,00 ₽ (10 %)",
        "Стр. 1",
    ):
        assert expected in flat, expected
    for english in ("Results protocol", "Participant", "Winner", "Page ", "MSK", "INN"):
        assert english not in text, english
    assert any("DejaVuSans" in name for name in _fonts(reader))


def _receipt() -> receipt.ReceiptData:
    return receipt.ReceiptData(
        tender_number="T-2026-000007",
        tender_title="Поставка кабеля",
        customer_name="ПАО «Энергосбыт»",
        supplier_name="ООО «Альфа»",
        supplier_inn="7700000002",
        currency="RUB",
        timezone="Asia/Yekaterinburg",
        revision=2,
        accepted_at=T,
        revision_hash="a" * 64,
        previous_hash="b" * 64,
        deadline_after=T + dt.timedelta(minutes=30),
        extended=True,
        total=D("173000.00"),
        lines=(
            receipt.ReceiptLine(1, "1", "Кабель ВВГнг-LS", D("1500"), "м", D("90"), D("135000")),
            receipt.ReceiptLine(2, "3", "Муфта концевая", D("40"), "шт", D("950"), D("38000")),
        ),
        criteria=(receipt.ReceiptCriterion(1, "Гарантия", "36", "мес"),),
        signer_email="buyer@alfa.test",
        key_algorithm="ECDSA-P256",
        key_fingerprint="c" * 64,
        supplier_signature="MEUCIQ" + "A" * 90,
        receipt_payload={"type": "bid-receipt", "tender": "T-2026-000007"},
        receipt_signature="MEQCIB" + "B" * 88,
        platform_fingerprint="d" * 64,
    )


def test_receipt():
    data = _receipt()
    _, text = _text(receipt.render(data))
    flat = text.replace("\n", "")
    for expected in (
        "Bid receipt — tender T-2026-000007, revision 2",
        "ООО «Альфа»",
        "Муфта концевая",
        "23.11.2026 17:00:00 UTC+5",  # Yekaterinburg time, zone named by its offset
        "(extended by this revision)",
        "173,000.00 RUB",
        "135,000.00",
        "38,000.00",
        "Гарантия",
        "36 мес",
        "a" * 64,
        "c" * 64,
    ):
        assert expected in flat, expected
    assert receipt.lot_totals(data.lines) == {1: D("135000"), 2: D("38000")}


def test_receipt_in_russian():
    with force_locale("ru"):
        _, text = _text(receipt.render(_receipt()))
    flat = " ".join(text.replace(NBSP, " ").split())
    for expected in (
        "Квитанция о приёме заявки — закупка T-2026-000007, редакция 2",
        "ООО «Альфа» (ИНН 7700000002)",
        "Принята",
        "23.11.2026 17:30:00 UTC+5 (продлён этой редакцией)",
        "173 000,00 ₽",
        "Итого по лотам",
        "Сумма, ₽",
        "Лот 2",
        "Значения критериев",
        "Подписи",
        "Хеш редакции (SHA-256)",
        "Подпись площадки",
    ):
        assert expected in flat, expected
    assert "Bid receipt" not in flat and "Supplier" not in flat


def test_formatting():
    assert pdf.money(D("1234567.5")) == "1,234,567.50"
    assert pdf.local_time(T, "Europe/Moscow") == "23.11.2026 15:00:00 MSK"
    assert pdf.local_time(None, "Europe/Moscow") == "—"
    with force_locale("ru"):
        assert pdf.money(D("1234567.5")) == "1\u00a0234\u00a0567,50"
        assert pdf.qty(D("1500.000")) == "1\u00a0500"
        assert pdf.amount(D("1234.5"), "RUB") == "1\u00a0234,50\u00a0₽"
        assert pdf.percent(D("12.46")) == "12,46\u00a0%"
        assert pdf.local_time(T, "Europe/Moscow") == "23.11.2026 15:00:00 МСК"
