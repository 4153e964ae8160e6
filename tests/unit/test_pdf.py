"""The rendered PDF: real French text read back with pypdf, metadata, language, size, stability."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from chalicelib.adapters.pdf import render_pdf, winansi_text
from chalicelib.services.trainings.documents import (
    DocumentContent,
    end_of_training_content,
    funding_decision_content,
)
from tests.unit.test_documents import (
    FUNDER,
    PORTAL_ADDRESS,
    absence_payment,
    december_payment,
    guide_dossier,
    guide_notice,
    guide_payment,
)

MAX_NOTICE_BYTES = 40 * 1024  # performance.md


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def drawn(text: str) -> str:
    """The text as read back: Helvetica's no-break space (which does keep "144,85 €" on one line)
    is drawn with the space glyph, and pypdf reads a plain space."""
    return winansi_text(text).replace("\u00a0", " ")


def every_value(content: DocumentContent) -> list[str]:
    texts = [content.title, content.issuer, *content.subtitle, *content.closing]
    for block in content.blocks:
        texts += [block.heading, *(text for item in block.items for text in item)]
    for table in content.tables:
        texts += [table.heading, *table.header, *(cell for row in table.rows for cell in row)]
        texts += list(table.totals or ())
    return [drawn(text) for text in texts if text]


@pytest.fixture(scope="module")
def notice_pdf() -> bytes:
    return render_pdf(guide_notice())


def test_the_notice_is_real_text_holding_every_value_of_its_content(notice_pdf: bytes) -> None:
    reader, text = read(notice_pdf)
    for expected in [
        "RÉPUBLIQUE FRANÇAISE",
        "IDF-2017-000123",
        "Du 16/10/2017 au 31/10/2017",
        "Rémunération : 310,39 x 14 / 30",
        "144,85",
        "TOTAUX",
        "€",
        "Page 1 sur 1",
        *every_value(guide_notice()),
    ]:
        assert expected in text
    assert len(reader.pages) == 1


def test_the_euro_sign_is_drawn_in_helvetica_not_as_a_substitute_glyph(notice_pdf: bytes) -> None:
    reader, text = read(notice_pdf)
    assert "Montant net payé : 144,85 €" in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    base_fonts = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert base_fonts == {"/Helvetica", "/Helvetica-Bold"}  # standard fonts: nothing embedded


def test_the_notice_carries_its_title_author_subject_and_language(notice_pdf: bytes) -> None:
    reader, _ = read(notice_pdf)
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Avis de paiement"
    assert metadata.author == "Portail stagiaire"
    assert metadata.creator == "Portail stagiaire"
    assert metadata.subject == "Avis de paiement IDF-P-2018-0003, dossier IDF-2017-000123"
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "fr-FR"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    # Open-source reportlab writes no structure tree: claiming a tagged PDF would be false.
    assert "/StructTreeRoot" not in catalog
    assert "/MarkInfo" not in catalog


def test_the_notice_is_small_and_reproducible(notice_pdf: bytes) -> None:
    assert len(notice_pdf) <= MAX_NOTICE_BYTES
    assert render_pdf(guide_notice()) == notice_pdf


def test_a_thousands_separator_never_becomes_a_missing_glyph_box() -> None:
    # Helvetica's encoding has no narrow no-break space: reportlab would fall back to a
    # ZapfDingbats square. It is drawn as a no-break space instead.
    assert winansi_text("1\u202f234,50\u00a0€") == "1\u00a0234,50\u00a0€"
    assert winansi_text("Łukasz Wałęsa Őrs Ωmega") == "Lukasz Walesa Ors ?mega"
    content = end_of_training_content(
        guide_dossier(family_name="DUPONT & FILS <SARL>"), FUNDER, [guide_payment()]
    )
    pdf = render_pdf(content)
    _, text = read(pdf)
    assert b"ZapfDingbats" not in pdf
    assert "DUPONT & FILS <SARL>" in text


def test_the_decision_and_the_statement_render_every_value() -> None:
    for content in [
        funding_decision_content(guide_dossier(), FUNDER, PORTAL_ADDRESS),
        end_of_training_content(
            guide_dossier(), FUNDER, [guide_payment(), absence_payment(), december_payment()]
        ),
    ]:
        reader, text = read(render_pdf(content))
        for expected in every_value(content):
            assert expected in text
        assert reader.metadata is not None
        assert reader.metadata.title == content.title


def test_a_long_statement_runs_over_pages_numbered_n_sur_total() -> None:
    payments = [
        dataclasses.replace(december_payment(), reference=f"IDF-P-2018-{index:04d}")
        for index in range(1, 61)
    ]
    reader, text = read(render_pdf(end_of_training_content(guide_dossier(), FUNDER, payments)))
    pages = len(reader.pages)
    assert pages >= 2
    assert f"Page 1 sur {pages}" in text
    assert f"Page {pages} sur {pages}" in text
    # The column names are repeated at the top of each page of the table.
    assert reader.pages[-1].extract_text().count("Date de mise en paiement") == 1


def test_importing_the_adapter_does_not_import_reportlab() -> None:
    # Architecture D8: reportlab is loaded on the first render, never at cold start.
    code = "import sys, chalicelib.adapters.pdf; print('reportlab' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == "False"


def test_the_attestation_s_qr_code_is_read_back_by_a_qr_reader() -> None:
    """Mask 0 is chosen without trying the others: a real reader must still find the address."""
    import zxingcpp
    from PIL import Image

    from chalicelib.adapters.pdf import qr_modules

    address = "https://portail-stagiaire.example.gouv.fr/verifier?code=ABCD-EFGH-JKLM-NPQR"
    modules = qr_modules(address)
    scale, quiet_zone = 6, 4
    side = (len(modules) + 2 * quiet_zone) * scale
    image = Image.new("L", (side, side), 255)
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if dark:
                left, top = (column + quiet_zone) * scale, (row + quiet_zone) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [address]
