"""Make sure the machine's own services answer: RabbitMQ, Redis and PostgreSQL.

When one is installed here but stopped, start it the way this kind of machine
does; when it is missing, stop with a one-line remedy.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass(frozen=True)
class Dependency:
    name: str
    host: str
    port: int
    start: list[str] | None
    remedy: str


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _postgres_start() -> list[str] | None:
    if not shutil.which("pg_ctlcluster") or not os.path.isdir("/etc/postgresql"):
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]


def dependencies() -> list[Dependency]:
    amqp = urlparse(os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    return [
        Dependency(
            "RabbitMQ", amqp.hostname or "127.0.0.1", amqp.port or 5672,
            ["rabbitmq-server", "-detached"] if shutil.which("rabbitmq-server") else None,
            "install and start RabbitMQ (apt-get install rabbitmq-server) or set AMQP_URI",
        ),
        Dependency(
            "Redis", "127.0.0.1", 6379,
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
             "--port", "6379", "--save", "", "--appendonly", "no"]
            if shutil.which("redis-server") else None,
            "install and start Redis (apt-get install redis-server) or set GATEWAY_REDIS_URL",
        ),
        Dependency(
            "PostgreSQL", "127.0.0.1", 5432, _postgres_start(),
            "install and start PostgreSQL (apt-get install postgresql) or set "
            "<SERVICE>_DATABASE_URL",
        ),
    ]


def ensure(deps: list[Dependency] | None = None, wait: float = 60.0) -> None:
    for dep in deps or dependencies():
        if answers(dep.host, dep.port):
            continue
        if dep.start is None or dep.host not in ("127.0.0.1", "localhost"):
            sys.exit(f"{dep.name} does not answer on {dep.host}:{dep.port}: {dep.remedy}")
        print(f"{dep.name} is stopped; starting it: {' '.join(dep.start)}", flush=True)
        subprocess.run(dep.start, check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while not answers(dep.host, dep.port):
            if time.monotonic() > deadline:
                sys.exit(f"{dep.name} did not start on {dep.host}:{dep.port}: {dep.remedy}")
            time.sleep(0.5)


def _rabbitmqctl() -> str:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        sys.exit("rabbitmqctl is needed to set up the broker's users and topology "
                 "(run on the RabbitMQ machine as root, or apply deploy/broker/ yourself)")
    return ctl


def ensure_vhost(vhost: str, fresh: bool = False) -> None:
    """A RabbitMQ virtual host (a test run's own) with the suite's users, permissions,
    exchanges and queues (`deploy/broker/`), via rabbitmqctl under the admin identity."""
    ctl = _rabbitmqctl()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if fresh and vhost not in ("", "/"):
        subprocess.run([ctl, "delete_vhost", vhost], check=False, **quiet)
    apply_broker_setup(vhost or "/")


def apply_broker_setup(vhost: str) -> None:
    """Users (fixed development passwords), permissions, topic permissions, exchanges,
    queues and bindings for `vhost`, in one idempotent `rabbitmqctl import_definitions`
    (the guest/admin identity is used here and nowhere else)."""
    import json

    from deploy.broker import IDENTITIES, definitions, dev_passwords

    doc = definitions(vhost, IDENTITIES, dev_passwords())
    # on standard input: the broker node (another OS user) reads a file path itself
    done = subprocess.run([_rabbitmqctl(), "import_definitions", "--format", "json"],
                          input=json.dumps(doc), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"could not set up the broker for virtual host {vhost}: "
                 f"{(done.stderr or done.stdout).strip()}")
