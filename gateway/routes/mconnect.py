"""Login with MConnect (OpenID Connect, code flow with PKCE and nonce).

start -> the provider -> callback -> web: the web app with the session's cookies;
mobile: the app's redirect URL with a one-time code it exchanges for tokens.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from gateway.api import Call, route
from gateway.cookies import set_session_cookies
from gateway.routes.auth import LoginAnswer, session_answer
from services.contracts.members import CLIENTS
from services.kit.errors import ServiceError


class StartQuery(Schema):
    client = fields.String(load_default="web", validate=validate.OneOf(CLIENTS))


class CallbackQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # providers add their own parameters

    state = fields.String(load_default="", validate=validate.Length(max=500))
    code = fields.String(load_default=None, validate=validate.Length(max=2000))
    error = fields.String(load_default=None, validate=validate.Length(max=200))


class MobileCode(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 200))


BINDING_COOKIE = "ms_mconnect"
BINDING_PATH = "/api/v1/auth/mconnect"


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


@route("GET", "/api/v1/auth/mconnect/start", query=StartQuery, status=302, rate_limit="mconnect",
       summary="Start an MConnect login: redirects to the provider", tags=("auth",),
       problems=((503, "mconnect_unavailable"),))
def start(call: Call) -> Response:
    binding = secrets.token_urlsafe(24)
    answer = call.services.auth.mconnect_start(call.query["client"], binding)
    response = redirect(answer["authorization_url"], 302)
    response.set_cookie(BINDING_COOKIE, binding, max_age=600, path=BINDING_PATH,
                        httponly=True, secure=call.settings.GATEWAY_COOKIE_SECURE,
                        samesite="Lax")
    return response


@route("GET", "/api/v1/auth/mconnect/callback", query=CallbackQuery, status=302,
       summary="The provider returns here; ends with a redirect to the web app (cookies "
               "set) or to the mobile app (one-time code)", tags=("auth",),
       problems=((401, "mconnect_state_invalid"), (503, "mconnect_unavailable")))
def callback(call: Call) -> Response:
    response = _finish(call)
    response.delete_cookie(BINDING_COOKIE, path=BINDING_PATH, httponly=True,
                           secure=call.settings.GATEWAY_COOKIE_SECURE, samesite="Lax")
    return response


def _finish(call: Call) -> Response:
    q = call.query
    settings = call.settings
    binding = call.request.cookies.get(BINDING_COOKIE)
    try:
        answer = call.services.auth.mconnect_callback(q["state"], q["code"], q["error"],
                                                      binding)
    except ServiceError as exc:
        client = exc.extra.get("client")
        if client == "web":
            return redirect(_with_query(settings.GATEWAY_WEB_APP_URL,
                                        {"mconnect_error": exc.code}), 302)
        if client == "mobile":
            return redirect(_with_query(settings.GATEWAY_MOBILE_REDIRECT_URL,
                                        {"error": exc.code}), 302)
        raise
    if answer["client"] == "mobile":
        return redirect(_with_query(settings.GATEWAY_MOBILE_REDIRECT_URL,
                                    {"code": answer["mobile_code"]}), 302)
    return set_session_cookies(redirect(settings.GATEWAY_WEB_APP_URL, 302), answer, settings)


@route("POST", "/api/v1/auth/mconnect/token", body=MobileCode, response=LoginAnswer,
       rate_limit="login", during_maintenance=True,
       summary="The mobile app exchanges its one-time code for tokens",
       tags=("auth",), problems=((401, "invalid_code"),))
def mobile_token(call: Call) -> Any:
    return session_answer(call, call.services.auth.mconnect_exchange(call.body["code"]),
                          LoginAnswer)
