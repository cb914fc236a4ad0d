"""Object storage for every service: one boto3 S3 client, any S3-compatible endpoint.

Production points it at AWS S3, MinIO or Ceph; `make run` and the tests at moto's
standalone server. A service adds the settings and the dependency:

    class BenefitsSettings(BaseSettings, StorageSettings): ...

    class BenefitsService:
        storage = StorageProvider("feeds", "documents")   # memberspace-feeds, ...

        def ...(self):
            self.storage.put("feeds", key, data, "text/csv")

Bucket arguments are short names; `S3_BUCKET_PREFIX` is prepended, so one account
(or one moto) can hold several environments side by side. Every object is written
with server-side encryption (AES256).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from marshmallow import Schema, fields, validate
from nameko.extensions import DependencyProvider

from services.kit.config import Url
from services.kit.errors import NotFound

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_ATTEMPTS = 3
CHUNK_SIZE = 64 * 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the SigV4 maximum
_MISSING = {"NoSuchKey", "404", "NotFound"}
_METADATA_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class ObjectMissing(NotFound):
    """The object is not (or no longer) in storage; callers show it as unavailable."""

    status = 404
    code = "document_unavailable"


class StorageSettings(Schema):
    """Mixin for a service's settings: `class XSettings(BaseSettings, StorageSettings)`.

    The defaults are the local moto server `make run` starts; moto accepts any key.
    """

    S3_ENDPOINT_URL = Url(("http", "https"), load_default="http://127.0.0.1:5055")
    S3_REGION = fields.String(load_default="eu-west-3",  # Ceph: its zonegroup, e.g. "default"
                              validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$"))
    S3_ACCESS_KEY_ID = fields.String(load_default="memberspace-dev",
                                     validate=validate.Length(1, 128))
    S3_SECRET_ACCESS_KEY = fields.String(load_default="memberspace-dev-secret",
                                         validate=validate.Length(1, 256))
    # bucket names are 3-63 of [a-z0-9.-]; leave room for the short names
    S3_BUCKET_PREFIX = fields.String(load_default="memberspace-",
                                     validate=validate.Regexp(r"^[a-z0-9][a-z0-9.-]{0,39}$"))


class Storage:
    """A thin, typed face over one boto3 S3 client (thread- and greenthread-safe)."""

    def __init__(self, endpoint_url: str, region: str, access_key_id: str,
                 secret_access_key: str, bucket_prefix: str):
        self.endpoint_url = endpoint_url
        self.region = region
        self.bucket_prefix = bucket_prefix
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},  # moto, MinIO and Ceph have no per-bucket DNS
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            # botocore >= 1.36 adds CRC checksums to every upload by default, which older
            # MinIO and Ceph releases refuse; send them only where S3 requires them
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # a session of its own: boto3's default session is not safe to share
        session = boto3.session.Session()
        self.client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=config)

    @classmethod
    def from_settings(cls, settings: SimpleNamespace | Any) -> Storage:
        return cls(settings.S3_ENDPOINT_URL, settings.S3_REGION, settings.S3_ACCESS_KEY_ID,
                   settings.S3_SECRET_ACCESS_KEY, settings.S3_BUCKET_PREFIX)

    def bucket(self, name: str) -> str:
        return self.bucket_prefix + name

    def ensure_buckets(self, *names: str) -> None:
        """Create the buckets that are missing; safe to run from several services at once."""
        for name in names:
            bucket = self.bucket(name)
            try:
                self.client.head_bucket(Bucket=bucket)
                continue
            except ClientError as exc:
                if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                    raise
            params: dict[str, Any] = {"Bucket": bucket}
            if self.region != "us-east-1":  # S3 refuses an explicit us-east-1 constraint
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            try:
                self.client.create_bucket(**params)
            except ClientError as exc:
                if _code(exc) != "BucketAlreadyOwnedByYou":
                    raise

    def put(self, bucket: str, key: str, data: bytes, content_type: str,
            metadata: dict[str, str] | None = None) -> None:
        """Store `data`; metadata keys are [a-z0-9-], values ASCII (S3 sends them as headers)."""
        meta = dict(metadata or {})
        for name, value in meta.items():
            if not _METADATA_KEY.match(name) or not isinstance(value, str) \
                    or not value.isascii():
                raise ValueError(f"metadata {name!r}: keys [a-z0-9-], values ASCII text")
        self.client.put_object(Bucket=self.bucket(bucket), Key=key, Body=data,
                               ContentType=content_type, Metadata=meta,
                               ServerSideEncryption="AES256")

    def get(self, bucket: str, key: str) -> bytes:
        body = self._get_object(bucket, key)["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def open(self, bucket: str, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The object in chunks, for large files; raises ObjectMissing now, not when read."""
        body = self._get_object(bucket, key)["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

        return chunks()

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        """Size, content type, metadata (plus etag, last_modified); None when absent."""
        try:
            found = self.client.head_object(Bucket=self.bucket(bucket), Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return {"size": found["ContentLength"], "content_type": found.get("ContentType"),
                "metadata": found.get("Metadata", {}), "etag": found.get("ETag", "").strip('"'),
                "last_modified": found.get("LastModified")}

    def list(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key under `prefix`, in key order (all pages)."""
        keys: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket(bucket), Prefix=prefix)
        for page in pages:
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def delete(self, bucket: str, key: str) -> None:
        """Idempotent: deleting an absent key is not an error (as in S3)."""
        self.client.delete_object(Bucket=self.bucket(bucket), Key=key)

    def copy(self, bucket: str, src_key: str, dst_key: str) -> None:
        """Server-side copy within a bucket, keeping content type and metadata."""
        name = self.bucket(bucket)
        try:
            self.client.copy_object(Bucket=name, Key=dst_key,
                                    CopySource={"Bucket": name, "Key": src_key},
                                    MetadataDirective="COPY", ServerSideEncryption="AES256")
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(f"No object {src_key!r} in {bucket}.") from None
            raise

    def presigned_get(self, bucket: str, key: str, expires: int = 300) -> str:
        """A URL anyone holding it can GET for `expires` seconds; keep it short-lived."""
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires must be 1 to {MAX_PRESIGN_SECONDS} seconds")
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket(bucket), "Key": key},
            ExpiresIn=expires)

    def _get_object(self, bucket: str, key: str) -> dict[str, Any]:
        try:
            return self.client.get_object(Bucket=self.bucket(bucket), Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(f"No object {key!r} in {bucket}.") from None
            raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class StorageProvider(DependencyProvider):
    """Dependency: the container's `Storage`; creates the named buckets when it starts.

    `storage = StorageProvider("feeds", "documents")`; the service's settings must
    include `StorageSettings`.
    """

    def __init__(self, *buckets: str):
        self.buckets = buckets
        self.storage: Storage | None = None

    def setup(self) -> None:
        self.storage = Storage.from_settings(self.container.config["SETTINGS"])
        self.storage.ensure_buckets(*self.buckets)

    def get_dependency(self, worker_ctx: Any) -> Storage:
        assert self.storage is not None
        return self.storage
