"""The web client's session cookies: access and refresh tokens out of the page's reach
(HttpOnly), the CSRF token readable by the page's script (double submit)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gateway.security import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE

REFRESH_PATH = "/api/v1/auth"
TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "refresh_expires_in",
                "session_id")


def _options(settings: Any) -> dict[str, Any]:
    return {"secure": settings.GATEWAY_COOKIE_SECURE,
            "samesite": settings.GATEWAY_COOKIE_SAMESITE,
            "domain": settings.GATEWAY_COOKIE_DOMAIN or None}


def web_body(answer: dict[str, Any]) -> dict[str, Any]:
    """What a web answer keeps in its body: never a token."""
    return {k: v for k, v in answer.items() if k not in TOKEN_FIELDS}


def set_session_cookies(response: Response, answer: dict[str, Any], settings: Any) -> Response:
    opts = _options(settings)
    response.set_cookie(ACCESS_COOKIE, answer["access_token"], max_age=answer["expires_in"],
                        path="/", httponly=True, **opts)
    response.set_cookie(REFRESH_COOKIE, answer["refresh_token"],
                        max_age=answer["refresh_expires_in"], path=REFRESH_PATH,
                        httponly=True, **opts)
    response.set_cookie(CSRF_COOKIE, answer["csrf_token"],
                        max_age=answer["refresh_expires_in"], path="/", httponly=False, **opts)
    return response


def clear_session_cookies(response: Response, settings: Any) -> Response:
    opts = _options(settings)
    response.delete_cookie(ACCESS_COOKIE, path="/", httponly=True, **opts)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True, **opts)
    response.delete_cookie(CSRF_COOKIE, path="/", **opts)
    return response
