"""Each service starts from a virtualenv holding its dependency set alone, with only the
code its image holds, against the real broker, database and object storage, until its
health answers; so a missing dependency (or a file the image leaves out) fails here.

The virtualenvs are built once and kept under var/service-venvs/ (deploy/service_venvs.py).
Everything runs on a vhost, databases and ports of this test's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from deploy import infra, service_venvs
from deploy import k8s_manifests as k8s
from deploy.broker import identity_uri
from deploy.dependency_sets import SERVICES
from deploy.suite import dev_keys
from services.kit.identities import service_user
from services.kit.migrate import drop_database
from tests import support
from tests.support import PG, TEST_NAME

VHOST = f"{TEST_NAME}_venvs"
S3_PORT = support.test_port(18057)
WEB_PORT = support.test_port(18058)
DATABASE_SERVICES = [s for s in SERVICES if s != "gateway"]


def url(service: str) -> str:
    return f"{PG}/{TEST_NAME}_venv_{service}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    started = time.monotonic()
    built = {s: service_venvs.build(s) for s in SERVICES}
    print(f"\nservice virtualenvs: {', '.join(f'{s} {t:.1f} s' for s, (_, t) in built.items())}"
          f" ({time.monotonic() - started:.1f} s in all)")
    infra.ensure_vhost(VHOST, fresh=True)
    for service in DATABASE_SERVICES:
        drop_database(url(service))
    var = tmp_path_factory.mktemp("venvs")
    s3 = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                           str(S3_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(var), "PYTHONUNBUFFERED": "1",
           # each process logs in as its own broker user (see as_identity)
           "AMQP_URI": f"amqp://127.0.0.1:5672/{VHOST}",
           "LOG_LEVEL": "INFO", "S3_ENDPOINT_URL": f"http://127.0.0.1:{S3_PORT}",
           "S3_ACCESS_KEY_ID": "memberspace-dev", "S3_SECRET_ACCESS_KEY": "memberspace-dev",
           "S3_BUCKET_PREFIX": f"{TEST_NAME.replace('_', '-')}-venvs-",
           "WEB_SERVER_ADDRESS": f"127.0.0.1:{WEB_PORT}",
           "GATEWAY_REDIS_PREFIX": f"{TEST_NAME}-venvs:", "GATEWAY_COOKIE_SECURE": "false",
           "NOTIFICATIONS_SMTP_PORT": str(support.test_port(18059)),
           **dev_keys(var), **{f"{s.upper()}_DATABASE_URL": url(s) for s in DATABASE_SERVICES}}
    yield {"env": env, "python": {s: p for s, (p, _) in built.items()}, "var": var}
    s3.terminate()
    s3.wait(timeout=10)
    subprocess.run(["rabbitmqctl", "delete_vhost", VHOST], check=False, capture_output=True)
    for service in DATABASE_SERVICES:
        drop_database(url(service))


def as_identity(stack, user: str) -> dict[str, str]:
    return {**stack["env"], "AMQP_URI": identity_uri(stack["env"]["AMQP_URI"], user)}


def run(stack, service: str, *args: str, **kw) -> subprocess.CompletedProcess:
    user = kw.pop("user", service_user(service))
    return subprocess.run([str(stack["python"][service]), *args],
                          env=as_identity(stack, user),
                          cwd=service_venvs.stage_code(service) if kw.pop("stage", False)
                          else service_venvs.VENVS / f"{service}-app",
                          capture_output=True, text=True, timeout=kw.pop("timeout", 180))


def ready(stack, service: str) -> bool:
    try:
        return run(stack, service, "-m", "services.kit.health", service,
                   user="memberspace-health", timeout=30).returncode == 0
    except Exception as exc:  # the probe's own timeout (eventlet's green TimeoutExpired)
        assert "TimeoutExpired" in type(exc).__name__, exc
        return False


def test_each_service_migrates_and_starts_from_its_own_virtualenv(stack):
    for service in DATABASE_SERVICES:  # what the initContainer runs
        done = run(stack, service, "-m", "services.kit.migrate", service, stage=True)
        assert done.returncode == 0, done.stdout + done.stderr
    service_venvs.stage_code("gateway")
    # the topology (the deploy's broker resources) came with the vhost's set-up
    processes: dict[str, subprocess.Popen] = {}
    logs = stack["var"] / "logs"
    logs.mkdir()
    try:
        for service in SERVICES:
            log = open(logs / f"{service}.log", "wb")
            processes[service] = subprocess.Popen(
                [str(stack["python"][service]), "-m", "services.kit.runner",
                 k8s.SERVICES[service]["class"]], env=as_identity(stack, service_user(service)),
                cwd=service_venvs.VENVS / f"{service}-app", stdout=log,
                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 480  # a loaded 2-core machine: imports take 20 s
        waiting = set(DATABASE_SERVICES)
        while waiting:  # what the readiness probes run, from each service's own venv
            for service in sorted(waiting):
                assert processes[service].poll() is None, (
                    service, (logs / f"{service}.log").read_text()[-3000:])
                if ready(stack, service):
                    waiting.discard(service)
            assert time.monotonic() < deadline, f"not ready: {waiting}"
            time.sleep(1)
        while True:  # the gateway's readiness: every service ready, its views loaded
            assert processes["gateway"].poll() is None, (logs / "gateway.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{WEB_PORT}/health", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "gateway not ready"
            time.sleep(1)
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        codes = {s: p.wait(timeout=60) for s, p in processes.items()}
    assert codes == dict.fromkeys(SERVICES, 0)  # SIGTERM: a graceful stop, exit 0


def test_a_set_missing_a_library_fails_to_start(stack, tmp_path):
    python = stack["python"]["notifications"]
    site = Path(subprocess.run([str(python), "-c", "import jinja2, os; "
                                "print(os.path.dirname(os.path.dirname(jinja2.__file__)))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    hidden = tmp_path / "jinja2"
    os.rename(site / "jinja2", hidden)
    try:
        done = run(stack, "notifications", "-m", "services.kit.runner",
                   k8s.SERVICES["notifications"]["class"], timeout=60)
        assert done.returncode != 0 and "jinja2" in done.stderr
    finally:
        os.rename(hidden, site / "jinja2")
