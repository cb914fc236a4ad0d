"""the figures the fund recorded: points per year and scheme, assimilated periods, and when
each row was recorded

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = sa.Uuid(as_uuid=False)
NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("career_periods", sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW))
    op.create_table(
        "career_years",
        sa.Column("member_id", UUID, primary_key=True),
        sa.Column("scheme", sa.String(5), primary_key=True),
        sa.Column("year", sa.String(9), primary_key=True),
        sa.Column("points", sa.Numeric(10, 2), nullable=False),
        sa.Column("salaries", sa.Numeric(14, 2)),
        sa.Column("contribution_class", sa.Integer),
        sa.Column("contributions_paid", sa.Boolean),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=NOW),
        sa.CheckConstraint("scheme IN ('CAR', 'CMRC', 'CARTI')", name="ck_career_year_scheme"),
    )
    op.create_table(
        "assimilated_periods",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("member_id", UUID, nullable=False, index=True),
        sa.Column("scheme", sa.String(5), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("points", sa.Numeric(10, 2), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=NOW),
        sa.CheckConstraint("scheme IN ('CAR', 'CMRC', 'CARTI')",
                           name="ck_assimilated_scheme"),
        sa.CheckConstraint("reason IN ('sickness', 'maternity', 'unemployment', "
                           "'military_service', 'invalidity')", name="ck_assimilated_reason"),
    )


def downgrade() -> None:
    op.drop_table("assimilated_periods")
    op.drop_table("career_years")
    op.drop_column("career_periods", "recorded_at")
