"""Per-address limits on a real Redis; retention purges on the real auth database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from gateway.limits import RateLimiter
from gateway.problems import ApiError
from services.auth import sessions
from services.auth.models import LoginFailure, Person, Session
from tests.support import new_member


def test_rate_limiter_counts_per_subject():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    limiter = RateLimiter(client, prefix=f"memberspace-test:{uuid.uuid4().hex}:")
    for _ in range(3):
        limiter.hit("login", "198.51.100.1", limit=3, window=60)
    with pytest.raises(ApiError) as err:
        limiter.hit("login", "198.51.100.1", limit=3, window=60)
    assert err.value.status == 429 and 0 < int(err.value.headers["Retry-After"]) <= 60
    limiter.hit("login", "198.51.100.2", limit=3, window=60)  # another address is free


def test_purge_forgets_old_connections_sessions_and_counters(suite, rpc, api, test_env):
    member = new_member(rpc)
    api.login(member["identifier"], member["password"])
    api.login(member["identifier"], member["password"])
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    long_ago = sessions.now() - dt.timedelta(days=800)
    with DbSession(engine) as db, db.begin():
        db.execute(sa.update(Person).where(Person.id == member["member_id"]).values(
            previous_login_at=long_ago, last_login_at=long_ago))
        db.execute(sa.update(Session).where(Session.person_id == member["member_id"])
                   .values(ended_at=long_ago))
        db.add(LoginFailure(key=f"stale-{uuid.uuid4().hex[:8]}", failures=2,
                            last_failed_at=long_ago))
    with DbSession(engine) as db, db.begin():
        sessions.purge(db, sessions.LockoutPolicy())
    with DbSession(engine) as db:
        person = db.get(Person, member["member_id"])
        assert person.previous_login_at is None and person.last_login_at is None
        assert db.scalar(sa.select(sa.func.count()).select_from(Session).where(
            Session.person_id == member["member_id"])) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
            LoginFailure.last_failed_at < sessions.now() - dt.timedelta(days=1))) == 0
    engine.dispose()
