"""PDF rendering of issued documents (certificates, career statements, tax statements).

Every document carries the fund's letterhead on each page, its content (sections of
label/value rows and paragraphs, plus an optional data table that flows over several
pages with its header row repeated), a verification box (QR code of the public
verification URL, the verification code, the URL and a sentence) and a footer on each
page with the verification code and "Page x of y".

Rendering is CPU-bound and synchronous: from eventlet services run it through
`services.kit.offload.off_loop` (eventlet's native thread pool). The verification code
itself is made and read by `services.kit.pdf.verification`.

Text is drawn with the PDF standard fonts (Helvetica, Courier), which cover Latin-1 /
Windows-1252 (French, German, Spanish, Italian, Portuguese...). Characters outside that
set never break rendering but are not drawn faithfully.
"""

from __future__ import annotations

import datetime
import functools
import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

# ---------------------------------------------------------------------------
# Document model
# ---------------------------------------------------------------------------

_LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class DocumentSection:
    """A titled block: label/value pairs (two-column table) then free paragraphs."""

    heading: str
    rows: Sequence[tuple[str, str]] = ()
    paragraphs: Sequence[str] = ()


@dataclass(frozen=True)
class IssuedDocument:
    """Content of one issued document. ``issued_at`` must be timezone-aware."""

    title: str
    holder_name: str
    sections: Sequence[DocumentSection]
    verification_code: str
    verification_url: str
    issued_at: datetime.datetime
    language: str = "en"
    table: Sequence[Sequence[str]] | None = None

    def __post_init__(self) -> None:
        if self.language not in _LANGUAGES:
            raise ValueError(f"language must be one of {_LANGUAGES}, got {self.language!r}")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be a timezone-aware datetime")


@dataclass(frozen=True)
class Letterhead:
    """Header printed at the top of every page."""

    organisation: str = "Caisses Sociales de Monaco"
    address_lines: tuple[str, ...] = ("11, rue Louis Notari", "98000 Monaco")
    service_name: str = "Member Space"


# ---------------------------------------------------------------------------
# Labels, text helpers
# ---------------------------------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "verification_code": "Verification code",
        "issued_on": "Issued on",
        "page": "Page {page} of {total}",
        "holder": "Holder",
        "verification_heading": "Document verification",
        "verification_sentence": (
            "Check this document's authenticity at {url} by entering the verification "
            "code, or scan the QR code."
        ),
    },
    "fr": {
        "verification_code": "Code de vérification",
        "issued_on": "Délivré le",
        "page": "Page {page} sur {total}",
        "holder": "Titulaire",
        "verification_heading": "Vérification du document",
        "verification_sentence": (
            "Vérifiez l'authenticité de ce document sur {url} à l'aide du code de "
            "vérification, ou scannez le QR code."
        ),
    },
}

_MONACO = ZoneInfo("Europe/Monaco")
_FONT_ENCODING = "cp1252"  # WinAnsiEncoding, used by reportlab for the standard fonts


def _format_issued_at(value: datetime.datetime) -> str:
    return value.astimezone(_MONACO).strftime("%d/%m/%Y %H:%M")


def _clean(text: object) -> str:
    """Stringify and drop control characters (except newline and tab)."""
    s = "" if text is None else str(text)
    return "".join(ch for ch in s if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


# Letters without a Unicode decomposition that still have an obvious Latin-1 fallback.
_FOLD_EXTRA = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}


def _fold_char(ch: str) -> str:
    if ch in _FOLD_EXTRA:
        return _FOLD_EXTRA[ch]
    try:
        ch.encode(_FONT_ENCODING)
        return ch
    except UnicodeEncodeError:
        pass
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    try:
        base.encode(_FONT_ENCODING)
        return base or "?"
    except UnicodeEncodeError:
        return "?"


def _printable(text: object) -> str:
    """Clean text and fold characters the standard fonts cannot draw (``ś`` -> ``s``)."""
    s = _clean(text)
    if not s.isascii():
        s = "".join(_fold_char(ch) for ch in s)
    return s


def _markup(text: object) -> str:
    """Escape user text for reportlab Paragraph markup; newlines become line breaks."""
    s = _printable(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return escape(s).replace("\n", "<br/>")


def _attr(text: object) -> str:
    """Escape text for use inside a double-quoted markup attribute."""
    return escape(_printable(text).replace("\n", " "), {'"': "&quot;"})


# ---------------------------------------------------------------------------
# Page decorations
# ---------------------------------------------------------------------------

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN_X = 20 * mm
_HEADER_TOP = 15 * mm  # distance from top edge to the organisation baseline
_FOOTER_BOTTOM = 12 * mm  # distance from bottom edge to the footer baseline
_RULE_COLOR = colors.HexColor("#1F3A5F")
_MUTED = colors.HexColor("#555555")
_HEADER_BG = colors.HexColor("#E4EAF2")
_STRIPE_BG = colors.HexColor("#F5F7FA")
_GRID = colors.HexColor("#B8C2CF")


def _header_height(letterhead: Letterhead) -> float:
    """Vertical space (from the top edge) used by the header, rule included."""
    return _HEADER_TOP + len(letterhead.address_lines) * 10 + 8


def _draw_header(canv: Canvas, letterhead: Letterhead) -> None:
    canv.saveState()
    top = _PAGE_HEIGHT - _HEADER_TOP
    canv.setFillColor(_RULE_COLOR)
    canv.setFont("Helvetica-Bold", 12)
    canv.drawString(_MARGIN_X, top, _printable(letterhead.organisation))
    canv.setFont("Helvetica", 9)
    canv.drawRightString(_PAGE_WIDTH - _MARGIN_X, top, _printable(letterhead.service_name))
    canv.setFillColor(_MUTED)
    canv.setFont("Helvetica", 8)
    y = top
    for line in letterhead.address_lines:
        y -= 10
        canv.drawString(_MARGIN_X, y, _printable(line))
    rule_y = _PAGE_HEIGHT - _header_height(letterhead) + 2
    canv.setStrokeColor(_RULE_COLOR)
    canv.setLineWidth(0.6)
    canv.line(_MARGIN_X, rule_y, _PAGE_WIDTH - _MARGIN_X, rule_y)
    canv.restoreState()


def _draw_footer(document: IssuedDocument, canv: Canvas, page: int, total: int) -> None:
    labels = _LABELS[document.language]
    canv.saveState()
    rule_y = _FOOTER_BOTTOM + 10
    canv.setStrokeColor(_GRID)
    canv.setLineWidth(0.4)
    canv.line(_MARGIN_X, rule_y, _PAGE_WIDTH - _MARGIN_X, rule_y)
    canv.setFillColor(_MUTED)
    canv.setFont("Helvetica", 8)
    left = (
        f"{labels['verification_code']}: {_printable(document.verification_code)}"
        f"  \u2022  {labels['issued_on']} {_format_issued_at(document.issued_at)}"
    )
    canv.drawString(_MARGIN_X, _FOOTER_BOTTOM, left)
    canv.drawRightString(
        _PAGE_WIDTH - _MARGIN_X,
        _FOOTER_BOTTOM,
        labels["page"].format(page=page, total=total),
    )
    canv.restoreState()


class _NumberedCanvas(Canvas):
    """Canvas that defers page output so each footer can show the total page count."""

    def __init__(
        self, *args: object, footer: Callable[[Canvas, int, int], None], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_states: list[dict[str, object]] = []

    def _defer_page(self) -> None:
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    showPage = _defer_page  # reportlab's (camelCase) API

    def save(self) -> None:
        total = len(self._page_states)
        for number, state in enumerate(self._page_states, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


# ---------------------------------------------------------------------------
# Flowables
# ---------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "kit-body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=13
    )
    return {
        "title": ParagraphStyle(
            "kit-title",
            parent=base["Title"],
            fontName="Helvetica-Bold",
            fontSize=18,
            leading=22,
            alignment=TA_LEFT,
            textColor=_RULE_COLOR,
            spaceAfter=4,
        ),
        "meta": ParagraphStyle("kit-meta", parent=body, textColor=_MUTED, spaceAfter=2),
        "heading": ParagraphStyle(
            "kit-heading",
            parent=base["Heading2"],
            fontName="Helvetica-Bold",
            fontSize=12,
            leading=15,
            textColor=_RULE_COLOR,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=True,
        ),
        "body": body,
        "label": ParagraphStyle("kit-label", parent=body, fontName="Helvetica-Bold"),
        "cell": ParagraphStyle("kit-cell", parent=body, fontSize=9, leading=11),
        "cell_head": ParagraphStyle(
            "kit-cell-head", parent=body, fontName="Helvetica-Bold", fontSize=9, leading=11
        ),
        "code": ParagraphStyle(
            "kit-code",
            parent=body,
            fontName="Courier-Bold",
            fontSize=18,
            leading=24,
            spaceAfter=4,
        ),
        "small": ParagraphStyle("kit-small", parent=body, fontSize=8, leading=10),
    }


def _rows_table(
    rows: Sequence[tuple[str, str]], styles: dict[str, ParagraphStyle], width: float
) -> Table:
    data = [
        [Paragraph(_markup(label), styles["label"]), Paragraph(_markup(value), styles["body"])]
        for label, value in rows
    ]
    table = Table(data, colWidths=[width * 0.38, width * 0.62], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, _GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _data_table(
    rows: Sequence[Sequence[str]], styles: dict[str, ParagraphStyle], width: float
) -> Table | None:
    rows = [list(row) for row in rows]
    if not rows:
        return None
    ncols = max(len(row) for row in rows)
    if ncols == 0:
        return None
    data = []
    for index, row in enumerate(rows):
        style = styles["cell_head"] if index == 0 else styles["cell"]
        padded = row + [""] * (ncols - len(row))
        data.append([Paragraph(_markup(cell), style) for cell in padded])
    table = Table(data, colWidths=[width / ncols] * ncols, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _STRIPE_BG]),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, _RULE_COLOR),
                ("BOX", (0, 0), (-1, -1), 0.4, _GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _qr_drawing(value: str, size: float) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M", barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def _verification_box(
    document: IssuedDocument, styles: dict[str, ParagraphStyle], width: float
) -> Flowable:
    labels = _LABELS[document.language]
    qr_size = 30 * mm
    url = _clean(document.verification_url)
    link = f'<link href="{_attr(url)}" color="#1F3A5F">{_markup(url)}</link>'
    text = [
        Paragraph(f"<b>{_markup(labels['verification_heading'])}</b>", styles["body"]),
        Spacer(1, 2 * mm),
        Paragraph(_markup(labels["verification_code"]), styles["small"]),
        Paragraph(_markup(document.verification_code), styles["code"]),
        Paragraph(
            _markup(labels["verification_sentence"]).replace("{url}", link),
            styles["small"],
        ),
    ]
    box = Table(
        [[_qr_drawing(url, qr_size), text]],
        colWidths=[qr_size + 6 * mm, width - qr_size - 6 * mm],
        hAlign="LEFT",
    )
    box.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.8, _RULE_COLOR),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return KeepTogether([Spacer(1, 8 * mm), box])


def _story(document: IssuedDocument, width: float) -> list[Flowable]:
    labels = _LABELS[document.language]
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(_markup(document.title), styles["title"]),
        Paragraph(
            f"{_markup(labels['holder'])}: <b>{_markup(document.holder_name)}</b>",
            styles["meta"],
        ),
        Paragraph(
            f"{_markup(labels['issued_on'])} {_format_issued_at(document.issued_at)}",
            styles["meta"],
        ),
        Spacer(1, 4 * mm),
    ]
    for section in document.sections:
        story.append(Paragraph(_markup(section.heading), styles["heading"]))
        if section.rows:
            story.append(_rows_table(section.rows, styles, width))
        for paragraph in section.paragraphs:
            story.append(Spacer(1, 2 * mm))
            story.append(Paragraph(_markup(paragraph), styles["body"]))
    if document.table is not None:
        table = _data_table(document.table, styles, width)
        if table is not None:
            story.append(Spacer(1, 6 * mm))
            story.append(table)
    story.append(_verification_box(document, styles, width))
    return story


# ---------------------------------------------------------------------------
# Public rendering API
# ---------------------------------------------------------------------------


def render_pdf(document: IssuedDocument, letterhead: Letterhead = Letterhead()) -> bytes:
    """Render ``document`` as an A4 PDF and return its bytes (blocking, CPU-bound)."""
    buffer = io.BytesIO()
    top_margin = _header_height(letterhead) + 6 * mm
    bottom_margin = _FOOTER_BOTTOM + 10 + 6 * mm
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=top_margin,
        bottomMargin=bottom_margin,
        title=_clean(document.title),
        author=_clean(letterhead.organisation),
        subject=_clean(document.verification_code),
        creator=_clean(letterhead.service_name),
        keywords=[_clean(document.verification_code)],
        lang=document.language,
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="content",
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                id="page",
                frames=[frame],
                onPage=lambda canv, _doc: _draw_header(canv, letterhead),
            )
        ]
    )
    doc.build(
        _story(document, doc.width),
        canvasmaker=functools.partial(
            _NumberedCanvas, footer=functools.partial(_draw_footer, document)
        ),
    )
    return buffer.getvalue()

