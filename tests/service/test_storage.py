"""services.kit.storage against a real S3 endpoint: moto's standalone server in its own
process (the way `make run` starts it), with eventlet monkey-patched as in the services."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import eventlet
import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.exceptions import deserialize, serialize
from nameko.testing.services import dummy, entrypoint_hook

from services.kit.config import BaseSettings, ConfigError, load_settings
from services.kit.errors import NotFound, ServiceError
from services.kit.storage import (
    ObjectMissing,
    Storage,
    StorageProvider,
    StorageSettings,
)
from tests.support_oidc import free_port

ROOT = Path(__file__).resolve().parents[2]


class MotoServer:
    """`python -m moto.server` on a free port; everything it holds is in memory."""

    def __init__(self, log: Path):
        self.log = log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        for _ in range(3):  # a free port may be taken before moto binds it
            self.port = free_port()
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                     "-p", str(self.port)],
                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"moto did not start:\n{self.log.read_text(errors='replace')}")

    def _wait_ready(self, timeout: float = 30.0) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if requests.get(self.url + "/moto-api/", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "s3.log").start()
    yield server
    server.stop()


def settings_for(moto: MotoServer, prefix: str) -> SimpleNamespace:
    return load_settings(StorageTestSettings, {"S3_ENDPOINT_URL": moto.url,
                                               "S3_BUCKET_PREFIX": prefix})


class StorageTestSettings(BaseSettings, StorageSettings):
    pass


@pytest.fixture
def storage(moto: MotoServer) -> Storage:
    """A fresh bucket prefix per test, so tests never see each other's objects."""
    s = Storage.from_settings(settings_for(moto, f"ms-{uuid.uuid4().hex[:10]}-"))
    s.ensure_buckets("feeds", "documents")
    return s


def test_settings_defaults_and_validation():
    settings = load_settings(StorageTestSettings, {})
    assert settings.S3_ENDPOINT_URL == "http://127.0.0.1:5055"
    assert (settings.S3_REGION, settings.S3_ACCESS_KEY_ID, settings.S3_SECRET_ACCESS_KEY,
            settings.S3_BUCKET_PREFIX) == ("eu-west-3", "memberspace-dev",
                                           "memberspace-dev-secret", "memberspace-")
    assert settings.AMQP_URI.startswith("amqp://")  # BaseSettings still there
    with pytest.raises(ConfigError) as err:
        load_settings(StorageTestSettings, {"S3_ENDPOINT_URL": "s3.example.mc",
                                            "S3_BUCKET_PREFIX": "Member_Space"})
    assert "S3_ENDPOINT_URL" in str(err.value.code)
    assert "S3_BUCKET_PREFIX" in str(err.value.code)


def test_bucket_names_carry_the_prefix():
    s = Storage("http://127.0.0.1:1", "eu-west-3", "k", "s", "memberspace-")
    assert s.bucket("feeds") == "memberspace-feeds"
    config = s.client.meta.config
    assert config.s3 == {"addressing_style": "path"}
    assert config.signature_version == "s3v4"
    assert config.retries["mode"] == "standard"


def test_round_trip(storage: Storage):
    data = b"record_id;kind\nR1;refund\n"
    storage.put("feeds", "in/2024-03-01.csv", data, "text/csv",
                metadata={"source": "ccss", "rows": "1"})
    assert storage.get("feeds", "in/2024-03-01.csv") == data

    head = storage.head("feeds", "in/2024-03-01.csv")
    assert head is not None
    assert head["size"] == len(data)
    assert head["content_type"] == "text/csv"
    assert head["metadata"] == {"source": "ccss", "rows": "1"}
    assert head["etag"]

    storage.copy("feeds", "in/2024-03-01.csv", "done/2024-03-01.csv")
    assert storage.get("feeds", "done/2024-03-01.csv") == data
    copied = storage.head("feeds", "done/2024-03-01.csv")
    assert copied is not None and copied["metadata"] == {"source": "ccss", "rows": "1"}
    assert copied["content_type"] == "text/csv"

    storage.put("feeds", "in/2024-03-02.csv", b"x", "text/csv")
    assert storage.list("feeds") == ["done/2024-03-01.csv", "in/2024-03-01.csv",
                                     "in/2024-03-02.csv"]
    assert storage.list("feeds", prefix="in/") == ["in/2024-03-01.csv", "in/2024-03-02.csv"]
    assert storage.list("documents") == []

    storage.delete("feeds", "in/2024-03-01.csv")
    assert storage.head("feeds", "in/2024-03-01.csv") is None
    assert storage.list("feeds", prefix="in/") == ["in/2024-03-02.csv"]
    storage.delete("feeds", "in/2024-03-01.csv")  # absent: still fine


def test_list_reads_every_page(storage: Storage, monkeypatch: pytest.MonkeyPatch):
    """Pages of 2 keys (S3 pages hold 1,000) to see every page read without 1,000 puts."""
    keys = [f"many/{i:02d}" for i in range(5)]
    for key in keys:
        storage.put("documents", key, b"", "application/octet-stream")
    pages: list[int] = []
    get_paginator = storage.client.get_paginator

    def small_pages(name: str):
        paginator = get_paginator(name)
        paginate = paginator.paginate

        def counted(**kwargs):
            for page in paginate(PaginationConfig={"PageSize": 2}, **kwargs):
                pages.append(page["KeyCount"])
                yield page

        paginator.paginate = counted
        return paginator

    monkeypatch.setattr(storage.client, "get_paginator", small_pages)
    assert storage.list("documents", prefix="many/") == keys
    assert pages == [2, 2, 1]


def test_one_client_for_many_greenthreads(storage: Storage):
    """A service's workers share the Storage: concurrent calls under eventlet."""
    keys = [f"green/{i:03d}" for i in range(60)]
    pool = eventlet.GreenPool(20)
    for key in keys:
        pool.spawn_n(storage.put, "documents", key, key.encode(), "text/plain")
    pool.waitall()
    assert list(pool.imap(lambda k: storage.get("documents", k), keys)) == [
        k.encode() for k in keys]
    assert storage.list("documents", prefix="green/") == keys


def test_open_streams_in_chunks(storage: Storage):
    data = bytes(range(256)) * 1024  # 256 KiB
    storage.put("documents", "big.bin", data, "application/octet-stream")
    chunks = list(storage.open("documents", "big.bin", chunk_size=64 * 1024))
    assert len(chunks) == 4
    assert b"".join(chunks) == data


def test_missing_object_is_document_unavailable(storage: Storage):
    for call in (lambda: storage.get("documents", "nope.pdf"),
                 lambda: storage.open("documents", "nope.pdf"),
                 lambda: storage.copy("documents", "nope.pdf", "other.pdf")):
        with pytest.raises(ObjectMissing) as err:
            call()
        assert err.value.code == "document_unavailable"
        assert err.value.status == 404
        assert isinstance(err.value, NotFound) and isinstance(err.value, ServiceError)
    assert storage.head("documents", "nope.pdf") is None
    back = deserialize(serialize(ObjectMissing("gone")))
    assert type(back) is ObjectMissing and back.code == "document_unavailable"


def test_ensure_buckets_is_idempotent(moto: MotoServer):
    s = Storage.from_settings(settings_for(moto, f"ms-{uuid.uuid4().hex[:10]}-"))
    s.ensure_buckets("feeds")
    s.put("feeds", "keep.txt", b"kept", "text/plain")
    s.ensure_buckets("feeds", "documents")
    s.ensure_buckets("feeds", "documents")
    assert s.get("feeds", "keep.txt") == b"kept"
    names = {b["Name"] for b in s.client.list_buckets()["Buckets"]}
    assert {s.bucket("feeds"), s.bucket("documents")} <= names
    location = s.client.get_bucket_location(Bucket=s.bucket("feeds"))
    assert location["LocationConstraint"] == "eu-west-3"


def test_presigned_get(storage: Storage):
    storage.put("documents", "attestation.pdf", b"%PDF-1.7 demo", "application/pdf")
    url = storage.presigned_get("documents", "attestation.pdf", expires=60)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.content == b"%PDF-1.7 demo"
    assert answer.headers["Content-Type"] == "application/pdf"
    with pytest.raises(ValueError):
        storage.presigned_get("documents", "attestation.pdf", expires=0)


def test_objects_are_written_with_sse(storage: Storage):
    storage.put("documents", "secret.pdf", b"x", "application/pdf")
    found = storage.client.head_object(Bucket=storage.bucket("documents"), Key="secret.pdf")
    assert found["ServerSideEncryption"] == "AES256"
    storage.copy("documents", "secret.pdf", "secret-copy.pdf")
    copied = storage.client.head_object(Bucket=storage.bucket("documents"),
                                        Key="secret-copy.pdf")
    assert copied["ServerSideEncryption"] == "AES256"


def test_metadata_must_travel_as_headers(storage: Storage):
    with pytest.raises(ValueError):
        storage.put("documents", "a.txt", b"a", "text/plain", metadata={"nom": "Émilie"})
    with pytest.raises(ValueError):
        storage.put("documents", "a.txt", b"a", "text/plain", metadata={"Bad Key": "x"})
    assert storage.head("documents", "a.txt") is None


def test_provider_in_a_container(moto: MotoServer):
    """The dependency makes its buckets at setup and hands the worker its Storage."""
    prefix = f"ms-{uuid.uuid4().hex[:10]}-"

    class Probe:
        name = "storage_probe"
        storage = StorageProvider("feeds", "documents")

        @dummy
        def store(self, key: str, text: str) -> str:
            self.storage.put("feeds", key, text.encode(), "text/plain")
            return self.storage.get("feeds", key).decode()

    container = ServiceContainer(Probe, {"SETTINGS": settings_for(moto, prefix),
                                         "AMQP_URI": "memory://"})
    container.start()
    try:
        with entrypoint_hook(container, "store") as store:
            assert store("hello.txt", "bonjour") == "bonjour"
        probe = Storage.from_settings(settings_for(moto, prefix))
        assert probe.list("documents") == []  # made at setup, though never used
        assert probe.get("feeds", "hello.txt") == b"bonjour"
    finally:
        container.stop()
