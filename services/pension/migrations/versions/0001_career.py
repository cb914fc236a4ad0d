"""members copy, career periods, and the kit tables

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


def upgrade() -> None:
    upgrade_kit_v1()
    upgrade_kit_v2()
    op.create_table(
        "members",
        sa.Column("member_id", UUID, primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subscriptions", postgresql.JSONB, nullable=False),
    )
    op.create_table(
        "career_periods",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("member_id", UUID, nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("employer", sa.String(200)),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("monthly_gross_salary", sa.Numeric(12, 2)),
        sa.Column("contribution_class", sa.Integer),
        sa.CheckConstraint("kind IN ('employee', 'self_employed')", name="ck_career_kind"),
    )


def downgrade() -> None:
    op.drop_table("career_periods")
    op.drop_table("members")
    downgrade_kit_v2()
    downgrade_kit_v1()
