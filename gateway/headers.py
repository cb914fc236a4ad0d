"""Security headers on every answer of the gateway (OWASP ASVS 4.0.3 V14.4)."""

from __future__ import annotations

import ipaddress
from typing import Any

from werkzeug.wrappers import Request, Response

HSTS = "max-age=31536000; includeSubDomains"
# API answers are JSON, never a page: nothing to load, nothing may frame them. The web
# app's pages set their own policy (a route's own header wins).
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def forwarded_https(request: Request, trusted: list[Any]) -> bool:
    """Whether the client reached us over HTTPS: directly, or through a proxy we run
    (`GATEWAY_TRUSTED_PROXIES`) that says so in `X-Forwarded-Proto`."""
    if request.scheme == "https":
        return True
    try:
        remote = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if not any(remote in net for net in trusted):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def secure_headers(response: Response, https: bool) -> None:
    """Personal data is never cached (`no-store` unless a route chose otherwise),
    content types are not sniffed, no referrer leaves, nothing frames us, and browsers
    keep to HTTPS once they reached us over it."""
    headers = response.headers
    headers.setdefault("Cache-Control", "no-store")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Content-Security-Policy", API_CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
