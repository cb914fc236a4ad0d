"""The fund's agents: logging in with a second factor, its first enrolment, what they
may see of members (audited by the service that holds the data), logging out.

Every route here is staff-only: a gateway with GATEWAY_STAFF_ROUTES off answers
404 `not_found` for them and leaves them out of its OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from gateway.api import AGENT, Call, route
from gateway.schemas import AgentLoginAnswer, AgentLoginRequest, Me

LOGIN_PROBLEMS = ((401, "invalid_credentials"), (403, "otp_enrolment_required"),
                  (429, "login_throttled"), (429, "too_many_requests"))
TOKEN = fields.String(required=True, validate=validate.Length(1, 200),
                      metadata={"description": "The `enrolment_token` of the "
                                               "`otp_enrolment_required` problem."})


class EnrolRequest(Schema):
    enrolment_token = TOKEN


class EnrolAnswer(Schema):
    otpauth_uri = fields.String(metadata={"description": "otpauth://totp/... for an "
                                                         "authenticator app"})
    qr_png_base64 = fields.String(metadata={"description": "the same URI as a QR code "
                                                           "(PNG, base64)"})
    recovery_codes = fields.List(fields.String(), metadata={
        "description": "Ten single-use codes, shown this once: each may stand in for "
                       "`otp` at one login."})
    expires_in = fields.Integer(metadata={"description": "seconds left to confirm"})


class ConfirmRequest(Schema):
    enrolment_token = TOKEN
    otp = fields.String(required=True, validate=validate.Length(1, 32))


@route("POST", "/api/v1/agent/login", body=AgentLoginRequest, response=AgentLoginAnswer,
       rate_limit="login", tags=("agent",), problems=LOGIN_PROBLEMS,
       summary="An agent logs in with username, password and the current code; an agent "
               "without a factor gets 403 otp_enrolment_required with an "
               "`enrolment_token` (10 minutes)")
def agent_login(call: Call) -> Any:
    body = call.body
    return call.services.auth.agent_login(body["username"], body["password"], body["otp"])


@route("POST", "/api/v1/agent/otp/enrol", body=EnrolRequest, response=EnrolAnswer,
       rate_limit="login", tags=("agent",), problems=((401, "invalid_enrolment_token"),),
       summary="A new TOTP secret (URI and QR code) and ten recovery codes, pending "
               "until confirmed")
def agent_otp_enrol(call: Call) -> Any:
    return call.services.auth.agent_otp_enrol(call.body["enrolment_token"])


@route("POST", "/api/v1/agent/otp/confirm", body=ConfirmRequest, response=AgentLoginAnswer,
       rate_limit="login", tags=("agent",),
       problems=((401, "invalid_enrolment_token"), (401, "invalid_otp"),
                 (409, "enrolment_not_started")),
       summary="A first code from the new secret activates the factor and opens the "
               "session")
def agent_otp_confirm(call: Call) -> Any:
    return call.services.auth.agent_otp_confirm(call.body["enrolment_token"],
                                                call.body["otp"])


@route("GET", "/api/v1/agent/members/<uuid:member_id>", access=AGENT, response=Me,
       summary="A member's identity, for an agent (audited)", tags=("agent",),
       problems=((404, "member_not_found"),))
def agent_member(call: Call) -> dict[str, Any]:
    return call.services.auth.get_member(str(call.path_params["member_id"]))


@route("POST", "/api/v1/agent/logout", access=AGENT, status=204,
       summary="End this agent session", tags=("agent",))
def agent_logout(call: Call) -> None:
    call.services.auth.logout(call.principal.session_id, call.principal.member_id)
