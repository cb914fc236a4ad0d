"""practitioners' FSE code look-ups counted in the database (one limit for every instance)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 01:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fse_lookups',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('caller', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_fse_lookups_caller_at', 'fse_lookups', ['caller', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fse_lookups_caller_at', table_name='fse_lookups')
    op.drop_table('fse_lookups')
