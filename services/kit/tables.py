"""Tables every service owns in its own database: outbox, processed events, audit.

They live in `kit_metadata`, which each service's Alembic environment includes next
to its own models; `services.kit.migrations` creates them (frozen, versioned).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

kit_metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    kit_metadata,
    sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)

processed_events = sa.Table(
    "processed_events",
    kit_metadata,
    sa.Column("consumer", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.Uuid(as_uuid=False), primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)

audit_log = sa.Table(
    "audit_log",
    kit_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor_type", sa.String(20), nullable=False),
    sa.Column("actor_id", sa.String(100)),
    sa.Column("session_id", sa.String(100)),
    sa.Column("member_id", sa.Uuid(as_uuid=False)),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("details", JSONB, nullable=False, server_default="{}"),
    sa.Column("correlation_id", sa.String(100)),
)
failed_events = sa.Table(
    "failed_events",
    kit_metadata,
    sa.Column("consumer", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.Uuid(as_uuid=False), primary_key=True),
    sa.Column("queue", sa.String(255), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)
sa.Index("ix_failed_events_due", failed_events.c.next_attempt_at)
sa.Index("ix_outbox_unpublished", outbox.c.created_at,
         postgresql_where=outbox.c.published_at.is_(None))
sa.Index("ix_audit_member", audit_log.c.member_id, audit_log.c.at)
