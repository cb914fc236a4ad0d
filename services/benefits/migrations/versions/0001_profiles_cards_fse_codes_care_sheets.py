"""profiles cards fse codes care sheets

Revision ID: 0001
Revises:
Create Date: 2026-11-26 22:17:06.594971
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

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_kit_v1()
    upgrade_kit_v2()
    op.create_table('beneficiaries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('relationship', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_beneficiaries_member_id'), 'beneficiaries', ['member_id'], unique=False)
    op.create_table('cards',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('registration_number', sa.String(length=6), nullable=False),
    sa.Column('fund', sa.String(length=10), nullable=False),
    sa.Column('rights_status', sa.String(length=10), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_cards_member_id'), 'cards', ['member_id'], unique=False)
    op.create_index('ix_cards_number_live', 'cards', ['registration_number'], unique=False, postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table('care_sheets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=64), nullable=True),
    sa.Column('care_date', sa.Date(), nullable=False),
    sa.Column('practitioner', sa.String(length=200), nullable=False),
    sa.Column('acts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('amount_charged', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_refunded', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refund_status', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_care_sheets_member_date', 'care_sheets', ['member_id', sa.literal_column('care_date DESC')], unique=False)
    op.create_table('fse_codes',
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('code_encrypted', sa.Text(), nullable=False),
    sa.Column('lookup', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id'),
    sa.UniqueConstraint('lookup')
    )
    op.create_table('members',
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_validated', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subscriptions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('profiles',
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('address_line1', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('mail_channel', sa.String(length=10), nullable=False),
    sa.Column('bank_account_encrypted', sa.Text(), nullable=True),
    sa.Column('forward_to_insurer', sa.Boolean(), nullable=False),
    sa.Column('insurer_name', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )


def downgrade() -> None:
    op.drop_table('profiles')
    op.drop_table('members')
    op.drop_table('fse_codes')
    op.drop_index('ix_care_sheets_member_date', table_name='care_sheets')
    op.drop_table('care_sheets')
    op.drop_index('ix_cards_number_live', table_name='cards', postgresql_where=sa.text('revoked_at IS NULL'))
    op.drop_index(op.f('ix_cards_member_id'), table_name='cards')
    op.drop_table('cards')
    op.drop_index(op.f('ix_beneficiaries_member_id'), table_name='beneficiaries')
    op.drop_table('beneficiaries')
    downgrade_kit_v2()
    downgrade_kit_v1()
