"""Prometheus metrics of a service process (served by `services.kit.probes`).

- `Instrumentation`, a dependency the runner adds to every container, times each worker:
  RPC calls and event handling by method and outcome, HTTP requests at the gateway by
  route (the route table's template, never the raw path) and status.
- `DatabaseCollector` reads, at scrape time, what only the database knows: the outbox
  backlog and its oldest age, failed events kept for retry, e-mails queued and failed
  (notifications), and the connection pools' use.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.kit.logging import get_logger

log = get_logger(__name__)

# the gateway puts the matched route's template here (`request.environ`)
ROUTE_KEY = "memberspace.route"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

RPC_CALLS = Counter("memberspace_rpc_calls", "RPC calls served, by method and outcome",
                    ["service", "method", "outcome"])
RPC_SECONDS = Histogram("memberspace_rpc_duration_seconds", "RPC call latency",
                        ["service", "method"], buckets=BUCKETS)
EVENTS = Counter("memberspace_events_handled", "Events handled, by handler and outcome",
                 ["service", "handler", "outcome"])
EVENT_SECONDS = Histogram("memberspace_event_duration_seconds", "Event handling latency",
                          ["service", "handler"], buckets=BUCKETS)
HTTP_REQUESTS = Counter("memberspace_http_requests", "HTTP requests, by route and status",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("memberspace_http_request_duration_seconds",
                         "HTTP request latency", ["method", "route"], buckets=BUCKETS)


def _kind(entrypoint: Any) -> str:
    if isinstance(entrypoint, HttpRequestHandler):
        return "http"
    if isinstance(entrypoint, Rpc):
        return "rpc"
    return "event"


def _status(result: Any, exc_info: Any) -> int:
    if exc_info is not None:
        return 500
    status = getattr(result, "status_code", None)
    if status is None and isinstance(result, tuple) and result and isinstance(result[0], int):
        status = result[0]
    return int(status or 200)


class Instrumentation(DependencyProvider):
    """Times every worker of the container it is bound to (added by the runner)."""

    def setup(self) -> None:
        self.started: dict[int, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self.started[id(worker_ctx)] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self.started.pop(id(worker_ctx), None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        try:
            self._record(worker_ctx, result, exc_info, elapsed)
        except Exception:  # metrics never break a call
            log.warning("metrics_record_failed", exc_info=True)

    def _record(self, worker_ctx: Any, result: Any, exc_info: Any, elapsed: float) -> None:
        entrypoint = worker_ctx.entrypoint
        service = self.container.service_name
        kind = _kind(entrypoint)
        if kind == "http":
            request = worker_ctx.args[0] if worker_ctx.args else None
            route = (request.environ.get(ROUTE_KEY) if request is not None else None) \
                or "unmatched"
            method = request.method if request is not None else "?"
            HTTP_REQUESTS.labels(method, route, str(_status(result, exc_info))).inc()
            HTTP_SECONDS.labels(method, route).observe(elapsed)
            return
        name = entrypoint.method_name
        if kind == "rpc":
            outcome = "ok" if exc_info is None else exc_info[0].__name__
            RPC_CALLS.labels(service, name, outcome).inc()
            RPC_SECONDS.labels(service, name).observe(elapsed)
        else:
            EVENTS.labels(service, name, "ok" if exc_info is None else "error").inc()
            EVENT_SECONDS.labels(service, name).observe(elapsed)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class DatabaseCollector(Collector):
    """Gauges read from a service's database at each scrape."""

    def __init__(self, service: str, database: Any):
        self.service = service
        self.database = database  # services.kit.db.Database, once set up

    def collect(self) -> Any:
        engine = getattr(self.database, "engine", None)
        if engine is None:
            return
        labels = [self.service]
        pool = GaugeMetricFamily("memberspace_db_pool_connections",
                                 "Database connections by pool and state",
                                 labels=["service", "pool", "state"])
        for name, eng in (("write", engine), ("read", getattr(self.database, "read_engine",
                                                                  None))):
            if eng is None:
                continue
            p = eng.pool
            pool.add_metric([self.service, name, "in_use"], p.checkedout())
            pool.add_metric([self.service, name, "idle"], p.checkedin())
            pool.add_metric([self.service, name, "size"], p.size())
        yield pool
        try:
            rows = self._query(engine)
        except Exception as exc:  # the database is down: readiness says so; no gauges
            log.warning("metrics_database_unavailable", error=type(exc).__name__)
            return
        backlog = GaugeMetricFamily("memberspace_outbox_backlog",
                                    "Events written but not yet published", labels=["service"])
        backlog.add_metric(labels, rows["backlog"])
        yield backlog
        age = GaugeMetricFamily("memberspace_outbox_oldest_age_seconds",
                                "Age of the oldest unpublished event (0 when none)",
                                labels=["service"])
        age.add_metric(labels, rows["oldest_age"])
        yield age
        failed = GaugeMetricFamily("memberspace_failed_events",
                                   "Events whose handling failed, kept for retry",
                                   labels=["service"])
        failed.add_metric(labels, rows["failed"])
        yield failed
        if rows.get("emails") is not None:
            emails = GaugeMetricFamily("memberspace_emails", "E-mails by state",
                                       labels=["service", "state"])
            for state, count in sorted(rows["emails"].items()):
                emails.add_metric([self.service, state], count)
            yield emails

    def _query(self, engine: Any) -> dict[str, Any]:
        with engine.connect() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 2000"))
            backlog, oldest = conn.execute(sa.text(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                "FROM outbox WHERE published_at IS NULL")).one()
            # failed_events exists where the service has event handlers; emails in
            # notifications only
            has_failed, has_emails = conn.execute(sa.text(
                "SELECT to_regclass('failed_events') IS NOT NULL, "
                "to_regclass('emails') IS NOT NULL")).one()
            failed = conn.execute(sa.text("SELECT count(*) FROM failed_events")) \
                .scalar_one() if has_failed else 0
            emails = None
            if has_emails:
                emails = {"queued": 0, "sent": 0, "failed": 0}
                emails.update(dict(conn.execute(sa.text(
                    "SELECT state, count(*) FROM emails GROUP BY state")).all()))
            conn.rollback()
        return {"backlog": backlog, "oldest_age": float(oldest), "failed": failed,
                "emails": emails}
