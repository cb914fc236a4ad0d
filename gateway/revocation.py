"""The gateway's in-memory view of ended sessions, so revocation needs no round trip.

auth announces ended sessions (`auth.sessions_ended`) to every gateway instance
(a broadcast queue each); a starting gateway loads the recent ones over RPC first.
An ended session is remembered as long as one of its access tokens could be alive.
Until the view is loaded the gateway answers member routes with 503.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from services.kit.client import RpcClient
from services.kit.logging import get_logger
from services.kit.rpc import broker_user

log = get_logger(__name__)


class RevocationView(DependencyProvider):
    def setup(self) -> None:
        self.ended: dict[str, float] = {}
        self.email_validated: dict[str, bool] = {}
        self.keep_seconds = 3600.0
        self.loaded = False
        self._loader = None

    def start(self) -> None:
        self._loader = self.container.spawn_managed_thread(self._load)

    def stop(self) -> None:
        if self._loader is not None:
            self._loader.kill()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> RevocationView:
        return self

    def _load(self) -> None:
        config = self.container.config
        attempts = 0
        # Twice: once at start, once after the broadcast queue surely consumes, so a
        # session ended while this gateway was starting is never missed.
        while attempts < 2:
            try:
                with RpcClient(config["AMQP_URI"], timeout=5, user_id=broker_user(config),
                               identity=self.container.service_name) as client:
                    answer = client.auth.list_ended_sessions()
            except Exception as exc:
                log.warning("revocation_view_load_failed", error=type(exc).__name__)
                eventlet.sleep(1.0)
                continue
            self.keep_seconds = float(answer["access_token_ttl"]) + 60
            self.add(answer["session_ids"])
            for member_id in answer.get("email_validated_member_ids", []):
                self.email_validated.setdefault(member_id, True)
            if not self.loaded:
                self.loaded = True
                log.info("revocation_view_loaded", ended=len(self.ended))
            attempts += 1
            eventlet.sleep(3.0)

    def add(self, session_ids: list[str]) -> None:
        until = time.monotonic() + self.keep_seconds
        for session_id in session_ids:
            self.ended[session_id] = until
        if len(self.ended) > 1000:
            self._prune()

    def account_state(self, identity: dict) -> None:
        """auth.member_updated: the member's e-mail state, newer than older tokens."""
        if identity.get("member_id"):
            self.email_validated[identity["member_id"]] = bool(identity.get("email_validated"))

    def is_ended(self, session_id: str) -> bool:
        return session_id in self.ended

    def _prune(self) -> None:
        now = time.monotonic()
        for session_id, until in list(self.ended.items()):
            if until < now:
                del self.ended[session_id]
