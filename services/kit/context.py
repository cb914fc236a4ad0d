"""Who is calling and which request this is, carried across every hop.

nameko copies a worker's `context_data` into the headers of the RPC calls and events
it sends, and back into the next worker's `context_data`. The gateway puts the
correlation id and the caller (actor and session) there once; every service reads
them here and binds the correlation id to its log lines.

Who is calling is the broker's word (the AMQP `user_id`, `CALLER`), not a header.
The member or agent context in the headers is believed only from identities that
relay it (the gateway, and suite services passing on a context they received:
`services.kit.identities`); from anyone else the actor is `system:<broker user>`,
and what it claimed is kept as `claimed_actor` for the audit.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import structlog
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

CORRELATION_ID = "correlation_id"
log = structlog.get_logger(__name__)

ACTOR_TYPE = "actor_type"  # member | agent | system
ACTOR_ID = "actor_id"
SESSION_ID = "session_id"
ACTOR_ROLES = "actor_roles"  # an agent's roles, comma-separated (services.kit.roles)
CALLER = "caller"  # the broker user that sent the call (set from user_id, never a header)
CLAIMED_ACTOR = "claimed_actor"


@dataclass(frozen=True)
class CallContext:
    correlation_id: str
    actor_type: str
    actor_id: str | None
    session_id: str | None
    roles: tuple[str, ...] = ()
    caller: str | None = None
    claimed_actor: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.actor_type}:{self.actor_id}" if self.actor_id else self.actor_type


def context_from_data(data: dict) -> CallContext:
    return CallContext(
        correlation_id=data.get(CORRELATION_ID) or uuid.uuid4().hex,
        actor_type=data.get(ACTOR_TYPE) or "system",
        actor_id=data.get(ACTOR_ID),
        session_id=data.get(SESSION_ID),
        roles=_roles(data.get(ACTOR_ROLES)),
        caller=data.get(CALLER),
        claimed_actor=data.get(CLAIMED_ACTOR),
    )


def _roles(value: object) -> tuple[str, ...]:
    return tuple(r for r in value.split(",") if r) if isinstance(value, str) else ()


def trusted_context(headers: dict, caller: str | None) -> dict:
    """The context a call runs with, given its headers and the broker user that sent
    it: the claimed member/agent context only from an identity that relays one."""
    from services.kit.identities import relays_context

    if relays_context(caller):
        return {**headers, CALLER: caller}
    claimed = context_from_data(headers) if (headers.get(ACTOR_TYPE) or "system") != "system" \
        or headers.get(ACTOR_ID) else None
    data = {CORRELATION_ID: headers.get(CORRELATION_ID), CALLER: caller,
            ACTOR_TYPE: "system", ACTOR_ID: caller or "unknown"}
    if claimed is not None:
        data[CLAIMED_ACTOR] = claimed.actor[:200]
    return {k: v for k, v in data.items() if v is not None}


class RequestContext(DependencyProvider):
    """Binds the correlation id for logging, exposes the caller as `CallContext`, and
    logs one line per handled call (entrypoint, outcome, duration)."""

    def __init__(self, log_calls: bool = True):
        self.log_calls = log_calls

    def worker_setup(self, worker_ctx) -> None:
        worker_ctx.started_at = time.perf_counter()
        data = worker_ctx.data  # `context_data` is a copy; `data` is what travels on
        if not data.get(CORRELATION_ID):
            data[CORRELATION_ID] = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(
            correlation_id=data[CORRELATION_ID],
            entrypoint=worker_ctx.entrypoint.method_name,
        )

    def get_dependency(self, worker_ctx) -> CallContext:
        return context_from_data(worker_ctx.context_data)

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        if not self.log_calls or (exc_info is None and isinstance(worker_ctx.entrypoint, Timer)):
            return
        elapsed = round((time.perf_counter() - worker_ctx.started_at) * 1000, 2)
        if exc_info is None:
            log.info("call_handled", outcome="ok", duration_ms=elapsed,
                     actor=context_from_data(worker_ctx.context_data).actor)
            return
        exc = exc_info[1]
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            log.info("call_handled", outcome=code, duration_ms=elapsed)
        else:
            # nameko has logged its traceback ("error handling worker ..."): one is enough
            log.error("call_failed", duration_ms=elapsed, error=type(exc).__name__)

    def worker_teardown(self, worker_ctx) -> None:
        structlog.contextvars.clear_contextvars()
