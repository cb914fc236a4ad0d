"""The fund's staff roles, and the check every service makes per RPC method.

The gateway checks a route's role from the agent's token; the service checks it again
from the caller's context (`CallContext.roles`), so a call that skipped the gateway's
check is still refused. A `supervisor` may do everything an `agent` may.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.kit.context import CallContext
from services.kit.errors import Forbidden

AGENT = "agent"
SUPERVISOR = "supervisor"
ROLES = (AGENT, SUPERVISOR)
# what each role also grants
_IMPLIES = {SUPERVISOR: {SUPERVISOR, AGENT}, AGENT: {AGENT}}


def granted(roles: Iterable[str]) -> set[str]:
    """Every role `roles` give, the implied ones included."""
    out: set[str] = set()
    for role in roles:
        out |= _IMPLIES.get(role, set())
    return out


def has_role(roles: Iterable[str], needed: str) -> bool:
    return needed in granted(roles)


def role_required(needed: str) -> Forbidden:
    return Forbidden(f"This needs the {needed!r} role.", code="role_required",
                     extra={"role": needed})


def require_role(ctx: CallContext, needed: str) -> None:
    """Staff methods: an agent needs `needed`; a member never passes; the fund's own
    systems (no member or agent behind the call) do."""
    if ctx.actor_type == "system":
        return
    if ctx.actor_type != "agent" or not has_role(ctx.roles, needed):
        raise role_required(needed)
