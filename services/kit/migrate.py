"""Create a service's database if missing and bring it to the latest revision.

    python -m services.kit.migrate auth [benefits ...]
    python -m services.kit.migrate --downgrade benefits 0004   # roll back to a revision
    python -m services.kit.migrate --current benefits          # the database's revision

Each service keeps its own Alembic history in `services/<name>/migrations`; the
database URL comes from `<NAME>_DATABASE_URL` (default: `memberspace_<name>`).

Several replicas may start at once (Kubernetes runs it in each pod's initContainer):
creating the database and upgrading it happen under a PostgreSQL advisory lock named
for the database, taken on the server's `postgres` database, so one migrates while the
others wait, then find it at the latest revision.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.engine import make_url

from services.kit.config import local_database_url
from services.kit.tables import kit_metadata

ROOT = Path(__file__).resolve().parents[2]


def database_url(service: str) -> str:
    return (os.environ.get(f"{service.upper()}_DATABASE_URL")
            or local_database_url(f"memberspace_{service}"))


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (needs rights on the server)."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": target.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def alembic_config(service: str, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or database_url(service)).replace("%", "%%"))
    return config


def lock_key(database: str) -> int:
    """The advisory lock of a database's migrations (a signed 64-bit key)."""
    return zlib.crc32(f"memberspace.migrate:{database}".encode())


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while one process creates and upgrades the database `url` names."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"),
                         {"k": lock_key(target.database)})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"),
                             {"k": lock_key(target.database)})
    finally:
        admin.dispose()


def upgrade(service: str, url: str | None = None) -> None:
    url = url or database_url(service)
    with migration_lock(url):
        ensure_database(url)
        command.upgrade(alembic_config(service, url), "head")


def run_env(metadata: sa.MetaData) -> None:
    """The body of every service's `migrations/env.py` (online mode only)."""
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=[metadata, kit_metadata],
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def downgrade(service: str, revision: str, url: str | None = None) -> None:
    """Roll a service's database back to `revision` (`-1`: one step; `base`: empty)."""
    command.downgrade(alembic_config(service, url), revision)


def current(service: str, url: str | None = None) -> None:
    command.current(alembic_config(service, url), verbose=False)


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "--downgrade":
        downgrade(argv[2], argv[3])
        print(f"{argv[2]}: database at revision {argv[3]}")
        return 0
    if len(argv) == 3 and argv[1] == "--current":
        current(argv[2])
        return 0
    for service in argv[1:]:
        upgrade(service)
        print(f"{service}: database at latest revision")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
