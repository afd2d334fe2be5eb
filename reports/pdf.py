"""PDF building blocks on ReportLab: the embedded DejaVu Sans fonts (Cyrillic), styles, number
and time formatting through core.formats in the document's language, and one page template
with a running footer.

No database, no request: the words go through Flask-Babel's gettext (English outside an
application context; the service forces the tender's language). The fonts ship with the
package (reports/fonts, with their licence); system fonts are never used, so a PDF looks the
same on every host.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from core import formats

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_fonts_lock = threading.Lock()
_fonts_ready = False

GRID = colors.HexColor("#9aa3ad")
HEAD = colors.HexColor("#e8ecf0")
BEST = colors.HexColor("#e3f4e1")


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) from the package once per process."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if not _fonts_ready:
            pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
            pdfmetrics.registerFontFamily(
                REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
            )
            _fonts_ready = True


def _style(name: str, size: float, *, bold: bool = False, **extra) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=BOLD if bold else REGULAR,
        fontSize=size,
        leading=size * 1.25,
        **extra,
    )


STYLES = {
    "title": _style("title", 14, bold=True, spaceAfter=2 * mm),
    # a heading never ends a page: it moves with what follows it
    "h2": _style("h2", 11, bold=True, spaceBefore=4 * mm, spaceAfter=1.5 * mm, keepWithNext=1),
    "body": _style("body", 8.5),
    "small": _style("small", 7, textColor=colors.HexColor("#4a5560")),
    "cell": _style("cell", 7.5),
    "cell_bold": _style("cell_bold", 7.5, bold=True),
    "num": _style("num", 7.5, alignment=TA_RIGHT),
    "num_bold": _style("num_bold", 7.5, bold=True, alignment=TA_RIGHT),
    "head": _style("head", 7.5, bold=True),
}


# -- formatting ------------------------------------------------------------------------------


# The PDFs are written in the tender's language (the service renders them under
# flask_babel.force_locale(tender.language)): their words through gettext, their numbers and
# moments through core.formats in the current language, as everywhere (Russian outside an
# application context).


def money(value: Decimal | None) -> str:
    """1234567.5 -> '1 234 567,50' (ru: no-break spaces, decimal comma) / '1,234,567.50'."""
    return "—" if value is None else formats.money(value)


def amount(value: Decimal | None, currency: str) -> str:
    """An amount with its currency: '1 234,50 ₽' (ru) / '1,234.50 RUB' (en)."""
    return "—" if value is None else f"{formats.money(value)}\u00a0{formats.currency(currency)}"


def qty(value: Decimal | None) -> str:
    """A quantity without trailing zeros: 1500.000 -> '1 500', 2.500 -> '2,5'."""
    return "—" if value is None else formats.qty(value)


def score(value: Decimal | None) -> str:
    """A score as stored (exact to 6 places, the numbers the ranking used), without trailing
    zeros and with a decimal comma, as the pages show it: 100.000000 -> '100'."""
    return qty(value)


def percent(value: Decimal | None) -> str:
    """A share in percent, as the pages show it: 12.46 -> '12,46 %'."""
    return "—" if value is None else formats.percent(value)


def local_time(moment: dt.datetime | None, zone: str) -> str:
    """A UTC moment in the tender's zone, to the second, with the zone named:
    '23.11.2026 15:00:00 МСК' (ru) / '... MSK' (en), '... UTC+5' for a zone without a name."""
    if moment is None:
        return "—"
    return formats.moment(moment, zone, seconds=True)


def text(value: object) -> str:
    """Plain text made safe for a Paragraph (which reads a small XML markup)."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


# -- building ----------------------------------------------------------------------------------


def para(value: object, style: str = "body") -> Paragraph:
    """A paragraph of plain (escaped) text."""
    register_fonts()
    return Paragraph(text(value), STYLES[style])


def heading(value: str, level: str = "h2") -> Paragraph:
    """A section heading."""
    register_fonts()
    return Paragraph(text(value), STYLES[level])


def facts(rows: Iterable[tuple[str, object]], widths: tuple[float, float]) -> LongTable:
    """A two-column label/value table."""
    data = [[para(label, "cell_bold"), para(value, "cell")] for label, value in rows]
    table = LongTable(data, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _cell(value: object, style: str, width: float):
    """A plain string when it fits the column on one line (fast to lay out), else a wrapping
    Paragraph."""
    text_value = "" if value is None else str(value)
    st = STYLES[style]
    if "\n" not in text_value and (
        pdfmetrics.stringWidth(text_value, st.fontName, st.fontSize) <= width - 2 * PAD
    ):
        return text_value
    return Paragraph(text(text_value), st)


PAD = 3


def grid(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    *,
    numeric: Iterable[int] = (),
    highlight: Iterable[int] = (),
) -> list[LongTable]:
    """A table with a repeated header row; `numeric` columns right-aligned, `highlight` rows
    (indices into rows) shaded and bold. Cells that fit stay plain strings and long tables
    are cut into chunks (splitting one huge table across pages is quadratic), so a protocol
    of tens of thousands of rows lays out in seconds."""
    register_fonts()
    numeric, marked = set(numeric), set(highlight)
    head = [para(h, "head") for h in header]
    if not rows:
        return [_table([head], widths, numeric, set())]
    tables = []
    for start in range(0, len(rows), CHUNK_ROWS):
        data = [head]
        for i, row in enumerate(rows[start : start + CHUNK_ROWS], start):
            bold = "_bold" if i in marked else ""
            data.append(
                [
                    _cell(cell, ("num" if c in numeric else "cell") + bold, widths[c])
                    for c, cell in enumerate(row)
                ]
            )
        local = {i - start for i in marked if start <= i < start + CHUNK_ROWS}
        tables.append(_table(data, widths, numeric, local))
    return tables


CHUNK_ROWS = 400


def _table(data: list, widths: Sequence[float], numeric: set[int], marked: set[int]):
    table = LongTable(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 1), (-1, -1), REGULAR, STYLES["cell"].fontSize, STYLES["cell"].leading),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
    ]
    style += [("ALIGN", (c, 1), (c, -1), "RIGHT") for c in sorted(numeric)]
    for i in sorted(marked):
        style += [
            ("BACKGROUND", (0, i + 1), (-1, i + 1), BEST),
            ("FONT", (0, i + 1), (-1, i + 1), BOLD, STYLES["cell"].fontSize),
        ]
    table.setStyle(TableStyle(style))
    return table


def spacer(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


def build(
    story: list,
    *,
    title: str,
    subject: str,
    footer: str,
    created: dt.datetime,
    wide: bool = False,
) -> bytes:
    """Lay the story out on A4 pages (landscape when wide) with a footer naming the document
    and the page; returns the PDF bytes. Output is reproducible (no random id; the creation
    date is `created`, not the wall clock), so the same content gives the same hash."""
    register_fonts()
    size = landscape(A4) if wide else A4
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        subject=subject,
        author="Tenders platform",
        creator="Tenders platform (ReportLab)",
        invariant=1,
    )

    stamp = created.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    def _footer(canvas, document):
        # the document's creation and modification dates (invariant mode would say 2000)
        canvas.setDateFormatter(lambda *_: stamp)
        canvas.saveState()
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(colors.HexColor("#4a5560"))
        canvas.drawString(14 * mm, 8 * mm, footer)
        canvas.drawRightString(size[0] - 14 * mm, 8 * mm, _("Page %(n)s", n=document.page))
        canvas.restoreState()

    doc.build(list(_flat(story)), onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _flat(story):
    for item in story:
        if isinstance(item, list | tuple):
            yield from _flat(item)
        else:
            yield item


def usable_width(wide: bool = False) -> float:
    """The text width of a page (A4 minus margins)."""
    size = landscape(A4) if wide else A4
    return size[0] - 28 * mm
