"""people, subscriptions, sessions and the kit tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from services.kit.migrations import downgrade_kit_v1, upgrade_kit_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_kit_v1()
    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("email_validated", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("last_login_method", sa.String(20)),
        sa.Column("previous_login_at", sa.DateTime(timezone=True)),
        sa.Column("previous_login_method", sa.String(20)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IN ('F', 'M')", name="ck_persons_sex"),
    )
    op.create_index("ix_persons_birth_date", "persons", ["birth_date"])
    op.create_table(
        "subscriptions",
        sa.Column("registration_number", sa.String(6), primary_key=True),
        sa.Column("person_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fund", sa.String(10), nullable=False),
    )
    op.create_index("ix_subscriptions_person_id", "subscriptions", ["person_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("person_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client", sa.String(10), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("refresh_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("end_reason", sa.String(30)),
    )
    op.create_index("ix_sessions_person_id", "sessions", ["person_id"])


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("subscriptions")
    op.drop_table("persons")
    downgrade_kit_v1()
