"""covering indexes for the refunds and payments listings

A member's page is then read from the index alone (an index-only scan of a few pages,
already in order) instead of one heap page per record: a member's records arrive over
months and lie scattered through the table. Built CONCURRENTLY, so a production
table keeps taking writes meanwhile; they replace the plain (member, date, id) indexes.
Should a concurrent build fail, it leaves an INVALID index behind: drop it and run the
migration again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

REFUND_SHOWN = ['care_date', 'beneficiary_id', 'practitioner', 'act', 'amount_charged',
                'refund_base', 'amount_refunded', 'paid_to', 'currency']
PAYMENT_SHOWN = ['payment_type', 'label', 'period_start', 'period_end', 'amount', 'currency']


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index('ix_refunds_listing', 'refunds',
                        ['member_id', sa.literal_column('refund_date DESC'),
                         sa.literal_column('id DESC')],
                        postgresql_include=REFUND_SHOWN, postgresql_concurrently=True)
        op.drop_index('ix_refunds_member_date', table_name='refunds',
                      postgresql_concurrently=True)
        op.create_index('ix_payments_listing', 'payments',
                        ['member_id', sa.literal_column('payment_date DESC'),
                         sa.literal_column('id DESC')],
                        postgresql_include=PAYMENT_SHOWN, postgresql_concurrently=True)
        op.drop_index('ix_payments_member_date', table_name='payments',
                      postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index('ix_payments_member_date', 'payments',
                        ['member_id', sa.literal_column('payment_date DESC'), 'id'],
                        postgresql_concurrently=True)
        op.drop_index('ix_payments_listing', table_name='payments',
                      postgresql_concurrently=True)
        op.create_index('ix_refunds_member_date', 'refunds',
                        ['member_id', sa.literal_column('refund_date DESC'), 'id'],
                        postgresql_concurrently=True)
        op.drop_index('ix_refunds_listing', table_name='refunds',
                      postgresql_concurrently=True)
