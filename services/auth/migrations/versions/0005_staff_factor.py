"""staff accounts: the second factor (TOTP), recovery codes, enrolments; idle sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("otp_secret", sa.String(300)))
    op.add_column("agents", sa.Column("otp_enabled_at", sa.DateTime(timezone=True)))
    op.add_column("agents", sa.Column("otp_last_step", sa.BigInteger))
    op.create_table(
        "agent_recovery_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "agent_enrolments",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("otp_secret", sa.String(300)),
        sa.Column("recovery_code_hashes", sa.ARRAY(sa.String(64))),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    # kept at each refresh: the idle limit of agent sessions (IF NOT EXISTS: another
    # change may bring the same column for members' session listings)
    op.execute("ALTER TABLE sessions ADD COLUMN IF NOT EXISTS "
               "last_used_at TIMESTAMP WITH TIME ZONE")


def downgrade() -> None:
    op.drop_table("agent_enrolments")
    op.drop_table("agent_recovery_codes")
    op.drop_column("agents", "otp_last_step")
    op.drop_column("agents", "otp_enabled_at")
    op.drop_column("agents", "otp_secret")
