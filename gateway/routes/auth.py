"""Login, sessions (refresh, logout), the password change and the member's own account."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gateway.api import MEMBER, Call, json_response, load, read_json, route, schema_instance
from gateway.cookies import clear_session_cookies, set_session_cookies, web_body
from gateway.problems import ApiError
from gateway.schemas import (
    LoginAnswer,
    LoginRequest,
    Me,
    PasswordChangeRequest,
    RefreshRequest,
    TokenAnswer,
)
from gateway.security import CSRF_HEADER, REFRESH_COOKIE, check_csrf

LOGIN_PROBLEMS = ((400, "invalid_identifier"), (401, "invalid_credentials"),
                  (422, "validation_failed"), (429, "login_locked"),
                  (429, "too_many_requests"))


def session_answer(call: Call, answer: dict[str, Any], schema: type) -> Any:
    """Mobile: tokens in the body (the route's schema shapes it). Web: tokens in cookies,
    the CSRF token in the body."""
    if "csrf_token" not in answer:
        return answer
    response = json_response(schema_instance(schema).dump(web_body(answer)))
    return set_session_cookies(response, answer, call.settings)


@route("POST", "/api/v1/auth/login", body=LoginRequest, response=LoginAnswer,
       rate_limit="login", during_maintenance=True,
       summary="Log in with identifier and password", tags=("auth",),
       problems=LOGIN_PROBLEMS)
def login(call: Call) -> Any:
    body = call.body
    answer = call.services.auth.login(body["identifier"], body["password"], body["client"])
    return session_answer(call, answer, LoginAnswer)


@route("POST", "/api/v1/auth/refresh", response=TokenAnswer, rate_limit="refresh",
       during_maintenance=True,
       summary="Rotate the refresh token (from the body, or the web cookie with the CSRF "
               "header) for a new pair", tags=("auth",),
       problems=((401, "invalid_refresh_token"), (401, "refresh_token_reused"),
                 (401, "session_ended"), (403, "csrf_invalid")))
def refresh(call: Call) -> Any:
    request = call.request
    token, csrf = None, None
    if request.content_length:
        token = load(RefreshRequest, read_json(request, 4096)).get("refresh_token")
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        csrf = request.headers.get(CSRF_HEADER, "")
        if token is None:
            raise ApiError(401, "invalid_refresh_token", "No refresh token was sent.")
        check_csrf(request, None)  # auth then checks it belongs to the session
    answer = call.services.auth.refresh(token, csrf)
    return session_answer(call, answer, TokenAnswer)


@route("POST", "/api/v1/auth/logout", access=MEMBER, status=204, during_maintenance=True,
       allowed_before_password_change=True, allowed_without_email=True,
       summary="End this session", tags=("auth",))
def logout(call: Call) -> Response:
    call.services.auth.logout(call.principal.session_id, call.member_id)
    return clear_session_cookies(Response(status=204), call.settings)


@route("POST", "/api/v1/auth/password", access=MEMBER, body=PasswordChangeRequest,
       response=TokenAnswer, allowed_before_password_change=True, allowed_without_email=True,
       summary="Change the password (the current one is required); other sessions end",
       tags=("auth",), problems=((422, "validation_failed"),))
def change_password(call: Call) -> Any:
    answer = call.services.auth.change_password(
        call.member_id, call.principal.session_id, call.body["current_password"],
        call.body["new_password"])
    return session_answer(call, answer, TokenAnswer)


@route("GET", "/api/v1/me", access=MEMBER, response=Me,
       allowed_before_password_change=True, allowed_without_email=True,
       summary="The logged-in member, with the previous connection", tags=("me",))
def me(call: Call) -> dict[str, Any]:
    return call.services.auth.get_member(call.member_id)
