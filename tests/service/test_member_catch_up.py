"""A service starting with an empty copy of the members fills it from auth's listing."""

from __future__ import annotations

import time

import sqlalchemy as sa
from kombu import Connection
from nameko.containers import ServiceContainer

from services.kit.config import load_settings
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.handlers import handler_queues
from services.kit.health import HealthEntrypoints
from services.kit.migrate import drop_database, upgrade
from services.kit.runner import nameko_config
from services.notifications import alerts
from services.notifications.models import Member
from services.notifications.service import NotificationsSettings
from tests.support import TEST_NAME

PG = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{TEST_NAME}_catch_up"


class LateService(HealthEntrypoints, MemberCopyHandlers):
    """Born after the members: it must learn of them without any event."""

    name = "late_probe"
    settings_schema = NotificationsSettings
    context = RequestContext()
    db = Database("NOTIFICATIONS_DATABASE_URL")
    member_model = Member
    copy_member = staticmethod(alerts.upsert_member)
    erase_member = staticmethod(alerts.erase_member)


def test_an_empty_copy_is_filled_from_auths_listing(suite, rpc, test_env):
    people = rpc.auth.list_members(None, 1000)["items"]
    assert people  # the demo people, at least
    drop_database(PG)
    upgrade("notifications", PG)
    env = {**test_env, "NOTIFICATIONS_DATABASE_URL": PG}
    container = ServiceContainer(LateService, nameko_config(load_settings(
        NotificationsSettings, env)))
    container.start()
    engine = sa.create_engine(PG)
    try:
        deadline = time.monotonic() + 20
        while True:
            with engine.connect() as conn:
                known = set(map(str, conn.scalars(sa.select(Member.member_id))))
            if {p["member_id"] for p in people} <= known:
                break
            assert time.monotonic() < deadline, "the copy was not filled"
            time.sleep(0.2)
    finally:
        container.stop()
        engine.dispose()
        with Connection(test_env["AMQP_URI"]) as conn:  # its queues would fill up
            for queue in handler_queues(LateService):
                queue(conn.channel()).delete()
