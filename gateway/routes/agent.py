"""The fund's agents: their login and what they may see of members (audited by the
service that holds the data)."""

from __future__ import annotations

from typing import Any

from gateway.api import AGENT, Call, route
from gateway.schemas import AgentLoginAnswer, AgentLoginRequest, Me


@route("POST", "/api/v1/agent/login", body=AgentLoginRequest, response=AgentLoginAnswer,
       rate_limit="login", summary="An agent logs in", tags=("agent",),
       problems=((401, "invalid_credentials"), (429, "login_locked"),
                 (429, "too_many_requests")))
def agent_login(call: Call) -> Any:
    return call.services.auth.agent_login(call.body["username"], call.body["password"])


@route("GET", "/api/v1/agent/members/<uuid:member_id>", access=AGENT, response=Me,
       summary="A member's identity, for an agent (audited)", tags=("agent",),
       problems=((404, "member_not_found"),))
def agent_member(call: Call) -> dict[str, Any]:
    return call.services.auth.get_member(str(call.path_params["member_id"]))


@route("POST", "/api/v1/agent/logout", access=AGENT, status=204,
       summary="End this agent session", tags=("agent",))
def agent_logout(call: Call) -> None:
    call.services.auth.logout(call.principal.session_id, call.principal.member_id)
