"""alerts about a request remember the move they tell of (when, by whom), so that the
system's quick moves share one alert

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("moved_at", sa.DateTime(timezone=True)))
    op.add_column("alerts", sa.Column("moved_by", sa.String(20)))


def downgrade() -> None:
    op.drop_column("alerts", "moved_by")
    op.drop_column("alerts", "moved_at")
