"""Events between services: the envelope, the transactional outbox and idempotency.

An event type is `<source>.<name>` (e.g. `auth.member_created`); it is published on
the topic exchange `<source>.events` with routing key `<name>`, which is what
nameko's `@event_handler("<source>", "<name>")` listens to. Payload = the envelope.

Events are never published directly: a service adds them to its `outbox` table in
the same transaction as the change they describe; the relay publishes them right
after commit, and a sweeper publishes whatever a crash left behind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from kombu import Exchange
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from services.contracts.events import EVENT_SCHEMAS, UnknownEvent, check_event_data
from services.kit.logging import get_logger
from services.kit.tables import outbox, processed_events

log = get_logger(__name__)

ENVELOPE_HEADER_PREFIX = "nameko."


class EnvelopeSchema(Schema):
    """The event envelope: a public, versioned contract (docs/events.md)."""

    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    correlation_id = fields.String(load_default=None, allow_none=True)
    member_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


_envelope_schema = EnvelopeSchema()


def event_exchange(source: str) -> Exchange:
    """The exchange nameko's event handlers bind to for `source`'s events (declared by
    the admin set-up, never by a service)."""
    return Exchange(f"{source}.events", type="topic", durable=True, delivery_mode=PERSISTENT,
                    no_declare=True)


def split_type(event_type: str) -> tuple[str, str]:
    source, _, name = event_type.partition(".")
    return source, name


def build_envelope(event_type: str, data: dict[str, Any], *, member_id: str | None,
                   correlation_id: str | None, version: int = 1) -> dict[str, Any]:
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "correlation_id": correlation_id,
        "member_id": member_id,
        "data": data,
    }
    errors = _envelope_schema.validate(envelope)
    if errors:
        raise ValueError(f"invalid event envelope: {errors}")
    return envelope


class InvalidEvent(ValueError):
    """An event that breaks its contract, or has none: a bug of the publisher. Raised
    inside the unit of work, it rolls the whole transaction back."""


def check_event(event_type: str, version: int, data: Any,
                schemas: Mapping[tuple[str, int], type[Schema]] = EVENT_SCHEMAS) -> None:
    """Refuse `data` that does not meet the contract of `event_type` at `version`
    (services/contracts/events.py), or an event type and version with no contract."""
    try:
        check_event_data(event_type, version, data, schemas)
    except UnknownEvent as exc:
        raise InvalidEvent(str(exc)) from None
    except ValidationError as exc:
        raise InvalidEvent(f"event {event_type} v{version} breaks its contract: "
                           f"{exc.messages}") from None


def parse_envelope(payload: Any) -> dict[str, Any]:
    """Validate a received envelope; raises marshmallow.ValidationError."""
    if not isinstance(payload, dict):
        raise ValidationError("event payload is not an object")
    loaded = _envelope_schema.load(payload)
    loaded["event_id"] = str(loaded["event_id"])
    return loaded


def add_to_outbox(session: Session, envelope: dict[str, Any]) -> str:
    """Write the event in the caller's transaction; returns its id."""
    session.execute(
        outbox.insert().values(
            id=envelope["event_id"], event_type=envelope["type"], payload=envelope
        )
    )
    session.info.setdefault("outbox_ids", []).append(envelope["event_id"])
    return envelope["event_id"]


def mark_processed(session: Session, consumer: str, event_id: str) -> bool:
    """Record that `consumer` handled `event_id`; False if it already had.

    Call inside the handler's transaction, before its writes: a redelivered event
    then changes nothing, and a rolled-back handling leaves no mark.
    """
    result = session.execute(
        pg_insert(processed_events)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1


class OutboxRelay:
    """Publishes outbox rows; safe to run in several instances at once."""

    def __init__(self, engine: Engine, amqp_uri: str, user_id: str | None = None):
        self.engine = engine
        # signed with the service's broker user (RabbitMQ checks it); the exchange is
        # the admin set-up's, never declared here
        extra = {"user_id": user_id} if user_id else {}
        self.publisher = Publisher(amqp_uri, use_confirms=True, serializer="json", **extra)

    def publish_ids(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        return self._publish_where(outbox.c.id.in_(ids))

    def sweep(self, older_than: float = 2.0, batch: int = 200) -> int:
        """Publish rows a crash or a broker outage left behind."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)
        return self._publish_where(outbox.c.created_at < cutoff, limit=batch)

    def purge(self, keep_days: int = 7) -> int:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days)
        with self.engine.begin() as conn:
            return conn.execute(
                outbox.delete().where(outbox.c.published_at < cutoff)
            ).rowcount

    def _publish_where(self, condition: Any, limit: int | None = None) -> int:
        with self.engine.begin() as conn:
            query = (
                sa.select(outbox.c.id, outbox.c.event_type, outbox.c.payload)
                .where(outbox.c.published_at.is_(None), condition)
                .order_by(outbox.c.created_at)
                .with_for_update(skip_locked=True)
            )
            if limit:
                query = query.limit(limit)
            rows = conn.execute(query).all()
            published = self._send(conn, rows)
        return published

    def _send(self, conn: Connection, rows: list[Any]) -> int:
        done = []
        for row in rows:
            source, name = split_type(row.event_type)
            headers = {}
            if row.payload.get("correlation_id"):
                headers[ENVELOPE_HEADER_PREFIX + "correlation_id"] = row.payload["correlation_id"]
            try:
                self.publisher.publish(
                    row.payload, exchange=event_exchange(source), routing_key=name,
                    headers=headers,
                )
            except Exception:  # broker down: leave the rest for the sweeper
                log.warning("outbox_publish_failed", event_type=row.event_type,
                            event_id=str(row.id), exc_info=True)
                conn.execute(
                    outbox.update().where(outbox.c.id == row.id)
                    .values(attempts=outbox.c.attempts + 1)
                )
                break
            done.append(row.id)
        if done:
            conn.execute(
                outbox.update().where(outbox.c.id.in_(done)).values(published_at=sa.func.now())
            )
        return len(done)
