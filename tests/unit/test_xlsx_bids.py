"""Excel bids, pure (issue 23): the .xlsx template, workbooks written by the template code
and by openpyxl read through the CSV checks, every problem with its cell, hostile files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from bids.csv_bids import CsvRefused, CurrentLine, parse_bid
from bids.xlsx_bids import template
from positions.xlsx_rules import cell_ref, cell_text, column_letter
from tests.unit.test_csv_bids import SHEET

D = Decimal
CURRENT = {
    "1": CurrentLine(D("90.10"), D("135150.00"), "=цена с НДС"),
    "3": CurrentLine(D("12.00"), D("30.00")),
}


def book_of(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def new_book(rows: list[list], title: str = "Лист1") -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return book


HEADER = ["№ позиции", "Лот", "Количество", "Цена за единицу", "Примечание"]


def problems(data: bytes, **kwargs) -> dict[str, str]:
    parsed = parse_bid(data, SHEET, **kwargs)
    return {p.cell: p.message for p in parsed.problems}


# --------------------------------------------------------------------------- the template


def test_template_layout_protection_validation_and_instructions():
    book = book_of(template(SHEET, current=CURRENT))
    assert book.sheetnames == ["Предложение", "Инструкция"]
    sheet = book["Предложение"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "Закупка",
        "Лот",
        "№ позиции",
        "Наименование",
        "Ед. изм.",
        "Количество",
        "Макс. цена за единицу",
        "Цена за единицу",
        "Примечание",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.protection.sheet and not sheet.protection.password
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["B"].width
    assert [c.value for c in sheet[2]] == [
        "T-2026-000123",
        1,
        "1",
        'Кабель ВВГнг-LS 3х2,5 "Энергия"; бухта',
        "м",
        1500,
        95.5,
        90.1,
        "=цена с НДС",
    ]
    # Text that looks like a formula stays text (quote prefix), in positions and notes.
    assert sheet["D3"].value == '=HYPERLINK("http://evil")' and sheet["D3"].data_type == "s"
    assert sheet["D3"].quotePrefix and sheet["I2"].quotePrefix
    assert sheet["H2"].number_format == "#,##0.00" and sheet["F4"].number_format == "#,##0.000"
    assert sheet["C2"].number_format == "@"
    assert sheet["A2"].protection.locked and sheet["F2"].protection.locked
    assert not sheet["H2"].protection.locked and not sheet["H5"].protection.locked
    assert not sheet["I5"].protection.locked
    (validation,) = sheet.data_validations.dataValidation
    assert (validation.type, validation.operator, validation.formula1) == (
        "decimal",
        "greaterThanOrEqual",
        "0",
    )
    assert str(validation.sqref) == "H2:H7"
    assert "Цена за единицу" in book["Инструкция"]["A3"].value


def test_template_total_variant_per_lot_in_english():
    book = book_of(template(SHEET, "total", lot=2, current=CURRENT, language="en"))
    sheet = book["Bid"]
    assert [c.value for c in sheet[1]][-2:] == ["Total price", "Note"]
    assert [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["4", "5"]
    assert book.sheetnames == ["Bid", "Instructions"]


def test_template_round_trips_unchanged():
    for variant in ("unit", "total"):
        parsed = parse_bid(template(SHEET, variant, current=CURRENT), SHEET, current=CURRENT)
        assert parsed.problems == []
        assert parsed.encoding == "xlsx" and parsed.sheet_name == "Предложение"
        assert {n: (p.unit_price, p.note) for n, p in parsed.lines.items()} == {
            "1": (D("90.10"), "=цена с НДС"),
            "3": (D("12.00"), ""),
        }
        assert parsed.cleared == ["2", "4", "5", "6.1"] and parsed.covered_lots == [1, 2, 3]


def test_template_filled_with_openpyxl():
    book = book_of(template(SHEET, lot=1))
    sheet = book.active
    sheet["H2"] = 91.5  # a number
    sheet["H3"] = "1 234,56"  # Russian-formatted text
    sheet["H4"] = "=2*6"  # a formula: openpyxl stores no cached value
    parsed = parse_bid(saved(book), SHEET)
    assert {n: p.unit_price for n, p in parsed.lines.items()} == {
        "1": D("91.5"),
        "2": D("1234.56"),
    }
    assert parsed.covered_lots == [1] and parsed.cleared == ["3"]


def test_formula_cells_are_read_by_their_cached_values():
    data = template(SHEET, lot=1)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index('<row r="2"')
    for _ in range(8):  # the 8th cell of row 2, H2 (the cells leave out their references)
        start = sheet.index("<c ", start + 1)
    end = sheet.index("/>", start) + 2
    style = sheet[start:end].split('s="')[1].split('"')[0]
    sheet = sheet[:start] + f'<c r="H2" s="{style}"><f>G2*0.9</f><v>85.95</v></c>' + sheet[end:]
    files["xl/worksheets/sheet1.xml"] = sheet.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    parsed = parse_bid(out.getvalue(), SHEET)
    assert parsed.problems == [] and parsed.lines["1"].unit_price == D("85.95")


# --------------------------------------------------------------------------- problems


def test_every_problem_names_its_cell():
    book = new_book(
        [
            [],  # a blank first row: the header is the first row with data
            HEADER,
            ["1", 1, 1500, 100, ""],  # above the maximum 95.50
            ["2", 2, 800, "12,5", ""],  # wrong lot
            ["3", 1, 3, "abc", ""],  # quantity changed, price not a number
            ["9", 1, 1, 5, ""],  # unknown position
        ]
    )
    found = problems(saved(book))
    assert set(found) == {"Лист1!D3", "Лист1!B4", "Лист1!C5", "Лист1!D5", "Лист1!A6"}
    assert "above the maximum unit price 95,50" in found["Лист1!D3"]
    assert "not in lot 2" in found["Лист1!B4"]
    assert "not a number" in found["Лист1!D5"]


def test_dates_in_price_cells_are_problems_saying_so():
    book = new_book([HEADER, ["1", 1, 1500, dt.datetime(2026, 3, 5), ""]])
    book.active["D2"].number_format = "dd.mm.yyyy"
    found = problems(saved(book))
    assert list(found) == ["Лист1!D2"]
    assert "'05.03.2026' is not a number" in found["Лист1!D2"]
    assert "holds a date" in found["Лист1!D2"]


def test_merged_cells_under_the_header_are_problems():
    book = new_book([["№ позиции", "Цена за единицу"], ["1", 90], ["3", None]])
    book.active.merge_cells("C1:D1")  # in the header row: fine
    book.active.merge_cells("B2:B3")  # one price for two positions: refused
    found = problems(saved(book))
    assert list(found) == ["Лист1!B2:B3"] and "merged" in found["Лист1!B2:B3"]


def test_the_template_sheet_is_read_whichever_sheet_comes_first():
    book = book_of(template(SHEET, lot=1, current=CURRENT))
    book.move_sheet("Инструкция", offset=-1)
    assert book.sheetnames[0] == "Инструкция"
    assert parse_bid(saved(book), SHEET, current=CURRENT).problems == []


def test_wrong_sheet_is_refused_naming_it():
    book = new_book([["Как заполнить"], ["Цены на втором листе"]], title="Инструкция")
    book.create_sheet("Цены").append(HEADER)
    with pytest.raises(CsvRefused, match="Sheet 'Инструкция': Row 1 holds no known column"):
        parse_bid(saved(book), SHEET)


def test_sheet_names_are_quoted_in_references_when_needed():
    assert cell_ref("Лист1", 12, 5) == "Лист1!F12"
    assert cell_ref("My prices", 3, 27) == "'My prices'!AB3"
    assert cell_ref("O'Neil", 3, None) == "'O''Neil'!3:3"
    assert column_letter(701) == "ZZ" and column_letter(702) == "AAA"
    assert cell_text(1e-05) == "0.00001" and cell_text(12.0) == "12" and cell_text(True) == "TRUE"


# --------------------------------------------------------------------------- hostile files


def test_xls_and_encrypted_workbooks_are_refused_clearly():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(CsvRefused, match=r"Excel 97-2003 workbook \(\.xls\)"):
        parse_bid(ole + b"Workbook".decode().encode("utf-16-le"), SHEET)
    encrypted = ole + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(CsvRefused, match="protected with a password"):
        parse_bid(encrypted, SHEET)


def test_macro_workbooks_are_refused():
    data = template(SHEET, lot=1)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/vbaProject.bin", b"\x00" * 64)
    with pytest.raises(CsvRefused, match=r"contains macros \(\.xlsm\)"):
        parse_bid(out.getvalue(), SHEET)


def _bomb(declared_honestly: bool) -> bytes:
    data = template(SHEET, lot=1)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                # 64 MB of spaces before the root element's end: deflates to ~64 KB
                text = content.decode()
                content = (text[:-12] + " " * (64 * 1024 * 1024) + text[-12:]).encode()
                size = len(content)
            target.writestr(info.filename, content, zipfile.ZIP_DEFLATED)
    raw = out.getvalue()
    if not declared_honestly:  # the central directory claims 1 KB for the big member
        big = size.to_bytes(4, "little")
        assert raw.count(big) == 2  # the local header and the central directory
        raw = raw.replace(big, (1024).to_bytes(4, "little"))
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1024
    return raw


@pytest.mark.parametrize(
    ("honest", "message"),
    [
        (True, "unpacks to more than 16 MB"),
        # Inflating stops at the size declared, and the member then fails its CRC check.
        (False, "archive is damaged"),
    ],
)
def test_zip_bombs_are_refused_before_reading(honest, message):
    data = _bomb(honest)
    assert len(data) < 1024 * 1024
    with pytest.raises(CsvRefused, match=message):
        parse_bid(data, SHEET, max_unzipped=16 * 1024 * 1024)


def test_too_many_rows_are_refused_before_the_rows_are_read():
    book = new_book([HEADER])
    sheet = book.active
    for i in range(50_001):
        sheet.append(["1", None, None, None, None] if i == 0 else [None])
    sheet.cell(50_002, 1, "x")
    with pytest.raises(CsvRefused, match="50001 rows under the first one; the limit is 50000"):
        parse_bid(saved(book), SHEET)


def test_damaged_archives_and_other_zip_files_are_refused():
    with pytest.raises(CsvRefused, match="damaged ZIP archive"):
        parse_bid(b"PK\x03\x04" + b"\x00" * 100, SHEET)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<office/>")
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    with pytest.raises(CsvRefused, match=r"OpenDocument spreadsheet \(\.ods\)"):
        parse_bid(out.getvalue(), SHEET)
