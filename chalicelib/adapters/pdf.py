"""PDF rendering of a DocumentContent with reportlab: A4, real text, sober layout.

reportlab is imported on first render, never at import (docs/specs/architecture.md, D8): it costs
cold-start time and most requests never render a PDF (docs/specs/architecture.md, D5: a document is
rendered once, then kept in S3).

The font is Helvetica, one of the 14 standard PDF fonts: nothing is embedded, which keeps a notice
far under 40 KB, and its WinAnsi encoding covers French (é è à ç œ « » ’ and the € sign). What
WinAnsi lacks is mapped before drawing, since reportlab would draw it as a ZapfDingbats box:
the narrow no-break space of `format_number` ("1 234,56") and letters of other alphabets.

Accessibility: the catalog carries /Lang (fr-FR), the metadata carry the title and the viewer is
asked to display it (DisplayDocTitle); text is drawn in reading order. The document is NOT tagged:
open-source reportlab writes no structure tree, so there is no /StructTreeRoot and no /MarkInfo
is claimed.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from chalicelib.services.trainings.documents import (
    REPUBLIC,
    DocumentContent,
    KeyValueBlock,
    TableContent,
)

if TYPE_CHECKING:
    from reportlab.platypus import Flowable

AUTHOR = "Portail stagiaire"
LANGUAGE = "fr-FR"
FONT = "Helvetica"
BOLD_FONT = "Helvetica-Bold"
BLUE_FRANCE = "#000091"  # the DSFR's "bleu France": the portal's own colour, AAA on white
RULE_GREY = "#929292"
HEADER_GREY = "#EEEEEE"
FOOTER_GREY = "#3A3A3A"
MARGIN_MM = 18
FRAME_PADDING = 6  # platypus' default: the text starts this far inside the margins
AMOUNT_COLUMN_MM = 26
LABEL_COLUMN_MM = 60
TABLE_START_MM = 35  # a table's heading, its header row and a few rows

# Beyond WinAnsi: spaces and dashes of French typography, and letters of names met in France
# that have no Unicode decomposition.
_WINANSI_FALLBACKS = {
    "\u202f": "\u00a0",
    "\u2009": " ",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "ı": "i",
}


@cache
def _winansi_char(char: str) -> str:
    try:
        char.encode("cp1252")
        return char
    except UnicodeEncodeError:
        pass
    if char in _WINANSI_FALLBACKS:
        return _WINANSI_FALLBACKS[char]
    # "ő" becomes "o"; what has no decomposition becomes "?": visible, never a black box.
    base = "".join(
        part
        for part in unicodedata.normalize("NFKD", char)
        if not unicodedata.combining(part) and part.encode("cp1252", "ignore")
    )
    return base or "?"


def winansi_text(text: str) -> str:
    """The text as Helvetica can draw it (see the module's docstring)."""
    if text.isascii():
        return text
    return "".join(_winansi_char(char) for char in text)


def _markup(text: str) -> str:
    # Paragraph reads a small XML markup: funder data may contain "&" or "<".
    return escape(winansi_text(text))


class _Styles:
    def __init__(self) -> None:
        from reportlab.lib.enums import TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12)
        self.republic = ParagraphStyle("republic", base, fontName=BOLD_FONT, fontSize=11)
        self.issuer = ParagraphStyle("issuer", base, fontSize=10.5, leading=13, spaceAfter=14)
        self.title = ParagraphStyle(
            "title",
            base,
            fontName=BOLD_FONT,
            fontSize=17,
            leading=21,
            textColor=BLUE_FRANCE,
            spaceAfter=4,
        )
        self.subtitle = ParagraphStyle("subtitle", base, fontSize=10.5, leading=14)
        self.heading = ParagraphStyle(
            "heading",
            base,
            fontName=BOLD_FONT,
            fontSize=11,
            leading=14,
            textColor=BLUE_FRANCE,
            spaceBefore=12,
            spaceAfter=4,
            keepWithNext=1,
        )
        self.table_heading = ParagraphStyle("table_heading", self.heading, keepWithNext=0)
        self.cell = base
        self.cell_bold = ParagraphStyle("cell_bold", base, fontName=BOLD_FONT)
        self.amount = ParagraphStyle("amount", base, alignment=TA_RIGHT)
        self.amount_bold = ParagraphStyle("amount_bold", self.amount, fontName=BOLD_FONT)
        self.closing = ParagraphStyle(
            "closing", base, fontName=BOLD_FONT, fontSize=11, leading=14, spaceBefore=10
        )
        self.note = ParagraphStyle("note", base, fontSize=10.5, leading=14, spaceBefore=10)
        self.verification_heading = ParagraphStyle(
            "verification_heading", self.heading, spaceBefore=0, keepWithNext=0
        )
        self.code = ParagraphStyle(
            "code", base, fontName="Courier-Bold", fontSize=15, leading=20, spaceBefore=2
        )


@cache
def _styles() -> _Styles:
    return _Styles()


def render_pdf(content: DocumentContent) -> bytes:
    """One PDF document, byte-identical for identical content (reportlab's invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = _styles()
    story: list[Flowable] = [
        Paragraph(_markup(REPUBLIC), styles.republic),
        Paragraph(_markup(content.issuer), styles.issuer),
        Paragraph(_markup(content.title), styles.title),
        *(Paragraph(_markup(line), styles.subtitle) for line in content.subtitle),
        Spacer(0, 4),
    ]
    width = A4[0] - 2 * MARGIN_MM * mm
    for block in content.blocks:
        story.append(Paragraph(_markup(block.heading), styles.heading))
        story.append(_key_value_table(block, width))
    for table in content.tables:
        # A long table must start under its heading and run over pages, not be pushed whole to
        # the next page as keepWithNext would do: break only if a few rows would not fit.
        story.append(CondPageBreak(TABLE_START_MM * mm))
        story.append(Paragraph(_markup(table.heading), styles.table_heading))
        story.append(_data_table(table, width))
    story.extend(Paragraph(_markup(line), styles.closing) for line in content.closing)
    story.extend(Paragraph(_markup(line), styles.note) for line in content.notes)
    if content.verification_url:
        story.append(_verification_block(content, width))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_MM * mm,
        rightMargin=MARGIN_MM * mm,
        topMargin=MARGIN_MM * mm,
        bottomMargin=MARGIN_MM * mm + 6 * mm,  # room for the footer
        title=winansi_text(content.title),
        author=AUTHOR,
        creator=AUTHOR,
        subject=winansi_text(content.subject),
        lang=LANGUAGE,
        displayDocTitle=1,
        invariant=1,
    )
    document.build(story, canvasmaker=_numbered_canvas_class())
    return buffer.getvalue()


def _key_value_table(block: KeyValueBlock, width: float) -> Flowable:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    styles = _styles()
    rows = [
        [Paragraph(_markup(label), styles.cell), Paragraph(_markup(value), styles.cell_bold)]
        for label, value in block.items
    ]
    table = Table(
        rows, colWidths=[LABEL_COLUMN_MM * mm, width - LABEL_COLUMN_MM * mm], hAlign="LEFT"
    )
    table.setStyle(TableStyle(_KEY_VALUE_STYLE))
    return table


_KEY_VALUE_STYLE: list[tuple[Any, ...]] = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("TOPPADDING", (0, 0), (-1, -1), 1),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
]


def _data_table(content: TableContent, width: float) -> Flowable:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    styles = _styles()
    numeric = content.numeric_columns
    columns = len(content.header)
    text_columns = columns - len(numeric)
    text_width = (width - len(numeric) * AMOUNT_COLUMN_MM * mm) / max(text_columns, 1)
    widths = [AMOUNT_COLUMN_MM * mm if index in numeric else text_width for index in range(columns)]

    def row(cells: tuple[str, ...], bold: bool) -> list[Paragraph]:
        return [
            Paragraph(
                _markup(cell),
                (styles.amount_bold if bold else styles.amount)
                if index in numeric
                else (styles.cell_bold if bold else styles.cell),
            )
            for index, cell in enumerate(cells)
        ]

    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.5, RULE_GREY),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_GREY),
    ]
    data: list[list[Any]]
    if content.plain:
        rows = [content.header, *content.rows, *([content.totals] if content.totals else [])]
        data = [[winansi_text(cell) for cell in cells] for cells in rows]
        commands += [
            ("FONT", (0, 0), (-1, -1), FONT, styles.cell.fontSize, styles.cell.leading),
            ("FONT", (0, 0), (-1, 0), BOLD_FONT, styles.cell.fontSize, styles.cell.leading),
            *(("ALIGN", (column, 0), (column, -1), "RIGHT") for column in numeric),
            *(
                ("FONT", (0, index + 1), (-1, index + 1), BOLD_FONT, styles.cell.fontSize)
                for index in content.bold_rows
            ),
        ]
    else:
        data = [row(content.header, bold=True), *(row(cells, bold=False) for cells in content.rows)]
        if content.totals is not None:
            data.append(row(content.totals, bold=True))
    if content.totals is not None:
        if content.plain:
            commands.append(
                ("FONT", (0, -1), (-1, -1), BOLD_FONT, styles.cell.fontSize, styles.cell.leading)
            )
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 1.2, "#000000"))
    # repeatRows: a long statement split over pages keeps its column names on each page.
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


QR_SIZE_MM = 32


def _verification_block(content: DocumentContent, width: float) -> Flowable:
    """The code in large letters beside a QR code of the verification page's address: the QR
    code carries the same code, so whoever scans it needs to type nothing."""
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

    styles = _styles()
    size = QR_SIZE_MM * mm
    text = [
        Paragraph(_markup("Vérifier cette attestation"), styles.verification_heading),
        Paragraph(_markup("Code de vérification"), styles.cell),
        Paragraph(_markup(content.verification_code), styles.code),
        Paragraph(_markup(content.verification_url.split("?")[0]), styles.cell),
    ]
    table = Table(
        [[text, _qr_code_class()(content.verification_url, size)]],
        colWidths=[width - size - 8 * mm, size + 8 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 1, BLUE_FRANCE),
                ("LEFTPADDING", (0, 0), (0, 0), 8),
            ]
        )
    )
    return KeepTogether([Spacer(0, 12), table])


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code's dark modules, row by row (error correction M).

    reportlab's QrCodeWidget draws one shape per run of modules and tries the 8 masks, which cost
    about 150 ms; any mask is valid for every reader (ISO/IEC 18004 only recommends the one with
    the lowest penalty), so mask 0 is used and the modules are drawn as one path.
    """
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.version = code.calculate_version()
    code.makeImpl(False, 0)
    return [[bool(module) for module in row] for row in code.modules]


@cache
def _qr_code_class() -> type:
    from reportlab.platypus import Flowable

    class QrCode(Flowable):
        QUIET_ZONE = 4  # modules of white around the code, as the standard asks

        def __init__(self, url: str, size: float) -> None:
            super().__init__()
            self.url = url
            self.size = size

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            return self.size, self.size

        def draw(self) -> None:
            modules = qr_modules(self.url)
            count = len(modules) + 2 * self.QUIET_ZONE
            # One "re" per run of dark modules, in module units, written as literal PDF operators:
            # reportlab's path API formats every number in Python, which doubled the render time.
            runs: list[str] = []
            for row_index, row in enumerate(modules):
                y = count - self.QUIET_ZONE - row_index - 1
                column = 0
                while column < len(row):
                    if not row[column]:
                        column += 1
                        continue
                    run = column
                    while run < len(row) and row[run]:
                        run += 1
                    runs.append(f"{column + self.QUIET_ZONE} {y} {run - column} 1 re")
                    column = run
            canvas = self.canv
            canvas.saveState()
            canvas.setFillColor("#000000")
            canvas.scale(self.size / count, self.size / count)
            canvas.addLiteral("\n".join(runs) + "\nf")
            canvas.restoreState()
            # The same address as a link: a reader of the PDF on a phone taps instead of scanning.
            canvas.linkURL(self.url, (0, 0, self.size, self.size), relative=1)

    return QrCode


@cache
def _numbered_canvas_class() -> type:
    """A canvas that writes « Page n sur N » once N is known, i.e. when the document is saved."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 8.5)
                self.setFillColor(FOOTER_GREY)
                # Aligned on the text above it, which sits inside the frame's padding.
                self.drawString(MARGIN_MM * mm + FRAME_PADDING, 12 * mm, AUTHOR)
                self.drawRightString(
                    self._pagesize[0] - MARGIN_MM * mm - FRAME_PADDING,
                    12 * mm,
                    f"Page {self._pageNumber} sur {total}",
                )
                super().showPage()
            super().save()

    return NumberedCanvas
