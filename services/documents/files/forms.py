"""The fund's forms: blank PDF files in the `forms` bucket, published (as a PDF, the
key of one already stored, or text rendered into a simple PDF), listed, downloaded and
withdrawn."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.contracts.members import FUNDS
from services.documents.files.content import (
    FORMS,
    PDF,
    discard_object,
    filters,
    inspect_object,
    sniff,
    too_large,
    unavailable,
    unsupported_type,
)
from services.documents.files.models import Form
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed
from services.kit.logging import get_logger
from services.kit.storage import ObjectMissing, Storage

log = get_logger(__name__)

MONACO = ZoneInfo("Europe/Monaco")
MAX_FORM_BYTES = 5 * 1024 * 1024
MAX_FORM_TEXT = 20_000
FORM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
FORM_CATEGORY = re.compile(r"^[a-z][a-z_]{1,39}$")
_OBJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,299}$")


def new_form_key(form_id: str) -> str:
    return f"forms/{form_id}/{secrets.token_urlsafe(12)}.pdf"


def form_not_found() -> NotFound:
    return NotFound("No such form.", code="form_not_found")


# -- forms -------------------------------------------------------------------------------------

def form_view(form: Form) -> dict[str, Any]:
    return {"id": form.id, "title_fr": form.title_fr, "title_en": form.title_en,
            "category": form.category, "fund": form.fund,
            "updated_on": form.updated_on.isoformat(), "size": form.size,
            "content_type": form.content_type, "sha256": form.sha256,
            "published": form.published}


def validate_form(form: Any) -> dict[str, Any]:
    """The fund's metadata for a form: id (slug), titles in French and English,
    category, fund, updated_on (default: today in Monaco)."""
    if not isinstance(form, dict):
        raise ValidationFailed.of([FieldError("form", "invalid", "Expected an object.")])
    errors = []
    out: dict[str, Any] = {}
    known = {"id", "title_fr", "title_en", "category", "fund", "updated_on"}
    errors += [FieldError(k, "unknown_field", "Unknown field.") for k in form if k not in known]
    if not isinstance(form.get("id"), str) or not FORM_ID.match(form["id"]):
        errors.append(FieldError("id", "invalid", "A slug: a-z, 0-9 and -, 2 to 64 long."))
    out["id"] = form.get("id")
    for name in ("title_fr", "title_en"):
        value = form.get(name)
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
            errors.append(FieldError(name, "length", "1 to 200 characters."))
        else:
            out[name] = value.strip()
    if not isinstance(form.get("category"), str) or not FORM_CATEGORY.match(form["category"]):
        errors.append(FieldError("category", "invalid", "a-z and _, 2 to 40 long."))
    out["category"] = form.get("category")
    if form.get("fund") not in FUNDS:
        errors.append(FieldError("fund", "not_allowed", ", ".join(FUNDS)))
    out["fund"] = form.get("fund")
    updated = form.get("updated_on")
    if updated is None:
        out["updated_on"] = dt.datetime.now(MONACO).date()
    else:
        try:
            out["updated_on"] = dt.date.fromisoformat(str(updated))
        except ValueError:
            errors.append(FieldError("updated_on", "invalid", "A date, YYYY-MM-DD."))
    if errors:
        raise ValidationFailed.of(errors)
    return out


def decode_form_pdf(pdf_base64: Any) -> bytes:
    """The fund's PDF, base64 in the RPC call: at most 5 MB, a PDF by content."""
    if not isinstance(pdf_base64, str):
        raise ValidationFailed.of([FieldError("pdf_base64", "invalid", "Base64 text.")])
    if len(pdf_base64) > (MAX_FORM_BYTES + 2) // 3 * 4 + 4:
        raise too_large(MAX_FORM_BYTES)
    try:
        data = base64.b64decode(pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.of([FieldError("pdf_base64", "invalid", "Base64 text.")]) \
            from None
    if len(data) > MAX_FORM_BYTES:
        raise too_large(MAX_FORM_BYTES)
    if sniff(data) != PDF:
        raise unsupported_type()
    return data


def _latin(text: str) -> str:
    """Text the PDF standard fonts can draw (Windows-1252), control characters dropped."""
    out = []
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            continue
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def render_form_pdf(form: dict[str, Any], text: str) -> bytes:
    """A simple PDF form from text: the fund's letterhead, both titles, the fund and
    date, then the text (paragraphs separated by blank lines). Deterministic bytes."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from services.kit.pdf import Letterhead

    def para(value: str) -> str:
        return escape(_latin(value)).replace("\n", "<br/>")

    letterhead = Letterhead()
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, invariant=True,
                            title=_latin(f"{form['title_fr']} / {form['title_en']}"),
                            author=_latin(letterhead.organisation),
                            creator=_latin(letterhead.service_name))
    story = [Paragraph(f"<b>{para(letterhead.organisation)}</b>", styles["Normal"]),
             Paragraph(para("\n".join(letterhead.address_lines)), styles["Normal"]),
             Spacer(1, 10 * mm),
             Paragraph(para(form["title_fr"]), styles["Title"]),
             Paragraph(para(form["title_en"]), styles["Heading2"]),
             Paragraph(para(f"{form['fund']} - mis à jour le / updated on "
                            f"{form['updated_on']:%d/%m/%Y}"), styles["Normal"]),
             Spacer(1, 8 * mm)]
    for block in re.split(r"\n\s*\n", text.strip()):
        story += [Paragraph(para(block.strip()), styles["BodyText"]), Spacer(1, 3 * mm)]
    doc.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class PublishedForm:
    view: dict[str, Any]
    key: str
    stored: bool  # this call put the object (delete it should the transaction fail)
    replaced_key: str | None  # the previous version's object, to delete after commit


def publish_form(tx: UnitOfWork, storage: Storage, form: Any, *, pdf: bytes | None = None,
                 storage_key: str | None = None) -> PublishedForm:
    """Publish (or replace) a form: `pdf` bytes to store, or the key of a PDF already in
    the forms bucket. Validated first; nothing is stored for a refused form."""
    data = validate_form(form)
    if (pdf is None) == (storage_key is None):
        raise ValidationFailed.of([FieldError("pdf", "required",
                                              "Give the PDF or the key of a stored one.")])
    if pdf is not None:
        if len(pdf) > MAX_FORM_BYTES:
            raise too_large(MAX_FORM_BYTES)
        if sniff(pdf) != PDF:
            raise unsupported_type()
        key, size, sha = new_form_key(data["id"]), len(pdf), hashlib.sha256(pdf).hexdigest()
        storage.put(FORMS, key, pdf, PDF, metadata={"sha256": sha})
    else:
        if not isinstance(storage_key, str) or not _OBJECT_KEY.match(storage_key) \
                or ".." in storage_key:
            raise ValidationFailed.of([FieldError("storage_key", "invalid", "An object key.")])
        key = storage_key
        try:
            found = inspect_object(storage, FORMS, key, MAX_FORM_BYTES)
        except ObjectMissing:
            raise unavailable() from None
        if found.content_type != PDF:
            raise unsupported_type()
        size, sha = found.size, found.sha256
    try:
        row = tx.session.get(Form, data["id"], with_for_update=True)
        replaced = row.storage_key if row is not None and row.storage_key != key else None
        if row is None:
            row = Form(id=data["id"], created_at=dt.datetime.now(dt.UTC))
            tx.session.add(row)
        row.title_fr, row.title_en = data["title_fr"], data["title_en"]
        row.category, row.fund = data["category"], data["fund"]
        row.updated_on = data["updated_on"]
        row.size, row.sha256, row.storage_key, row.content_type = size, sha, key, PDF
        row.published = True
        tx.session.flush()
        tx.audit("form.published", member_id=None,
                 details={"form_id": row.id, "sha256": sha, "size": size})
    except BaseException:
        if pdf is not None:
            discard_object(storage, FORMS, key)
        raise
    return PublishedForm(form_view(row), key, pdf is not None, replaced)


def withdraw_form(tx: UnitOfWork, form_id: Any) -> dict[str, Any]:
    """No longer listed nor downloadable; kept, so that publishing it again is one call."""
    row = tx.session.get(Form, form_id, with_for_update=True) \
        if isinstance(form_id, str) and FORM_ID.match(form_id) else None
    if row is None:
        raise form_not_found()
    row.published = False
    tx.audit("form.withdrawn", member_id=None, details={"form_id": row.id})
    return form_view(row)


def list_forms(session: DbSession, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Published forms, by category then French title; `category` and `fund` filters."""
    query = filters(query)
    stmt = sa.select(Form).where(Form.published.is_(True))
    if query.get("category"):
        stmt = stmt.where(Form.category == str(query["category"]))
    if query.get("fund"):
        stmt = stmt.where(Form.fund == str(query["fund"]))
    rows = session.scalars(stmt.order_by(Form.category, Form.title_fr, Form.id))
    return {"items": [form_view(f) for f in rows]}


def _published(session: DbSession, form_id: Any) -> Form:
    row = session.get(Form, form_id) if isinstance(form_id, str) \
        and FORM_ID.match(form_id) else None
    if row is None or not row.published:
        raise form_not_found()
    return row


def get_form(session: DbSession, form_id: Any) -> dict[str, Any]:
    return form_view(_published(session, form_id))


def authorize_form_download(session: DbSession, storage: Storage,
                            form_id: Any) -> dict[str, Any]:
    row = _published(session, form_id)
    if storage.head(FORMS, row.storage_key) is None:
        log.warning("form_object_missing", form_id=row.id)
        raise unavailable()
    return {"bucket": FORMS, "key": row.storage_key, "content_type": row.content_type,
            "filename": f"{row.id}.pdf", "size": row.size, "sha256": row.sha256}
