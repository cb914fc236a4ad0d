"""The member's own sessions (issue 18 §1) and the password rules checked before a
change (for the web app's form, which shows each rule as the member types)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from gateway.api import MEMBER, Call, route
from gateway.cookies import clear_session_cookies
from gateway.problems import ApiError
from gateway.schemas import ProblemFieldError
from gateway.security import ACCESS_COOKIE, Principal, authenticate, bearer_token


class SessionView(Schema):
    session_id = fields.String(metadata={"format": "uuid"})
    started_at = fields.String(metadata={"format": "date-time"})
    last_used_at = fields.String(metadata={"format": "date-time",
                                           "description": "the last login or refresh"})
    expires_at = fields.String(metadata={"format": "date-time"})
    client = fields.String(metadata={"enum": ["web", "mobile"]})
    method = fields.String(metadata={"enum": ["password", "mconnect"]})
    current = fields.Boolean(metadata={"description": "the session making this request"})


class SessionList(Schema):
    items = fields.List(fields.Nested(SessionView))


class EndedSessions(Schema):
    ended = fields.Integer(metadata={"description": "how many sessions were ended"})


class PasswordCheck(Schema):
    password = fields.String(required=True, validate=validate.Length(max=128))


class PasswordCheckAnswer(Schema):
    acceptable = fields.Boolean()
    errors = fields.List(fields.Nested(ProblemFieldError),
                         metadata={"description": "each rule the password breaks"})


@route("GET", "/api/v1/me/sessions", access=MEMBER, response=SessionList,
       allowed_without_email=True,
       summary="The member's active sessions: started, last used, client, method, and "
               "which one is this", tags=("me",))
def list_sessions(call: Call) -> Any:
    return call.services.auth.list_sessions(call.member_id, call.principal.session_id)


@route("DELETE", "/api/v1/me/sessions/<uuid:session_id>", access=MEMBER, status=204,
       allowed_without_email=True,
       summary="End one of the member's sessions (this one too: it is then a logout)",
       tags=("me",), problems=((404, "session_not_found"),))
def end_session(call: Call) -> Response:
    session_id = str(call.path_params["session_id"])
    call.services.auth.end_session(call.member_id, session_id)
    response = Response(status=204)
    if session_id == call.principal.session_id:
        clear_session_cookies(response, call.settings)
    return response


@route("POST", "/api/v1/me/sessions/end-others", access=MEMBER, response=EndedSessions,
       allowed_without_email=True,
       summary="End every session of the member but this one", tags=("me",))
def end_other_sessions(call: Call) -> Any:
    answer = call.services.auth.end_other_sessions(call.member_id, call.principal.session_id)
    return {"ended": len(answer["ended"])}


def optional_member(call: Call) -> Principal | None:
    """The logged-in member when the request carries a valid session, else None."""
    if bearer_token(call.request) is None and not call.request.cookies.get(ACCESS_COOKIE):
        return None
    services = call.services
    try:
        principal = authenticate(call.request, services.token_keys, services.auth.get_token_keys,
                                 services.revocations, MEMBER)
    except ApiError:
        return None
    return principal


@route("POST", "/api/v1/auth/password/check", body=PasswordCheck, response=PasswordCheckAnswer,
       rate_limit="password_check", during_maintenance=True,
       summary="Which member password rules a password breaks (nothing is stored); with a "
               "session, the member's own names, numbers and birth date count too",
       tags=("auth",), problems=((429, "too_many_requests"),))
def check_password(call: Call) -> Any:
    principal = optional_member(call)
    return call.services.auth.check_password(call.body["password"],
                                             principal.member_id if principal else None)
