"""documents' RPC methods for files and forms, and the quarantine sweeper's timer, as a
mixin of `DocumentsService`.

The service declares what the mixin uses:

    class DocumentsSettings(BaseSettings, StorageSettings, FileSettings): ...

    class DocumentsService(FileEntrypoints, ...):
        db = Database("DOCUMENTS_DATABASE_URL")
        storage = StorageProvider("quarantine", "documents", "forms")
        settings = Settings()
        request_link = <a RequestLink: the registry, for uploads naming a request>

Bytes never come through here: the gateway streams uploads to the quarantine bucket
and downloads from storage; these methods check, record and authorise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, validate
from nameko.timer import timer

from services.documents.files import content, forms, quarantine, uploads
from services.kit.errors import FieldError, ValidationFailed
from services.kit.logging import get_logger
from services.kit.offload import off_loop
from services.kit.rpc import rpc

log = get_logger(__name__)

MB = 1024 * 1024


class FileSettings(Schema):
    """Mixin for the documents service's settings (the gateway reads the same
    DOCUMENTS_MAX_UPLOAD_BYTES to bound what it accepts)."""

    DOCUMENTS_MAX_UPLOAD_BYTES = fields.Integer(load_default=10 * MB,
                                                validate=validate.Range(1024, 1024 * MB))
    DOCUMENTS_MEMBER_QUOTA_BYTES = fields.Integer(load_default=200 * MB,
                                                  validate=validate.Range(MB, 1024 * 1024 * MB))
    # quarantine objects older than this are an upload whose gateway died midway
    DOCUMENTS_QUARANTINE_MAX_AGE = fields.Integer(load_default=3600,
                                                  validate=validate.Range(300, 7 * 86400))


class FileEntrypoints:
    """Members' documents and the fund's forms (needs `db`, `storage`, `settings`,
    `request_link`)."""

    db: Any
    storage: Any
    settings: Any
    request_link: uploads.RequestLink

    # -- members' documents (through the gateway) -----------------------------------------
    @rpc
    def accept_upload(self, member_id: str, quarantine_key: str, category: str,
                      filename: str | None = None, request_id: str | None = None,
                      sha256: str | None = None) -> dict:
        """Check the file the gateway put in quarantine; keep it or refuse it. Either way
        the quarantine object is gone when this returns."""
        final_key = uploads.new_storage_key()
        try:
            with self.db.transaction() as tx:
                return uploads.accept_upload(
                    tx, self.storage, member_id, quarantine_key, category, filename,
                    request_id, self.settings.DOCUMENTS_MAX_UPLOAD_BYTES,
                    self.settings.DOCUMENTS_MEMBER_QUOTA_BYTES, requests=self.request_link,
                    expected_sha256=sha256, final_key=final_key)
        except BaseException:
            # refused, or the row could not be written: no object without its row
            content.discard_object(self.storage, content.DOCUMENTS, final_key)
            raise

    @rpc
    def list_documents(self, member_id: str, query: dict | None = None) -> dict:
        with self.db.member_read(member_id, "documents.read") as session:
            return uploads.list_documents(session, member_id, query)

    @rpc
    def get_document(self, member_id: str, document_id: str) -> dict:
        with self.db.member_read(member_id, "document.read",
                                 {"document_id": str(document_id)}) as session:
            return uploads.get_document(session, member_id, document_id)

    @rpc
    def authorize_download(self, member_id: str, document_id: str) -> dict:
        """`{bucket, key, content_type, filename, size, sha256}` for the gateway to
        stream; 404 `document_not_found` (not the member's) or `document_unavailable`."""
        with self.db.member_read(member_id, "document.downloaded",
                                 {"document_id": str(document_id)}) as session:
            return uploads.authorize_download(session, self.storage, member_id, document_id)

    # -- forms (anyone) ------------------------------------------------------------------------
    @rpc
    def list_forms(self, query: dict | None = None) -> dict:
        with self.db.read() as session:
            return forms.list_forms(session, query)

    @rpc
    def get_form(self, form_id: str) -> dict:
        with self.db.read() as session:
            return forms.get_form(session, form_id)

    @rpc
    def authorize_form_download(self, form_id: str) -> dict:
        with self.db.read() as session:
            return forms.authorize_form_download(session, self.storage, form_id)

    # -- forms (the fund's systems) ----------------------------------------------------------
    @rpc
    def publish_form(self, form: dict, pdf_base64: str | None = None,
                     text: str | None = None, storage_key: str | None = None) -> dict:
        """Publish or replace a form: its metadata (`id` slug, `title_fr`, `title_en`,
        `category`, `fund`, `updated_on`) and its PDF, as base64 (at most 5 MB), as the
        key of a PDF already in the forms bucket, or as plain `text` (paragraphs
        separated by blank lines) to render into a simple PDF."""
        given = [x is not None for x in (pdf_base64, text, storage_key)]
        if sum(given) != 1:
            raise ValidationFailed.of([FieldError(
                "pdf_base64", "required", "Give exactly one of pdf_base64, text, storage_key.")])
        data = forms.validate_form(form)
        pdf: bytes | None = None
        if pdf_base64 is not None:
            pdf = forms.decode_form_pdf(pdf_base64)
        elif text is not None:
            if not isinstance(text, str) or not 1 <= len(text.strip()) <= forms.MAX_FORM_TEXT:
                raise ValidationFailed.of([FieldError(
                    "text", "length", f"1 to {forms.MAX_FORM_TEXT} characters.")])
            pdf = off_loop(forms.render_form_pdf, data, text)
        published = None
        try:
            with self.db.transaction() as tx:
                published = forms.publish_form(tx, self.storage, form, pdf=pdf,
                                               storage_key=storage_key)
        except BaseException:
            if published is not None and published.stored:  # the commit failed
                content.discard_object(self.storage, content.FORMS, published.key)
            raise
        if published.replaced_key:
            content.discard_object(self.storage, content.FORMS, published.replaced_key)
        return published.view

    @rpc
    def withdraw_form(self, form_id: str) -> dict:
        with self.db.transaction() as tx:
            return forms.withdraw_form(tx, form_id)

    # -- housekeeping -----------------------------------------------------------------------------
    @timer(interval=600)
    def sweep_quarantine(self) -> None:
        age = dt.timedelta(seconds=self.settings.DOCUMENTS_QUARANTINE_MAX_AGE)
        try:
            swept = quarantine.sweep_quarantine(self.storage, age)
        except Exception:
            log.warning("quarantine_sweep_failed", exc_info=True)
            return
        if swept:
            log.info("quarantine_swept", count=swept)
