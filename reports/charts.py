"""The results protocol's price charts, drawn with ReportLab's graphics: per lot, the lot's
total over the bidding (the best, and every participant's), one step per change, the
deadline's extensions marked. No database (reports.service gathers the data)."""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.graphics.charts.legends import LineLegend, LineSwatch
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether

from reports import pdf

# Best: thick green; participants: distinct colours and dashes (readable in grey print).
BEST = (colors.HexColor("#1e7b34"), 2.2, None)
PARTICIPANTS = (
    (colors.HexColor("#1f5fa8"), 1.2, (4, 2)),
    (colors.HexColor("#8250df"), 1.2, None),
    (colors.HexColor("#bf3989"), 1.2, (1, 2)),
    (colors.HexColor("#9a6700"), 1.2, (6, 2, 1, 2)),
    (colors.HexColor("#0a7ea4"), 1.2, (3, 3)),
    (colors.HexColor("#57606a"), 1.2, (8, 3)),
)
EXTENSION = colors.HexColor("#9a6700")


def price_charts(charts, zone: str, width: float) -> list:
    """The protocol's "Price history" section: a caption and a chart per lot."""
    if not charts:
        return []
    story = [pdf.heading(_("Price history"))]
    for chart in charts:
        what = (
            _("the total of each offer")
            if chart.kind == "whole_lot"
            else _("the lot at the best price of each position, and each offer's total")
        )
        caption = pdf.para(
            _(
                "Lot %(number)s «%(title)s»: %(what)s; one step per change, dotted lines "
                "mark extensions of the deadline.",
                number=chart.lot_number,
                title=chart.lot_title,
                what=what,
            ),
            "small",
        )
        body = drawing(chart, zone, width) if chart.moments else pdf.para(_("No offers."))
        story.append(KeepTogether([caption, body]))
    return story


def _runs(values) -> list[list[tuple[float, float]]]:
    """A step line as runs of points (x = the change's index, the value held until the
    next change); a moment without an offer splits the line."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        current += [(i, float(value)), (i + 1, float(value))]
    if current:
        runs.append(current)
    return runs


def drawing(chart, zone: str, width: float, height: float = 62 * mm) -> Drawing:
    """One lot's chart (values as floats: only drawn; the numbers are in the tables)."""
    pdf.register_fonts()
    d = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 28 * mm, 16 * mm
    plot.width, plot.height = width - 32 * mm, height - 32 * mm
    lines = [(line, _runs(line.values)) for line in chart.lines]
    # LinePlot draws connected points; a gap (no offer) splits a line into runs.
    data, styles = [], []
    participant = 0
    for line, runs in lines:
        style = BEST if line.role == "best" else PARTICIPANTS[participant % len(PARTICIPANTS)]
        if line.role != "best":
            participant += 1
        for run in runs:
            data.append(run)
            styles.append(style)
    if not data:
        d.add(String(width / 2, height / 2, _("No offers."), fontName=pdf.REGULAR, fontSize=9))
        return d
    plot.data = data
    for i, (colour, stroke, dash) in enumerate(styles):
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = stroke
        if dash:
            plot.lines[i].strokeDashArray = dash
    plot.joinedLines = 1
    n = len(chart.moments)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, n
    plot.xValueAxis.visibleLabels = 0
    plot.xValueAxis.visibleTicks = 0
    values = [y for run in data for _, y in run]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(1.0, abs(high) * 0.05)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = low - pad, high + pad
    plot.yValueAxis.labels.fontName = pdf.REGULAR
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.labelTextFormat = lambda v: pdf.money(_decimal(v))
    plot.yValueAxis.visibleGrid = 1
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#e1e4e8")
    d.add(plot)
    for index in chart.extensions:
        x = plot.x + plot.width * index / n
        d.add(
            Line(x, plot.y, x, plot.y + plot.height, strokeColor=EXTENSION, strokeDashArray=(1, 2))
        )
    first, last = pdf.local_time(chart.moments[0], zone), pdf.local_time(chart.moments[-1], zone)
    d.add(String(plot.x, plot.y - 9, first, fontName=pdf.REGULAR, fontSize=7))
    d.add(
        String(
            plot.x + plot.width,
            plot.y - 9,
            last,
            fontName=pdf.REGULAR,
            fontSize=7,
            textAnchor="end",
        )
    )
    d.add(_legend(chart, plot, height))
    return d


def _decimal(value: float):
    from decimal import Decimal

    return Decimal(f"{value:.2f}")


def _swatch(colour, stroke: float, dash) -> LineSwatch:
    swatch = LineSwatch()
    swatch.strokeColor, swatch.strokeWidth = colour, stroke
    if dash:
        swatch.strokeDashArray = dash
    return swatch


def _legend(chart, plot, height: float) -> LineLegend:
    """Above the plot, one row while it fits (else two), each line with its dash."""
    legend = LineLegend()
    legend.fontName, legend.fontSize = pdf.REGULAR, 7
    legend.alignment = "right"
    pairs = []
    participant = 0
    for line in chart.lines:
        if line.role == "best":
            style = BEST
        else:
            style = PARTICIPANTS[participant % len(PARTICIPANTS)]
            participant += 1
        pairs.append((_swatch(*style), line.label[:48]))
    if chart.extensions:
        pairs.append((_swatch(EXTENSION, 1, (1, 2)), _("extension of the deadline")))
    widest = max(stringWidth(name, pdf.REGULAR, 7) for _, name in pairs)
    legend.dx, legend.dy = 18, 6
    legend.deltax = widest + legend.dx + 14
    rows = 1 if legend.deltax * len(pairs) <= plot.width else 2
    legend.columnMaximum = rows
    legend.deltay = 9
    legend.x, legend.y = plot.x, height - 3 * mm
    legend.colorNamePairs = pairs
    return legend
