"""The database dependency: a session per unit of work, commit or rollback, outbox relay.

    with self.db.transaction() as tx:        # commits on success, rolls back on error
        tx.session.add(...)
        tx.emit("auth.member_updated", member_id=..., data={...})
        tx.audit("profile.changed", member_id=..., details={...})
    # events written in that transaction are published right after the commit

    with self.db.read() as session:          # read-only, nothing committed
        ...

The provider also runs the outbox sweeper and publishes leftovers on start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import eventlet
import psycopg2.errors
import sqlalchemy as sa
from marshmallow import Schema
from nameko.extensions import DependencyProvider
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.contracts.events import EVENT_SCHEMAS
from services.kit.context import CallContext, context_from_data
from services.kit.errors import FieldError, ValidationFailed
from services.kit.events import OutboxRelay, add_to_outbox, build_envelope, check_event
from services.kit.handlers import handler_queues, retry_due
from services.kit.logging import get_logger
from services.kit.tables import audit_log

log = get_logger(__name__)


def make_engine(url: str, pool_size: int = 10, **options: Any) -> Engine:
    # No pre-ping: it costs a round trip per checkout on the hot path; connections are
    # recycled instead, and a connection broken by a database restart fails one call.
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        **options,
    )
    sa.event.listen(engine, "handle_error", _refuse_bad_input)
    return engine


def _refuse_bad_input(context: Any) -> None:
    """What only the database notices about a caller's values is the caller's bad input
    (422), not a failure of ours: text holding NUL (U+0000), which psycopg2 refuses
    before sending it; a value PostgreSQL cannot read as its column's type (an
    identifier that is no UUID, say)."""
    exc = context.original_exception
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
        raise ValidationFailed.of([FieldError("", "nul_character",
                                              "Text may not contain NUL (U+0000) characters.")])
    if isinstance(exc, psycopg2.errors.InvalidTextRepresentation):
        raise ValidationFailed.of([FieldError("", "invalid",
                                              "A value is not of the expected form.")])


class UnitOfWork:
    """One transaction: the session plus the event and audit writers bound to it."""

    def __init__(self, session: Session, context: CallContext,
                 event_schemas: Mapping[tuple[str, int], type[Schema]] = EVENT_SCHEMAS):
        self.session = session
        self.context = context
        self.event_schemas = event_schemas
        self.refusal: BaseException | None = None

    def refuse_after_commit(self, error: BaseException) -> None:
        """Commit what was written (say, a failed-login count), then raise `error`."""
        self.refusal = error

    def emit(self, event_type: str, *, member_id: str | None, data: dict[str, Any],
             version: int = 1) -> str:
        """Add an event to the outbox, in this transaction. `data` must meet the event's
        contract (services/contracts/events.py): `InvalidEvent` otherwise, which rolls
        the transaction back."""
        check_event(event_type, version, data, self.event_schemas)
        envelope = build_envelope(event_type, data, member_id=member_id,
                                  correlation_id=self.context.correlation_id, version=version)
        return add_to_outbox(self.session, envelope)

    def audit(self, action: str, *, member_id: str | None,
              details: dict[str, Any] | None = None) -> None:
        record_audit(self.session, self.context, action, member_id=member_id, details=details)


def record_audit(session: Session, context: CallContext, action: str, *,
                 member_id: str | None, details: dict[str, Any] | None = None) -> None:
    """Append one line to the service's audit log (who, what, which member, when)."""
    session.execute(
        audit_log.insert().values(
            actor_type=context.actor_type,
            actor_id=context.actor_id,
            session_id=context.session_id,
            member_id=member_id,
            action=action,
            details={**(details or {}), "claimed_actor": context.claimed_actor}
            if context.claimed_actor else (details or {}),
            correlation_id=(context.correlation_id or "")[:100] or None,
        )
    )


def purge_audit(engine: Engine, retention_days: int) -> int:
    """Delete audit lines past their retention (the log is otherwise append-only)."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL memberspace.audit_purge = 'on'"))
        return conn.execute(audit_log.delete().where(
            audit_log.c.at < sa.func.now() - sa.text(f"interval '{int(retention_days)} days'")
        )).rowcount


class Store:
    """What a worker sees of the database."""

    def __init__(self, provider: Database, context: CallContext):
        self._provider = provider
        self.context = context

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        session = self._provider.sessionmaker()
        uow = UnitOfWork(session, self.context, self._provider.event_schemas)
        try:
            yield uow
            ids = list(session.info.get("outbox_ids", ()))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if ids:
            self._provider.relay_after_commit(ids)
        if uow.refusal is not None:
            raise uow.refusal

    @contextmanager
    def member_read(self, member_id: str | None, action: str,
                    details: dict[str, Any] | None = None) -> Iterator[Session]:
        """Read a member's data; audited unless the member reads their own."""
        ctx = self.context
        if ctx.actor_type == "member" and ctx.actor_id == member_id:
            with self.read() as session:
                yield session
            return
        with self.transaction() as tx:
            yield tx.session
            tx.audit(action, member_id=member_id, details=details)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Reads in autocommit: no BEGIN/ROLLBACK round trips around a single query."""
        session = self._provider.read_sessionmaker()
        try:
            yield session
        finally:
            session.close()

    @property
    def engine(self) -> Engine:
        return self._provider.engine


class Database(DependencyProvider):
    """SQLAlchemy engine per container; sessions per unit of work; outbox relay."""

    def __init__(self, setting: str, sweep_interval: float = 5.0,
                 event_schemas: Mapping[tuple[str, int], type[Schema]] | None = None):
        """`event_schemas`: contracts of events beyond the suite's (a test probe's)."""
        self.setting = setting
        self.sweep_interval = sweep_interval
        self.event_schemas = ({**EVENT_SCHEMAS, **event_schemas} if event_schemas
                              else EVENT_SCHEMAS)
        self.engine: Engine | None = None

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.engine = make_engine(getattr(settings, self.setting),
                                  pool_size=min(settings.MAX_WORKERS, 20))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # a pool of its own, born in autocommit: switching a pooled connection's mode
        # at every checkout would cost a round trip
        self.read_engine = make_engine(getattr(settings, self.setting),
                                       pool_size=min(settings.MAX_WORKERS, 20),
                                       isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)
        from services.kit.rpc import broker_user

        self.relay = OutboxRelay(self.engine, settings.AMQP_URI,
                                 broker_user(self.container.config))
        self.audit_retention_days = settings.AUDIT_RETENTION_DAYS
        self.amqp_uri = settings.AMQP_URI
        # services with kit event handlers keep failed events to retry
        self.retries_events = bool(handler_queues(self.container.service_cls))
        self._sweeper = None

    def start(self) -> None:
        self._sweeper = self.container.spawn_managed_thread(self._sweep_forever)

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.kill()
        if self.engine is not None:
            self.engine.dispose()
            self.read_engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Store:
        return Store(self, context_from_data(worker_ctx.context_data))

    def relay_after_commit(self, ids: list[str]) -> None:
        try:
            self.relay.publish_ids(ids)
        except Exception:  # the sweeper will publish them
            log.warning("outbox_relay_deferred", count=len(ids), exc_info=True)

    def _sweep_forever(self) -> None:
        last_purge = dt.datetime.min
        while True:
            eventlet.sleep(self.sweep_interval)
            try:
                sent = self.relay.sweep()
                if sent:
                    log.info("outbox_swept", published=sent)
                if self.retries_events:
                    retried = retry_due(self.engine, self.container)
                    if retried:
                        log.info("failed_events_retried", count=retried)
                if dt.datetime.now() - last_purge > dt.timedelta(hours=1):
                    self.relay.purge()
                    purge_audit(self.engine, self.audit_retention_days)
                    last_purge = dt.datetime.now()
            except Exception:
                log.warning("outbox_sweep_failed", exc_info=True)
