"""Tests for services.kit.pdf (PDF rendering of issued documents, verification codes)."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
import warnings

import pytest
from pypdf import PdfReader

from services.kit.offload import off_loop
from services.kit.pdf import (
    VERIFICATION_ALPHABET,
    DocumentSection,
    IssuedDocument,
    Letterhead,
    build_verification_url,
    new_verification_code,
    normalize_verification_code,
    render_pdf,
)

CODE_RE = re.compile(r"^[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}$")
BASE_URL = "https://members.caisses-sociales.mc"


def make_document(language: str = "en", **overrides: object) -> IssuedDocument:
    code = overrides.pop("verification_code", None) or new_verification_code()
    fields: dict[str, object] = {
        "title": "Certificate of rights" if language == "en" else "Attestation de droits",
        "holder_name": "Hélène Müller-Nuñez",
        "sections": [
            DocumentSection(
                heading="Insured person",
                rows=[("Registration number", "123456"), ("Scheme", "CCSS salariés")],
                paragraphs=["Coverage is effective from 01/01/2024 for sickness and maternity."],
            ),
            DocumentSection(heading="Dependants", rows=[("Child", "Zoé Müller")]),
        ],
        "verification_code": code,
        "verification_url": build_verification_url(BASE_URL, code),
        # 23:30 UTC on 31 Jan is 00:30 on 1 Feb in Monaco (CET, UTC+1).
        "issued_at": datetime.datetime(2025, 1, 31, 23, 30, tzinfo=datetime.UTC),
        "language": language,
    }
    fields.update(overrides)
    return IssuedDocument(**fields)  # type: ignore[arg-type]


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


# ---------------------------------------------------------------------------
# Verification codes
# ---------------------------------------------------------------------------


def test_new_verification_code_format_and_uniqueness() -> None:
    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert CODE_RE.match(code), code
        assert set(code.replace("-", "")) <= set(VERIFICATION_ALPHABET)


def test_alphabet_excludes_ambiguous_characters() -> None:
    assert len(VERIFICATION_ALPHABET) == 32
    assert len(set(VERIFICATION_ALPHABET)) == 32
    assert not set("01OI") & set(VERIFICATION_ALPHABET)


@pytest.mark.parametrize(
    "raw",
    [
        "ABCD-EFGH-JKMN",
        "abcd-efgh-jkmn",
        "abcd efgh jkmn",
        "ABCDEFGHJKMN",
        "  abcd - efgh - JKMN \n",
        "abcdefgh-jkmn",
        "aBcD\tEfGh JkMn",
    ],
)
def test_normalize_accepts_variants(raw: str) -> None:
    assert normalize_verification_code(raw) == "ABCD-EFGH-JKMN"


def test_normalize_round_trips_generated_codes() -> None:
    for _ in range(50):
        code = new_verification_code()
        assert normalize_verification_code(code) == code
        assert normalize_verification_code(code.lower().replace("-", " ")) == code


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ABCD-EFGH-JKM",  # too short
        "ABCD-EFGH-JKMNP",  # too long
        "ABCD-EFGH-JKM0",  # zero
        "ABCD-EFGH-JKMO",  # letter O
        "ABCD-EFGH-JKM1",  # one
        "ABCD-EFGH-JKMI",  # letter I
        "ABCD_EFGH_JKMN",  # unsupported separator
        "ABCD-EFGH-JKM!",
        "ABCD-EFGH-JKMÉ",
        "abcd-efgh-jkmß",  # "ß".upper() == "SS": must not sneak through
        "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ",  # full-width
        "ABCD-EFGH-JKMN" * 10,
    ],
)
def test_normalize_rejects_bad_input(raw: str) -> None:
    assert normalize_verification_code(raw) is None


def test_normalize_rejects_non_strings() -> None:
    assert normalize_verification_code(None) is None  # type: ignore[arg-type]
    assert normalize_verification_code(123) is None  # type: ignore[arg-type]


def test_build_verification_url() -> None:
    expected = f"{BASE_URL}/api/v1/certificates/verify/ABCD-EFGH-JKMN"
    assert build_verification_url(BASE_URL, "ABCD-EFGH-JKMN") == expected
    assert build_verification_url(BASE_URL + "/", "ABCD-EFGH-JKMN") == expected


# ---------------------------------------------------------------------------
# Document model validation
# ---------------------------------------------------------------------------


def test_document_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        make_document(issued_at=datetime.datetime(2025, 1, 1, 12, 0))


def test_document_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="language"):
        make_document(language="de")


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def test_render_english_document() -> None:
    document = make_document("en")
    pdf = render_pdf(document)

    assert pdf.startswith(b"%PDF-")
    texts = pages_text(pdf)
    assert len(texts) == 1
    text = texts[0]
    for expected in [
        "Caisses Sociales de Monaco",
        "11, rue Louis Notari",
        "98000 Monaco",
        "Member Space",
        "Certificate of rights",
        "Hélène Müller-Nuñez",
        "Insured person",
        "Registration number",
        "123456",
        "CCSS salariés",
        "Coverage is effective from 01/01/2024",
        "Zoé Müller",
        "Verification code",
        document.verification_code,
        "Issued on 01/02/2025 00:30",
        "Check this document's authenticity at",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    # The URL may be wrapped over two lines by the layout.
    assert document.verification_url in re.sub(r"\s+", "", text)


def test_render_french_document() -> None:
    document = make_document("fr")
    text = pages_text(render_pdf(document))[0]
    for expected in [
        "Attestation de droits",
        "Hélène Müller-Nuñez",
        "Code de vérification",
        document.verification_code,
        "Délivré le 01/02/2025 00:30",
        "Vérifiez l'authenticité de ce document",
        "Page 1 sur 1",
    ]:
        assert expected in text, expected
    assert "Page 1 of" not in text
    assert "Issued on" not in text


def test_issued_at_is_shown_in_monaco_summer_time() -> None:
    # 10:00 UTC in July is 12:00 in Monaco (CEST, UTC+2).
    issued = datetime.datetime(2025, 7, 14, 10, 0, tzinfo=datetime.UTC)
    text = pages_text(render_pdf(make_document("en", issued_at=issued)))[0]
    assert "Issued on 14/07/2025 12:00" in text


def test_metadata() -> None:
    document = make_document("fr")
    letterhead = Letterhead(organisation="Caisse Autonome des Retraites")
    meta = PdfReader(io.BytesIO(render_pdf(document, letterhead))).metadata
    assert meta is not None
    assert meta.title == "Attestation de droits"
    assert meta.author == "Caisse Autonome des Retraites"
    assert meta.subject == document.verification_code


def test_custom_letterhead_on_page() -> None:
    letterhead = Letterhead(
        organisation="Caisse Autonome des Retraites",
        address_lines=("13, rue Émile de Loth", "MC 98000 Monaco", "Tél. +377 92 05 00 00"),
        service_name="Espace Membre",
    )
    text = pages_text(render_pdf(make_document("fr"), letterhead))[0]
    for expected in (*letterhead.address_lines, letterhead.organisation, "Espace Membre"):
        assert expected in text, expected


def test_long_table_flows_over_pages_with_header_and_footer_everywhere() -> None:
    header = ["Year", "Quarters", "Gross salary (€)", "Employer"]
    rows = [[str(1700 + i), "4", f"{30000 + i}.00", f"Employer {i} & Sons"] for i in range(300)]
    document = make_document("en", table=[header, *rows])
    texts = pages_text(render_pdf(document))

    total = len(texts)
    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert "Caisses Sociales de Monaco" in text, number
        assert "98000 Monaco" in text, number
        assert f"Verification code: {document.verification_code}" in text, number
        assert f"Page {number} of {total}" in text, number
        # The table header row is repeated on every page the table spans.
        if number > 1:
            assert "Gross salary (€)" in text, number

    full = "\n".join(texts)
    for i in (0, 150, 299):
        assert f"{30000 + i}.00" in full
    assert "Employer 299 & Sons" in full
    # The verification box comes at the end of the document.
    assert "Check this document's authenticity at" in texts[-1]
    assert "Check this document's authenticity at" not in texts[0]


def test_ragged_and_header_only_tables() -> None:
    table = [["A", "B", "C"], ["1"], ["2", "3", "4", "5"]]
    text = pages_text(render_pdf(make_document("en", table=table)))[0]
    for expected in ("1", "5"):
        assert expected in text
    assert pages_text(render_pdf(make_document("en", table=[["Only", "Header"]])))
    assert pages_text(render_pdf(make_document("en", table=[])))


def test_markup_in_user_text_is_escaped() -> None:
    nasty = "O'Brien & <Co> <b>bold</b> <font size=40>x</font> &amp; <br/>"
    document = make_document(
        "en",
        title="Statement for <i>you</i> & yours",
        holder_name=nasty,
        sections=[
            DocumentSection(
                heading="<para>Heading</para>",
                rows=[("<label>", "a < b && c > d")],
                paragraphs=["Line one\nLine <two>", "unclosed <b tag"],
            )
        ],
        table=[["<th>", "&"], ["<td>", "x & y"]],
    )
    text = pages_text(render_pdf(document))[0]
    for expected in [
        "Statement for <i>you</i> & yours",
        nasty.strip(),
        "<para>Heading</para>",
        "<label>",
        "a < b && c > d",
        "Line <two>",
        "unclosed <b tag",
        "<th>",
        "x & y",
    ]:
        assert expected in text, expected


def test_control_characters_and_non_latin1_text_do_not_break_rendering() -> None:
    document = make_document(
        "en",
        holder_name="Łukasz Dvořák\x00\x07 中文",
        sections=[DocumentSection(heading="Ñandú", rows=[("Straße", "Ærø ü ñ é")])],
    )
    text = pages_text(render_pdf(document))[0]
    assert "Lukasz Dvorák" in text
    assert "Ñandú" in text
    assert "Straße" in text
    assert "Ærø ü ñ é" in text


def test_qr_code_encodes_verification_url() -> None:
    from services.kit.pdf.document import _qr_drawing

    url = build_verification_url(BASE_URL, "ABCD-EFGH-JKMN")
    drawing = _qr_drawing(url, 100)
    (widget,) = drawing.contents
    assert widget.value == url
    assert drawing.width == drawing.height == 100


def test_documents_are_frozen_and_replaceable() -> None:
    # Documents are frozen dataclasses; replace() gives a new, renderable document.
    document = make_document("en")
    updated = dataclasses.replace(document, title="Tax statement 2024")
    assert "Tax statement 2024" in pages_text(render_pdf(updated))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        document.title = "changed"  # type: ignore[misc]


def test_render_pdf_through_off_loop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eventlet warns about its own deprecation on import
        import eventlet  # noqa: F401

    document = make_document("fr")
    pdf = off_loop(render_pdf, document)
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    text = pages_text(pdf)[0]
    assert document.verification_code in text
    assert "Attestation de droits" in text
    assert "Page 1 sur 1" in text
