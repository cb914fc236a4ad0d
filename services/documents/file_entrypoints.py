"""documents' RPC methods for files and forms, as a mixin of `DocumentsService`.

The service declares what the mixin uses:

    class DocumentsSettings(BaseSettings, StorageSettings, FileSettings): ...

    class DocumentsService(FileEntrypoints, ...):
        db = Database("DOCUMENTS_DATABASE_URL")
        storage = StorageProvider("quarantine", "documents", "forms")
        files_settings = Settings()

Bytes never come through here: the gateway streams uploads to the quarantine bucket
and downloads from storage; these methods check, record and authorise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, validate
from nameko.timer import timer

from services.documents import files
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
    """Members' documents and the fund's forms (needs `db`, `storage`, `files_settings`)."""

    db: Any
    storage: Any
    files_settings: Any

    # -- members' documents (through the gateway) -----------------------------------------
    @rpc
    def accept_upload(self, member_id: str, quarantine_key: str, category: str,
                      filename: str | None = None, request_id: str | None = None,
                      sha256: str | None = None) -> dict:
        """Check the file the gateway put in quarantine; keep it or refuse it. Either way
        the quarantine object is gone when this returns."""
        final_key = files.new_storage_key()
        try:
            with self.db.transaction() as tx:
                return files.accept_upload(
                    tx, self.storage, member_id, quarantine_key, category, filename,
                    request_id, self.files_settings.DOCUMENTS_MAX_UPLOAD_BYTES,
                    self.files_settings.DOCUMENTS_MEMBER_QUOTA_BYTES,
                    expected_sha256=sha256, final_key=final_key)
        except BaseException:
            # refused, or the row could not be written: no object without its row
            files.discard_object(self.storage, files.DOCUMENTS, final_key)
            raise

    @rpc
    def list_documents(self, member_id: str, query: dict | None = None) -> dict:
        with self.db.member_read(member_id, "documents.read") as session:
            return files.list_documents(session, member_id, query)

    @rpc
    def get_document(self, member_id: str, document_id: str) -> dict:
        with self.db.member_read(member_id, "document.read",
                                 {"document_id": str(document_id)}) as session:
            return files.get_document(session, member_id, document_id)

    @rpc
    def authorize_download(self, member_id: str, document_id: str) -> dict:
        """`{bucket, key, content_type, filename, size, sha256}` for the gateway to
        stream; 404 `document_not_found` (not the member's) or `document_unavailable`."""
        with self.db.member_read(member_id, "document.downloaded",
                                 {"document_id": str(document_id)}) as session:
            return files.authorize_download(session, self.storage, member_id, document_id)

    # -- forms (anyone) ------------------------------------------------------------------------
    @rpc
    def list_forms(self, query: dict | None = None) -> dict:
        with self.db.read() as session:
            return files.list_forms(session, query)

    @rpc
    def get_form(self, form_id: str) -> dict:
        with self.db.read() as session:
            return files.get_form(session, form_id)

    @rpc
    def authorize_form_download(self, form_id: str) -> dict:
        with self.db.read() as session:
            return files.authorize_form_download(session, self.storage, form_id)

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
        data = files.validate_form(form)
        pdf = None
        if pdf_base64 is not None:
            pdf = files.decode_form_pdf(pdf_base64)
        elif text is not None:
            if not isinstance(text, str) or not 1 <= len(text.strip()) <= files.MAX_FORM_TEXT:
                raise ValidationFailed.of([FieldError(
                    "text", "length", f"1 to {files.MAX_FORM_TEXT} characters.")])
            pdf = off_loop(files.render_form_pdf, data, text)
        published = None
        try:
            with self.db.transaction() as tx:
                published = files.publish_form(tx, self.storage, form, pdf=pdf,
                                               storage_key=storage_key)
        except BaseException:
            if published is not None and published.stored:  # the commit failed
                files.discard_object(self.storage, files.FORMS, published.key)
            raise
        if published.replaced_key:
            files.discard_object(self.storage, files.FORMS, published.replaced_key)
        return published.view

    @rpc
    def withdraw_form(self, form_id: str) -> dict:
        with self.db.transaction() as tx:
            return files.withdraw_form(tx, form_id)

    # -- for the service's own methods (not RPC) ---------------------------------------------
    def export_files(self, session: Any, member_id: str) -> dict:
        """The member's documents, for `export_member_data`."""
        return files.export_member_files(session, member_id)

    def erase_files(self, session: Any, member_id: str) -> int:
        """The member is erased: their documents' rows, and objects, go."""
        return files.erase_member_files(session, self.storage, member_id)

    # -- housekeeping -----------------------------------------------------------------------------
    @timer(interval=600)
    def sweep_quarantine(self) -> None:
        age = dt.timedelta(seconds=self.files_settings.DOCUMENTS_QUARANTINE_MAX_AGE)
        try:
            swept = files.sweep_quarantine(self.storage, age)
        except Exception:
            log.warning("quarantine_sweep_failed", exc_info=True)
            return
        if swept:
            log.info("quarantine_swept", count=swept)
