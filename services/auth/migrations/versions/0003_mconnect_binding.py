"""bind an MConnect flow to the browser that started it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM mconnect_flows")  # flows under way cannot be bound: restart them
    op.add_column("mconnect_flows", sa.Column("binding_hash", sa.String(64), nullable=False))


def downgrade() -> None:
    op.drop_column("mconnect_flows", "binding_hash")
