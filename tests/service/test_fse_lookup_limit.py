"""The practitioners' FSE look-up limit lives in benefits' database: every instance
counts against it, failed attempts included, and it forgets after a minute."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.benefits.cards import allow_lookup
from services.benefits.models import FseLookup
from services.kit.errors import TooManyRequests


@pytest.fixture
def engine(test_env):
    engine = sa.create_engine(test_env["BENEFITS_DATABASE_URL"])
    yield engine
    engine.dispose()


def attempt(engine, caller: str, at: dt.datetime, per_minute: int = 3) -> None:
    """One instance's transaction (each call a connection of its own)."""
    with Session(engine) as session, session.begin():
        allow_lookup(session, caller, per_minute, at)


def test_instances_share_one_limit_per_caller(engine):
    caller, other = f"practitioner:{uuid.uuid4().hex}", f"practitioner:{uuid.uuid4().hex}"
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    engines = [engine, sa.create_engine(engine.url)]  # two instances, two pools
    try:
        for i in range(3):
            attempt(engines[i % 2], caller, start + dt.timedelta(seconds=i))
        with pytest.raises(TooManyRequests) as refused:
            attempt(engines[1], caller, start + dt.timedelta(seconds=10))
        # the oldest attempt leaves the window 50 s later
        assert refused.value.extra["retry_after"] == "50"
        attempt(engines[0], other, start + dt.timedelta(seconds=10))  # others unaffected
        attempt(engines[0], caller, start + dt.timedelta(seconds=61))  # a minute on
    finally:
        engines[1].dispose()
    with engine.connect() as conn:
        kept = conn.scalar(sa.select(sa.func.count()).select_from(FseLookup)
                           .where(FseLookup.caller == caller))
    assert kept == 2  # the 2 s and the 61 s attempts: older ones dropped, the refused
    # one never counted
