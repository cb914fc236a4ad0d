"""Migrations started at once (one initContainer per replica) do not race."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from services.kit.migrate import alembic_config, drop_database, lock_key, migration_lock
from tests.support import PG, TEST_NAME

ROOT = Path(__file__).resolve().parents[2]
URL = f"{PG}/{TEST_NAME}_migrate_race"


def start_migration() -> subprocess.Popen:
    env = {**os.environ, "NOTIFICATIONS_DATABASE_URL": URL}
    return subprocess.Popen([sys.executable, "-m", "services.kit.migrate", "notifications"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def waiting_on_lock(admin: sa.Engine) -> int:
    with admin.connect() as conn:
        return conn.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = :k"), {"k": lock_key(f"{TEST_NAME}_migrate_race") & 0xFFFFFFFF})


def database_exists(admin: sa.Engine) -> bool:
    with admin.connect() as conn:
        return bool(conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": f"{TEST_NAME}_migrate_race"}))


def test_a_migration_waits_for_the_one_holding_the_lock_and_concurrent_ones_all_succeed():
    drop_database(URL)
    admin = sa.create_engine(f"{PG}/postgres")
    try:
        with migration_lock(URL):
            waiter = start_migration()
            deadline = time.monotonic() + 60
            while not waiting_on_lock(admin):
                assert waiter.poll() is None, waiter.communicate()[0]
                assert time.monotonic() < deadline, "the migration never asked for the lock"
                time.sleep(0.1)
            assert not database_exists(admin)  # it waits before creating anything
        assert waiter.wait(timeout=120) == 0, waiter.communicate()[0]

        drop_database(URL)
        racers = [start_migration() for _ in range(3)]
        outputs = [r.communicate(timeout=180)[0] for r in racers]
        assert [r.returncode for r in racers] == [0, 0, 0], outputs
        head = ScriptDirectory.from_config(alembic_config("notifications", URL)).get_current_head()
        engine = sa.create_engine(URL)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        engine.dispose()
    finally:
        admin.dispose()
        drop_database(URL)
