"""What a file is: its type recognised by its content, a name safe to give back, an
object read once (size, SHA-256, type) or discarded; the problems these checks answer;
and the checks of what RPC callers send (UUIDs, filters). Pure but for the storage
reads and deletes."""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from services.kit.errors import FieldError, NotFound, ServiceError, ValidationFailed
from services.kit.logging import get_logger
from services.kit.storage import Storage

log = get_logger(__name__)

QUARANTINE, DOCUMENTS, FORMS = "quarantine", "documents", "forms"
BUCKETS = (QUARANTINE, DOCUMENTS, FORMS)

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
_SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
SNIFF_BYTES = 8
EXTENSIONS = {PDF: ("pdf",), JPEG: ("jpg", "jpeg"), PNG: ("png",)}
_KNOWN_EXTENSIONS = {ext for exts in EXTENSIONS.values() for ext in exts}
FILENAME_MAX = 128
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)


# -- recognising and naming files -----------------------------------------------------------

def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes: PDF, JPEG or PNG, else None.

    Only the content counts, never the name or what the client declared.
    """
    if not isinstance(head, bytes | bytearray | memoryview):
        return None
    head = bytes(head[:SNIFF_BYTES])
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def clean_filename(name: Any, content_type: str | None = None) -> str:
    """A name safe to store and to send back in Content-Disposition.

    The last path component only; control and formatting characters (including
    bidirectional overrides) dropped; anything but letters, digits, space and
    `._-()` replaced by `_`; no leading dot; at most 128 characters. Given the
    recognised content type, the extension is made to match it ("photo.pdf" that is a
    PNG becomes "photo.png"; "scan.2024" becomes "scan.2024.pdf").
    """
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    text = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"_{2,}", "_", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" ._-")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or not ext.isascii() or not ext.isalnum() or len(ext) > 5:
        stem, ext = text, ""
    stem, ext = stem.strip(" ._-"), ext.lower()
    if content_type in EXTENSIONS and ext not in EXTENSIONS[content_type]:
        if ext and ext not in _KNOWN_EXTENSIONS:
            stem = f"{stem}.{ext}" if stem else ext
        ext = EXTENSIONS[content_type][0]
    if not stem or _WINDOWS_RESERVED.match(stem):
        stem = f"document{'_' + stem if stem else ''}"
    room = FILENAME_MAX - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" ._-") or "document"
    return f"{stem}.{ext}" if ext else stem


# -- problems ------------------------------------------------------------------------------

def unsupported_type() -> ServiceError:
    return ServiceError("Only PDF, JPEG and PNG files are accepted (recognised by their "
                        "content, not their name).", code="unsupported_document_type",
                        status=415)


def too_large(max_bytes: int) -> ServiceError:
    return ServiceError(f"The file may not exceed {max_bytes} bytes.",
                        code="document_too_large", status=413,
                        extra={"max_bytes": max_bytes})


def unavailable() -> NotFound:
    return NotFound("This file is not available right now; try again later.",
                    code="document_unavailable")


# -- reading an object ------------------------------------------------------------------------

@dataclass(frozen=True)
class Inspected:
    content_type: str | None
    sha256: str
    size: int


def inspect_object(storage: Storage, bucket: str, key: str, max_bytes: int) -> Inspected:
    """Stream the object once: its SHA-256, its size and its type by content.

    Stops (413) as soon as it grows past `max_bytes`; raises ObjectMissing if absent.
    """
    digest = hashlib.sha256()
    head = b""
    size = 0
    with contextlib.closing(storage.open(bucket, key)) as chunks:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            if len(head) < SNIFF_BYTES:
                head += chunk[:SNIFF_BYTES - len(head)]
            digest.update(chunk)
    return Inspected(sniff(head), digest.hexdigest(), size)


def discard_object(storage: Storage, bucket: str, key: str) -> None:
    try:
        storage.delete(bucket, key)
    except Exception:  # the quarantine sweeper removes it later
        log.warning("object_delete_failed", bucket=bucket, exc_info=True)


# -- what RPC callers send ---------------------------------------------------------------

def parse_uuid(value: Any) -> str | None:
    """The canonical text of a UUID, or None for anything else."""
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def filters(query: Any) -> dict[str, Any]:
    """An RPC caller's filters: a missing query is none, anything but an object is 422."""
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise ValidationFailed.of([FieldError("query", "invalid", "Expected an object.")])
    return dict(query)
