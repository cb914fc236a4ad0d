"""Apple Wallet web service: devices registered for a pass's updates, and when each
pass's content last changed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 01:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pass_registrations',
    sa.Column('device_library_id', sa.String(length=100), nullable=False),
    sa.Column('pass_type_id', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('push_token', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_library_id', 'pass_type_id', 'serial')
    )
    op.create_table('wallet_passes',
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('serial')
    )


def downgrade() -> None:
    op.drop_table('wallet_passes')
    op.drop_table('pass_registrations')
