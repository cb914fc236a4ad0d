"""sessions for members and agents, refresh token rotation, lockout, agents, MConnect

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(30)), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
    )
    op.alter_column("sessions", "person_id", nullable=True)
    op.add_column("sessions", sa.Column("agent_id", sa.Uuid(as_uuid=False),
                                        sa.ForeignKey("agents.id", ondelete="CASCADE")))
    op.add_column("sessions", sa.Column("csrf_hash", sa.String(64)))
    op.create_check_constraint(
        "ck_sessions_one_principal", "sessions",
        "(person_id IS NULL) <> (agent_id IS NULL)")
    op.drop_column("sessions", "refresh_token_hash")
    op.create_index("ix_sessions_ended_at", "sessions", ["ended_at"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "mconnect_flows",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(200), nullable=False),
        sa.Column("client", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mconnect_identities",
        sa.Column("issuer", sa.String(300), primary_key=True),
        sa.Column("subject", sa.String(300), primary_key=True),
        sa.Column("person_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mobile_login_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mobile_login_codes")
    op.drop_table("mconnect_identities")
    op.drop_table("mconnect_flows")
    op.drop_table("login_failures")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_sessions_ended_at", "sessions")
    op.add_column("sessions", sa.Column("refresh_token_hash", sa.String(64)))
    op.drop_constraint("ck_sessions_one_principal", "sessions")
    op.drop_column("sessions", "csrf_hash")
    op.drop_column("sessions", "agent_id")
    op.drop_table("agents")
