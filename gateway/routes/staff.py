"""Supervisors keep the agents' accounts: create, list, disable, enable, reset a lost
second factor. Each is checked again in auth (`supervisor` role) and audited there."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from gateway.api import AGENT, Call, route
from gateway.schemas import Agent
from services.kit.roles import ROLES, SUPERVISOR


class NewAgent(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    display_name = fields.String(required=True, validate=validate.Length(1, 200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(1, len(ROLES)))
    password = fields.String(
        required=True, validate=validate.Length(1, 256),
        metadata={"description": "The agents' password policy applies; the agent sets "
                                 "up a second factor at the first login."})


class AgentList(Schema):
    items = fields.List(fields.Nested(Agent))


AGENT_PROBLEMS = ((404, "agent_not_found"),)


def _agent_id(call: Call) -> str:
    return str(call.path_params["agent_id"])


@route("GET", "/api/v1/agent/agents", access=AGENT, role=SUPERVISOR, response=AgentList,
       summary="The fund's agents", tags=("staff",))
def list_agents(call: Call) -> Any:
    return call.services.auth.list_agents()


@route("POST", "/api/v1/agent/agents", access=AGENT, role=SUPERVISOR, body=NewAgent,
       response=Agent, status=201, tags=("staff",),
       problems=((409, "username_taken"), (422, "validation_failed")),
       summary="Create an agent (without a second factor: enrolled at the first login)")
def create_agent(call: Call) -> Any:
    body = call.body
    return call.services.auth.create_agent(body["username"], body["display_name"],
                                           body["roles"], body["password"])


@route("POST", "/api/v1/agent/agents/<uuid:agent_id>/disable", access=AGENT,
       role=SUPERVISOR, response=Agent, tags=("staff",),
       problems=(*AGENT_PROBLEMS, (409, "own_account")),
       summary="Disable an agent's account; their sessions end at once")
def disable_agent(call: Call) -> Any:
    return call.services.auth.set_agent_active(_agent_id(call), False)


@route("POST", "/api/v1/agent/agents/<uuid:agent_id>/enable", access=AGENT,
       role=SUPERVISOR, response=Agent, tags=("staff",), problems=AGENT_PROBLEMS,
       summary="Enable an agent's account again")
def enable_agent(call: Call) -> Any:
    return call.services.auth.set_agent_active(_agent_id(call), True)


@route("POST", "/api/v1/agent/agents/<uuid:agent_id>/reset-factor", access=AGENT,
       role=SUPERVISOR, response=Agent, tags=("staff",), problems=AGENT_PROBLEMS,
       summary="Remove an agent's second factor and recovery codes (a lost device); "
               "their sessions end and the next login asks for a new enrolment")
def reset_agent_factor(call: Call) -> Any:
    return call.services.auth.reset_agent_factor(_agent_id(call))
