"""files and forms

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('member_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    op.create_index('ix_documents_member_created', 'documents', ['member_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_documents_request', 'documents', ['request_id'], unique=False, postgresql_where=sa.text('request_id IS NOT NULL'))
    op.create_table('forms',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title_fr', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('fund', sa.String(length=10), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    op.create_index('ix_forms_published', 'forms', ['published', 'category'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_forms_published', table_name='forms')
    op.drop_table('forms')
    op.drop_index('ix_documents_request', table_name='documents', postgresql_where=sa.text('request_id IS NOT NULL'))
    op.drop_index('ix_documents_member_created', table_name='documents')
    op.drop_table('documents')
