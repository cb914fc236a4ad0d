"""Documents members send, and the fund's forms to download.

File bytes never go through RabbitMQ, and storage is never a public door. An upload
is parsed here with a size limit (werkzeug keeps file parts past 500 KB in a
temporary file, not in memory), put under a random key in the quarantine bucket, and
only that key is passed to documents, which checks the file and keeps or deletes it.
A download is authorised by documents, then streamed here from storage.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import IO, Any

from marshmallow import Schema, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from gateway.api import MEMBER, Call, content_disposition, json_response, route
from gateway.problems import ApiError
from services.contracts.members import FUNDS
from services.contracts.requests import DOCUMENT_CATEGORIES
from services.kit.storage import ObjectMissing, Storage

MB = 1024 * 1024
# multipart boundaries, part headers and the small fields, on top of the file itself
MULTIPART_OVERHEAD = 64 * 1024
QUARANTINE = "quarantine"
HASH_CHUNK = 256 * 1024
FILENAME_RAW_MAX = 1024

# the documents service checks the categories again
CATEGORIES = DOCUMENT_CATEGORIES
UPLOAD_FIELDS = {"file", "category", "request_id"}


class DocumentsUploadSettings(Schema):
    """Mixin for the gateway's settings; documents reads the same variable."""

    DOCUMENTS_MAX_UPLOAD_BYTES = fields.Integer(load_default=10 * MB,
                                                validate=validate.Range(1024, 1024 * MB))


def storage(call: Call) -> Storage:
    """The gateway's storage client (`GatewayService.storage`)."""
    return call.services.storage


# -- shapes ------------------------------------------------------------------------------

class Document(Schema):
    id = fields.String(metadata={"format": "uuid"})
    category = fields.String(metadata={"enum": list(CATEGORIES)})
    filename = fields.String(metadata={"description": "cleaned; its extension matches the "
                                                      "content"})
    content_type = fields.String(metadata={"enum": ["application/pdf", "image/jpeg",
                                                    "image/png"],
                                           "description": "recognised by the content"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    request_id = fields.String(allow_none=True, metadata={"format": "uuid"})
    created_at = fields.String(metadata={"format": "date-time"})


class DocumentPage(Schema):
    items = fields.List(fields.Nested(Document))
    next_cursor = fields.String(allow_none=True)


class DocumentsQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    request_id = fields.UUID(load_default=None)


class Form(Schema):
    id = fields.String()
    title_fr = fields.String()
    title_en = fields.String()
    category = fields.String()
    fund = fields.String(metadata={"enum": list(FUNDS)})
    updated_on = fields.String(metadata={"format": "date"})
    size = fields.Integer(metadata={"description": "bytes"})
    content_type = fields.String()


class FormList(Schema):
    items = fields.List(fields.Nested(Form))


class FormsQuery(Schema):
    category = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z][a-z_]{1,39}$"))
    fund = fields.String(load_default=None, validate=validate.OneOf(FUNDS))


_DOCUMENT = Document()


class UploadFields(Schema):
    """The multipart form: `file` (the document), `category`, optional `request_id`."""

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    request_id = fields.UUID(load_default=None)


# -- upload --------------------------------------------------------------------------------

def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "document_too_large", f"The file may not exceed {max_bytes} bytes.",
                    max_bytes=max_bytes)


def _invalid(field: str, code: str, detail: str) -> ApiError:
    return ApiError(422, "validation_failed", "The request has invalid fields.",
                    errors=[{"field": field, "code": code, "detail": detail}])


@dataclass
class Upload:
    stream: IO[bytes]
    size: int
    sha256: str
    filename: str
    category: str
    request_id: str | None


def read_upload(request: Request, max_bytes: int) -> Upload:
    """Parse the multipart body within the limit; measure and hash the file part."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Send the file as multipart/form-data.")
    limit = max_bytes + MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(max_bytes)
    request.max_content_length = limit
    request.max_form_parts = 8  # the small fields stay within werkzeug's 500 KB default
    try:
        form, parts = request.form, request.files
    except RequestEntityTooLarge:
        raise _too_large(max_bytes) from None
    unknown = (set(form) | set(parts)) - UPLOAD_FIELDS
    if unknown:
        raise _invalid(sorted(unknown)[0], "unknown_field", "Unknown field.")
    files = parts.getlist("file")
    if len(files) != 1 or "file" in form:
        raise _invalid("file", "required", "Send exactly one file in the `file` part.")
    values = {k: form.get(k) for k in ("category", "request_id") if form.get(k)}
    errors = UploadFields().validate(values)
    if errors:
        field = sorted(errors)[0]
        raise _invalid(field, "not_allowed" if field == "category" else "invalid",
                       "; ".join(str(m) for m in errors[field]))
    loaded = UploadFields().load(values)
    stream = files[0].stream
    stream.seek(0, 2)
    size = stream.tell()
    if size > max_bytes:
        raise _too_large(max_bytes)
    if size == 0:
        raise _invalid("file", "empty", "The file is empty.")
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(HASH_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return Upload(stream, size, digest.hexdigest(), (files[0].filename or "")[:FILENAME_RAW_MAX],
                  loaded["category"],
                  str(loaded["request_id"]) if loaded["request_id"] else None)


class _Fingerprinted:
    """What the idempotency store reads of a request, with a fingerprint of the parsed
    upload in place of the body (which stays in its temporary file)."""

    def __init__(self, request: Request, upload: Upload):
        self.headers, self.method, self.path = request.headers, request.method, request.path
        self._fingerprint = json.dumps([upload.category, upload.request_id, upload.filename,
                                        upload.size, upload.sha256]).encode()

    def get_data(self, cache: bool = True) -> bytes:
        return self._fingerprint


def put_quarantine(store: Storage, upload: Upload, member_id: str) -> str:
    """Stream the file to a fresh random quarantine key; returns the key."""
    key = f"uploads/{secrets.token_urlsafe(24)}"
    store.client.put_object(
        Bucket=store.bucket(QUARANTINE), Key=key, Body=upload.stream,
        ContentLength=upload.size, ContentType="application/octet-stream",
        Metadata={"member-id": member_id, "sha256": upload.sha256},
        ServerSideEncryption="AES256")
    return key


@route("POST", "/api/v1/documents", access=MEMBER, response=Document, status=201,
       idempotency_header=True, openapi_body={"multipart/form-data": {"schema": {
           "type": "object", "required": ["file", "category"],
           "properties": {
               "file": {"type": "string", "format": "binary",
                        "description": "PDF, JPEG or PNG, at most 10 MB"},
               "category": {"type": "string", "enum": [
                   "medical_certificate", "proof_of_address", "bank_details",
                   "pension_supporting_document", "identity_document",
                   "death_certificate", "marriage_certificate", "other"]},
               "request_id": {"type": "string", "format": "uuid"}}}}},
       summary="Send a document (multipart/form-data: `file`, `category`, optional "
               "`request_id`); PDF, JPEG or PNG recognised by content; `Idempotency-Key` "
               "makes a retried upload keep one document",
       tags=("documents",),
       problems=((400, "invalid_idempotency_key"), (404, "request_not_found"),
                 (404, "upload_not_found"),
                 (409, "quota_exceeded"), (409, "idempotency_key_in_use"),
                 (413, "document_too_large"), (415, "unsupported_document_type"),
                 (415, "unsupported_media_type"), (422, "validation_failed"),
                 (422, "checksum_mismatch"), (422, "idempotency_key_reused")))
def upload_document(call: Call) -> Response:
    upload = read_upload(call.request, call.settings.DOCUMENTS_MAX_UPLOAD_BYTES)
    # idempotency here rather than on the route: the store would read the whole body
    # into memory before the limit above applies
    return call.services.shared.idempotency.run(
        _Fingerprinted(call.request, upload), call.member_id, lambda: _keep(call, upload))


def _keep(call: Call, upload: Upload) -> Response:
    store = storage(call)
    key = put_quarantine(store, upload, call.member_id)
    try:
        view = call.services.documents.accept_upload(
            call.member_id, key, upload.category, upload.filename, upload.request_id,
            upload.sha256)
    except Exception:
        # documents has deleted it already when it answered; not when it did not
        try:
            store.delete(QUARANTINE, key)
        except Exception:  # noqa: S110  (documents' quarantine sweeper removes it)
            pass
        raise
    return json_response(_DOCUMENT.dump(view), 201,
                         {"Location": f"/api/v1/documents/{view['id']}"})


# -- the member's documents ------------------------------------------------------------------

@route("GET", "/api/v1/documents", access=MEMBER, query=DocumentsQuery, response=DocumentPage,
       summary="The member's own documents, newest first", tags=("documents",),
       problems=((422, "validation_failed"),))
def list_documents(call: Call) -> Any:
    query = {k: (str(v) if k == "request_id" else v)
             for k, v in call.query.items() if v is not None}
    return call.services.documents.list_documents(call.member_id, query)


@route("GET", "/api/v1/documents/<uuid:document_id>", access=MEMBER, response=Document,
       summary="One of the member's documents", tags=("documents",),
       problems=((404, "document_not_found"),))
def get_document(call: Call) -> Any:
    return call.services.documents.get_document(call.member_id,
                                                str(call.path_params["document_id"]))


@route("GET", "/api/v1/documents/<uuid:document_id>/download", access=MEMBER,
       summary="The document's file, streamed (Content-Disposition: attachment)",
       tags=("documents",),
       problems=((404, "document_not_found"), (404, "document_unavailable")))
def download_document(call: Call) -> Response:
    grant = call.services.documents.authorize_download(call.member_id,
                                                       str(call.path_params["document_id"]))
    return stream_object(call, grant)


# -- forms (no account needed) ---------------------------------------------------------------

@route("GET", "/api/v1/forms", query=FormsQuery, response=FormList,
       summary="The fund's forms to download (titles in French and English)",
       tags=("forms",), problems=((422, "validation_failed"),))
def list_forms(call: Call) -> Response:
    query = {k: v for k, v in call.query.items() if v is not None}
    answer = call.services.documents.list_forms(query)
    response = json_response(FormList().dump(answer))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@route("GET", "/api/v1/forms/<form_id>/download",
       summary="A form's PDF, streamed (Content-Disposition: attachment)", tags=("forms",),
       problems=((404, "form_not_found"), (404, "document_unavailable")))
def download_form(call: Call) -> Response:
    grant = call.services.documents.authorize_form_download(str(call.path_params["form_id"]))
    if call.request.if_none_match.contains(grant["sha256"]):
        response = Response(status=304)
        response.set_etag(grant["sha256"])
    else:
        response = stream_object(call, grant)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# -- streaming a file out -------------------------------------------------------------------------

def stream_object(call: Call, grant: dict[str, Any]) -> Response:
    """Stream what documents authorised: `{bucket, key, content_type, filename, size}`
    (`sha256` optional, the ETag), as an attachment the browser will not sniff."""
    try:
        chunks = storage(call).open(grant["bucket"], grant["key"])
    except ObjectMissing:
        raise ApiError(404, "document_unavailable",
                       "This file is not available right now; try again later.") from None
    response = Response(chunks, status=200, content_type=grant["content_type"],
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(grant["size"])
    response.headers["Content-Disposition"] = content_disposition(grant["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if grant.get("sha256"):
        response.set_etag(grant["sha256"])
    return response
