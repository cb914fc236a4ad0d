"""Issued documents as PDF: `document` lays out and renders them (letterhead, sections,
a table over several pages, the verification box, numbered footers); `verification`
makes and reads the verification code they carry."""

from services.kit.pdf.document import DocumentSection, IssuedDocument, Letterhead, render_pdf
from services.kit.pdf.verification import (
    VERIFICATION_ALPHABET,
    VERIFICATION_PATH,
    build_verification_url,
    new_verification_code,
    normalize_verification_code,
)

__all__ = [
    "VERIFICATION_ALPHABET",
    "VERIFICATION_PATH",
    "DocumentSection",
    "IssuedDocument",
    "Letterhead",
    "build_verification_url",
    "new_verification_code",
    "normalize_verification_code",
    "render_pdf",
]
