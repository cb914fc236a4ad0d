"""Login, password change and the member's own account."""

from __future__ import annotations

from typing import Any

from gateway.api import MEMBER, Call, route
from gateway.schemas import LoginAnswer, LoginRequest, Me, PasswordChangeRequest, TokenAnswer

LOGIN_PROBLEMS = ((400, "invalid_identifier"), (401, "invalid_credentials"),
                  (422, "validation_failed"))


@route("POST", "/api/v1/auth/login", body=LoginRequest, response=LoginAnswer,
       summary="Log in with identifier and password", tags=("auth",),
       problems=LOGIN_PROBLEMS)
def login(call: Call) -> dict[str, Any]:
    body = call.body
    return call.services.auth.login(body["identifier"], body["password"], body["client"])


@route("POST", "/api/v1/auth/password", access=MEMBER, body=PasswordChangeRequest,
       response=TokenAnswer, allowed_before_password_change=True,
       summary="Change the password (the current one is required)", tags=("auth",),
       problems=((422, "validation_failed"),))
def change_password(call: Call) -> dict[str, Any]:
    return call.services.auth.change_password(
        call.member_id, call.principal.session_id, call.body["current_password"],
        call.body["new_password"])


@route("GET", "/api/v1/me", access=MEMBER, response=Me,
       allowed_before_password_change=True,
       summary="The logged-in member, with the previous connection", tags=("me",))
def me(call: Call) -> dict[str, Any]:
    return call.services.auth.get_member(call.member_id)
