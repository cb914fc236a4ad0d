"""`/metrics`, `/livez` and `/readyz` on a service's own `METRICS_PORT`.

A green WSGI server (eventlet.wsgi) in the service process answers from what the
process holds, with no RPC round trip: `/livez` is 200 while the container runs and its
broker consumer connection is up; `/readyz` adds that its database answers a
`SELECT 1`. The runner starts it when `METRICS_PORT` is set (0, the default, is off);
it must never be the gateway's public port.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
import eventlet.wsgi
import sqlalchemy as sa
from nameko.messaging import QueueConsumer
from prometheus_client import REGISTRY, make_wsgi_app

from services.kit.config import StartRefused
from services.kit.logging import get_logger
from services.kit.metrics import DatabaseCollector, Instrumentation

log = get_logger(__name__)


def instrument(container: Any) -> None:
    """Bind the metrics dependency to a container, and have its queue consumers note
    their live connection, before it starts."""
    container.dependencies.add(Instrumentation().bind(container, "_kit_metrics"))
    for consumer in _queue_consumers(container):
        _watch_connection(consumer)


def _queue_consumers(container: Any) -> list[QueueConsumer]:
    return [e for e in container.subextensions if isinstance(e, QueueConsumer)]


def _watch_connection(consumer: QueueConsumer) -> None:
    """kombu's ConsumerMixin calls `on_consume_ready` with the connection it consumes on
    after each (re)connection, and `on_connection_error` when it is lost."""
    if getattr(consumer, "_probe_watched", False):
        return
    consumer._probe_watched = True
    consumer._probe_connection = None
    ready, error = consumer.on_consume_ready, consumer.on_connection_error

    def on_consume_ready(connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> Any:
        consumer._probe_connection = connection
        return ready(connection, channel, consumers, **kwargs)

    def on_connection_error(exc: Any, interval: Any) -> Any:
        consumer._probe_connection = None
        return error(exc, interval)

    consumer.on_consume_ready = on_consume_ready
    consumer.on_connection_error = on_connection_error


def _database(container: Any) -> Any:
    from services.kit.db import Database

    return next((d for d in container.dependencies if isinstance(d, Database)), None)


def broker_connected(container: Any) -> tuple[bool, str]:
    """Every queue consumer of the container runs with a live connection."""
    consumers = _queue_consumers(container)
    for consumer in consumers:
        gt = getattr(consumer, "_gt", None)
        if gt is None or gt.dead:
            return False, "consumer not running"
        connection = getattr(consumer, "_probe_connection", None)
        if connection is None or not connection.connected:
            return False, "broker connection down"
    return True, f"{len(consumers)} consumer(s)"


def database_answers(database: Any) -> tuple[bool, str]:
    engine = getattr(database, "read_engine", None)
    if engine is None:
        return True, "no database"
    try:
        with eventlet.Timeout(3):
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
    except (Exception, eventlet.Timeout) as exc:
        return False, f"database: {type(exc).__name__}"
    return True, "database answers"


class ProbeApp:
    def __init__(self, container: Any):
        self.container = container
        self.database = _database(container)
        self.metrics = make_wsgi_app(REGISTRY)

    def checks(self, ready: bool) -> dict[str, tuple[bool, str]]:
        running = self.container.started and not getattr(self.container, "_being_killed",
                                                         False)
        checks = {"container": (running, "running" if running else "stopped"),
                  "broker": broker_connected(self.container)}
        if ready:
            checks["database"] = database_answers(self.database)
        return checks

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self.metrics(environ, start_response)
        if path in ("/livez", "/readyz"):
            checks = self.checks(ready=path == "/readyz")
            ok = all(passed for passed, _ in checks.values())
            body = json.dumps({"ok": ok, "checks": {k: {"ok": p, "detail": d}
                                                    for k, (p, d) in checks.items()}})
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json"),
                            ("Cache-Control", "no-store")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]


def public_port(settings: Any) -> int | None:
    address = getattr(settings, "WEB_SERVER_ADDRESS", None)
    if not address:
        return None
    try:
        return int(str(address).rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def serve(container: Any, settings: Any) -> Any:
    """Start the probe server when METRICS_PORT is set; returns its green thread."""
    port = getattr(settings, "METRICS_PORT", 0)
    if not port:
        return None
    if port == public_port(settings):
        raise StartRefused(f"METRICS_PORT {port} is the public port of WEB_SERVER_ADDRESS")
    database = _database(container)
    if database is not None:
        REGISTRY.register(DatabaseCollector(container.service_name, database))
    try:
        sock = eventlet.listen((settings.METRICS_ADDRESS, port))
    except OSError as exc:
        raise StartRefused(f"METRICS_PORT {port}: {exc.strerror}") from None
    quiet = logging.getLogger("memberspace.probes.access")
    quiet.setLevel(logging.WARNING)
    log.info("probes_listening", port=port)
    return eventlet.spawn(eventlet.wsgi.server, sock, ProbeApp(container), log=quiet,
                          log_output=False, debug=False)
