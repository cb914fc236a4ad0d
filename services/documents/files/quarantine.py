"""The quarantine bucket: where the gateway streams an upload before documents checks
it. Objects leave it copied into `documents`, or deleted; the sweeper deletes what an
interrupted upload left behind."""

from __future__ import annotations

import datetime as dt
import re

from botocore.exceptions import ClientError

from services.documents.files.content import QUARANTINE, discard_object
from services.kit.errors import NotFound
from services.kit.storage import Storage

# the gateway writes uploads as f"uploads/{secrets.token_urlsafe(24)}"
QUARANTINE_KEY = re.compile(r"^uploads/[A-Za-z0-9_-]{32}$")


def upload_not_found() -> NotFound:
    return NotFound("The uploaded file was not found; send it again.",
                    code="upload_not_found")


def copy_out(storage: Storage, src_key: str, dst_bucket: str, dst_key: str,
             content_type: str, metadata: dict[str, str]) -> None:
    """Server-side copy from quarantine to another bucket, with the recognised content
    type; 404 `upload_not_found` if the object is gone."""
    try:
        storage.client.copy_object(
            Bucket=storage.bucket(dst_bucket), Key=dst_key,
            CopySource={"Bucket": storage.bucket(QUARANTINE), "Key": src_key},
            MetadataDirective="REPLACE", ContentType=content_type, Metadata=metadata,
            ServerSideEncryption="AES256")
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404",
                                                                   "NotFound"):
            raise upload_not_found() from None
        raise


def sweep_quarantine(storage: Storage, max_age: dt.timedelta) -> int:
    """Delete quarantine objects older than `max_age` (an upload whose gateway died
    between storing it and calling documents)."""
    cutoff = dt.datetime.now(dt.UTC) - max_age
    swept = 0
    pages = storage.client.get_paginator("list_objects_v2").paginate(
        Bucket=storage.bucket(QUARANTINE), Prefix="uploads/")
    for page in pages:
        for item in page.get("Contents", []):
            if item["LastModified"] < cutoff:
                discard_object(storage, QUARANTINE, item["Key"])
                swept += 1
    return swept
