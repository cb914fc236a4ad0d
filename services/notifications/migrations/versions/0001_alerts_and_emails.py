"""members copy, alerts, preferences, e-mails, push, and the kit tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from services.kit.migrations import (
    downgrade_kit_v1,
    downgrade_kit_v2,
    upgrade_kit_v1,
    upgrade_kit_v2,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = sa.Uuid(as_uuid=False)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    upgrade_kit_v1()
    upgrade_kit_v2()
    op.create_table(
        "members",
        sa.Column("member_id", UUID, primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("email_validated", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("resource_type", sa.String(50)),
        sa.Column("resource_id", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS),
    )
    op.create_index("ix_alerts_member_created", "alerts",
                    ["member_id", sa.text("created_at DESC"), "id"])
    op.create_index("ix_alerts_member_unread", "alerts", ["member_id"],
                    postgresql_where=sa.text("read_at IS NULL"))
    op.create_table(
        "preferences",
        sa.Column("member_id", UUID, primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("email_enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "emails",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("member_id", UUID),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text),
        sa.Column("body_html", sa.Text),
        sa.Column("carries_token", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.String(500)),
        sa.Column("message_id", sa.String(300)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
    )
    op.create_index("ix_emails_due", "emails", ["next_attempt_at"],
                    postgresql_where=sa.text("state = 'queued'"))
    op.create_index("ix_emails_member", "emails", ["member_id"])
    op.create_table(
        "push_messages",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("alert_id", UUID, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("push_messages", "emails", "preferences", "alerts", "members"):
        op.drop_table(table)
    downgrade_kit_v2()
    downgrade_kit_v1()
