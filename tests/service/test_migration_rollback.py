"""Rolling a migration back (docs/operations.md): `python -m services.kit.migrate
--downgrade <service> <revision>` undoes the last step and the upgrade redoes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from services.kit.migrate import drop_database, upgrade
from tests.support import PG, TEST_NAME

ROOT = Path(__file__).resolve().parents[2]


def revision(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_downgrade_one_step_then_upgrade_again():
    url = f"{PG}/{TEST_NAME}_rollback_notifications"
    drop_database(url)
    try:
        upgrade("notifications", url)
        head = revision(url)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NOTIFICATIONS_DATABASE_URL": url}
        done = subprocess.run(
            [sys.executable, "-m", "services.kit.migrate", "--downgrade", "notifications",
             "-1"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert revision(url) != head
        upgrade("notifications", url)
        assert revision(url) == head
    finally:
        drop_database(url)
