"""Frozen migration steps for the kit's tables, called from each service's history.

A change to `services.kit.tables` comes with a new `upgrade_kit_vN` here, and each
service adds a revision calling it; versions already released never change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('memberspace.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade_kit_v1() -> None:
    """Outbox, processed events and the append-only audit log."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["created_at"],
                    postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("actor_type", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(100)),
        sa.Column("session_id", sa.String(100)),
        sa.Column("member_id", sa.Uuid(as_uuid=False)),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.Column("correlation_id", sa.String(100)),
    )
    op.create_index("ix_audit_member", "audit_log", ["member_id", "at"])
    op.execute(_APPEND_ONLY)


def upgrade_kit_v2() -> None:
    """Events a handler could not process, kept with their error and retried."""
    op.create_table(
        "failed_events",
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
    op.create_index("ix_failed_events_due", "failed_events", ["next_attempt_at"])


def downgrade_kit_v2() -> None:
    op.drop_table("failed_events")


def downgrade_kit_v1() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("processed_events")
    op.drop_table("outbox")
