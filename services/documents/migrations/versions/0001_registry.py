"""members copy, the request registry and its history, and the kit tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

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
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subscriptions", postgresql.JSONB, nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("member_id", UUID, nullable=False, index=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", postgresql.JSONB, nullable=False),
        sa.Column("attachments", postgresql.JSONB, nullable=False),
        sa.Column("reason", sa.String(1000)),
        sa.Column("result_key", sa.String(300)),
        sa.Column("result_content_type", sa.String(100)),
        sa.Column("result_sha256", sa.String(64)),
        sa.Column("verification_code", sa.String(20), unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS),
    )
    op.create_index("ix_requests_member_created", "requests",
                    ["member_id", sa.text("created_at DESC")])
    op.create_index("ix_requests_status", "requests", ["status", "created_at"])
    op.create_table(
        "request_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", UUID, nullable=False, index=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_type", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(100)),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("note", sa.String(2000)),
    )


def downgrade() -> None:
    op.drop_table("request_history")
    op.drop_table("requests")
    op.drop_table("members")
    downgrade_kit_v2()
    downgrade_kit_v1()
