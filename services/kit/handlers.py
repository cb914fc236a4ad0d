"""Event handlers that never lose an event and never handle one twice.

    class NotificationsService:
        db = Database("NOTIFICATIONS_DATABASE_URL")

        @on_event("auth", "password_changed")
        def password_changed(self, tx, envelope):
            ...   # runs in one transaction with the "processed" mark

- Idempotent: the event id is marked processed in the handler's own transaction; a
  redelivered event changes nothing.
- Never dropped: a handler that raises has its transaction rolled back and the event
  kept in `failed_events` with its error; the database provider's sweeper hands it
  back to this handler, in the service's own process (no broker identity may write
  to the default exchange), after a growing delay (2 s, 4 s, 8 s ... capped at 1 h),
  up to `MAX_ATTEMPTS`, then keeps it for an operator (no next attempt). No hot loop.
  Only when even keeping it fails (database down) is it handed back to the broker,
  after a pause.
- Queues exist before anyone publishes: the admin set-up (`deploy/broker/`) declares
  every handler's durable queue and its binding before any service starts.
"""

from __future__ import annotations

import datetime as dt
import functools
import traceback
from collections.abc import Callable
from typing import Any

import eventlet
import sqlalchemy as sa
from kombu import Queue
from marshmallow import ValidationError
from nameko.events import EventHandler
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from services.kit.events import event_exchange, mark_processed, parse_envelope
from services.kit.logging import get_logger
from services.kit.queues import ServiceEventHandler, queue_arguments
from services.kit.tables import failed_events, processed_events

log = get_logger(__name__)

MAX_ATTEMPTS = 16
REQUEUE_PAUSE = 5.0


def backoff(attempts: int) -> dt.timedelta:
    # short first: most failures are an event overtaking the one it depends on
    return dt.timedelta(seconds=min(3600, 2 ** max(1, attempts)))


def queue_name(source: str, event_name: str, service: str, method: str) -> str:
    """nameko's name for a service-pool handler's queue."""
    return f"evt-{source}-{event_name}--{service}.{method}"


def on_event(source: str, event_name: str) -> Callable[[Callable], Callable]:
    def decorate(fn: Callable) -> Callable:
        consumer = f"{fn.__name__}"

        @functools.wraps(fn)
        def handle(self: Any, payload: Any) -> None:
            queue = queue_name(source, event_name, self.name, fn.__name__)
            try:
                envelope = parse_envelope(payload)
            except ValidationError as exc:
                log.error("event_malformed", queue=queue, errors=exc.messages)
                return  # nothing to retry: it can never be handled
            try:
                with self.db.transaction() as tx:
                    if not mark_processed(tx.session, f"{self.name}.{consumer}",
                                          envelope["event_id"]):
                        log.info("event_duplicate", event_id=envelope["event_id"])
                        return
                    fn(self, tx, envelope)
            except Exception as exc:
                log.warning("event_handling_failed", queue=queue,
                            event_id=envelope["event_id"], error=type(exc).__name__)
                try:
                    record_failure(self.db.engine, f"{self.name}.{consumer}", queue, payload,
                                   envelope["event_id"], exc)
                except Exception:
                    # cannot even keep it (database down): hand it back to the broker,
                    # after a pause so that this is no hot loop
                    log.error("event_requeued", queue=queue, event_id=envelope["event_id"])
                    eventlet.sleep(REQUEUE_PAUSE)
                    raise

        return ServiceEventHandler.decorator(source, event_name, requeue_on_error=True)(handle)

    return decorate


def record_failure(engine: Engine, consumer: str, queue: str, payload: Any, event_id: str,
                   exc: BaseException) -> None:
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        attempts = conn.scalar(
            pg_insert(failed_events)
            .values(consumer=consumer, event_id=event_id, queue=queue, payload=payload,
                    error=error, attempts=1, next_attempt_at=now + backoff(1))
            .on_conflict_do_update(
                index_elements=["consumer", "event_id"],
                set_={"error": error, "attempts": failed_events.c.attempts + 1,
                      "last_failed_at": now})
            .returning(failed_events.c.attempts))
        next_at = now + backoff(attempts) if attempts < MAX_ATTEMPTS else None
        conn.execute(failed_events.update().where(
            failed_events.c.consumer == consumer, failed_events.c.event_id == event_id)
            .values(next_attempt_at=next_at))
    if next_at is None:
        log.error("event_dead", consumer=consumer, event_id=event_id, attempts=attempts)


def retry_due(engine: Engine, container: Any, batch: int = 100) -> int:
    """Hand due failed events back to their handler in this process (the sweeper
    calls this): a worker of the service's container, as if just delivered."""
    handlers = {f"{container.service_name}.{e.method_name}": e
                for e in container.entrypoints if isinstance(e, EventHandler)}
    due = []
    with engine.begin() as conn:
        # a retry that succeeded left its row behind: drop it rather than resend it
        conn.execute(failed_events.delete().where(sa.exists().where(
            processed_events.c.consumer == failed_events.c.consumer,
            processed_events.c.event_id == failed_events.c.event_id)))
        rows = conn.execute(
            sa.select(failed_events).where(failed_events.c.next_attempt_at <= sa.func.now())
            .order_by(failed_events.c.next_attempt_at).limit(batch)
            .with_for_update(skip_locked=True)).all()
        for row in rows:
            if row.consumer not in handlers:  # a handler since removed: for an operator
                continue
            # a watchdog: should this attempt get lost, it is made again later; once
            # handled, the next sweep removes the row (see above)
            conn.execute(failed_events.update().where(
                failed_events.c.consumer == row.consumer,
                failed_events.c.event_id == row.event_id).values(
                next_attempt_at=sa.func.now() + backoff(row.attempts + 1)))
            due.append(row)
    # after commit: a failing attempt records itself on these rows, which the
    # transaction above no longer locks (and a full worker pool only makes this wait)
    for row in due:
        container.spawn_worker(handlers[row.consumer], (row.payload,), {}, context_data={})
    return len(due)


def handler_queues(service_cls: type, quorum: bool = False) -> list[Queue]:
    """The durable queues nameko will consume for the class's event handlers."""
    queues = []
    for name in dir(service_cls):
        method = getattr(service_cls, name, None)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventHandler) and entrypoint.handler_type == "service_pool":
                src, evt = entrypoint.source_service, entrypoint.event_type
                queues.append(Queue(queue_name(src, evt, service_cls.name, name),
                                    exchange=event_exchange(src), routing_key=evt,
                                    durable=True, auto_delete=False,
                                    queue_arguments=queue_arguments(quorum)))
    return queues
