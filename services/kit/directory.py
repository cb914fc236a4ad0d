"""Catching up with auth's people when a service starts for the first time.

Services keep read-only copies of identities from `auth.member_*` events. A service
that starts with an empty copy (first deployment, or a rebuilt database) pages
through `auth.list_members` once, so it knows everyone who existed before it.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from services.kit.client import RpcClient
from services.kit.handlers import on_event
from services.kit.logging import get_logger

log = get_logger(__name__)


class MemberCatchUp(DependencyProvider):
    """Fills the service's copy (its `member_model`, through its `copy_member` hook)
    when that copy is empty; the service's `Database` is its `db` attribute."""

    def __init__(self, database_attr: str = "db"):
        self.database_attr = database_attr
        self._thread: Any = None

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        if self._thread is not None:  # also killed when another extension failed to start
            self._thread.kill()

    kill = stop

    def _database(self) -> Any:
        return next(d for d in self.container.dependencies
                    if d.attr_name == self.database_attr)

    def _run(self) -> None:
        database = self._database()
        service = self.container.service_cls
        with database.sessionmaker() as session:
            if session.query(service.member_model).first() is not None:
                return
        from services.kit.rpc import broker_user

        config = self.container.config
        cursor, total = None, 0
        while True:
            try:
                with RpcClient(config["AMQP_URI"], timeout=30, user_id=broker_user(config),
                               identity=self.container.service_name) as client:
                    auth = client.auth
                    while True:
                        page = auth.list_members(cursor, 500)
                        with database.sessionmaker() as session, session.begin():
                            for identity in page["items"]:
                                service.copy_member(session, identity)
                        total += len(page["items"])
                        cursor = page["next_cursor"]
                        if cursor is None:
                            log.info("members_caught_up", count=total)
                            return
            except Exception as exc:  # auth not there yet: try again shortly
                log.warning("members_catch_up_retry", error=type(exc).__name__)
                eventlet.sleep(2.0)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class MemberCopyHandlers:
    """auth's identity events applied to a service's own read-only copy.

    A service mixes this in, names its copy's table (`member_model`) and its two hooks:
    `copy_member(session, identity)` and `erase_member(session, member_id)`. An empty
    copy is filled from auth's listing when the service starts.
    """

    catch_up = MemberCatchUp()

    @on_event("auth", "member_created")
    def member_created(self, tx: Any, envelope: dict) -> None:
        self.copy_member(tx.session, envelope["data"])

    @on_event("auth", "member_updated")
    def member_updated(self, tx: Any, envelope: dict) -> None:
        self.copy_member(tx.session, envelope["data"])

    @on_event("auth", "member_deleted")
    def member_deleted(self, tx: Any, envelope: dict) -> None:
        self.erase_member(tx.session, envelope["member_id"])
