"""Security headers, the HTTPS test behind a proxy, /health's details and what a
per-address limit counts."""

from __future__ import annotations

from types import SimpleNamespace

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway.headers import forwarded_https, secure_headers
from gateway.limits import limit_subject, parse_networks
from gateway.routes.system import _may_see_details

PROXIES = parse_networks("10.0.0.0/8")


def request(remote: str, scheme: str = "http", **headers: str) -> Request:
    environ = EnvironBuilder(path="/api/v1/me", base_url=f"{scheme}://example.mc",
                             headers=headers).get_environ()
    environ["REMOTE_ADDR"] = remote
    return Request(environ)


def test_https_is_believed_from_our_proxies_only():
    assert forwarded_https(request("203.0.113.9", scheme="https"), PROXIES)
    assert forwarded_https(request("10.1.2.3", **{"X-Forwarded-Proto": "https"}), PROXIES)
    assert not forwarded_https(request("203.0.113.9", **{"X-Forwarded-Proto": "https"}),
                               PROXIES)
    assert not forwarded_https(request("10.1.2.3", **{"X-Forwarded-Proto": "http"}), PROXIES)


def test_every_answer_carries_the_security_headers():
    answer = Response("{}")
    secure_headers(answer, https=False)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in answer.headers
    page = Response("<html>", headers={"Content-Security-Policy": "default-src 'self'",
                                       "Cache-Control": "public, max-age=60"})
    secure_headers(page, https=True)
    assert page.headers["Content-Security-Policy"] == "default-src 'self'"  # its own wins
    assert page.headers["Cache-Control"] == "public, max-age=60"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_an_ipv6_client_is_limited_by_its_64():
    one = limit_subject("2001:db8:1:2:aaaa::1")
    assert one == "2001:db8:1:2::/64" == limit_subject("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert limit_subject("2001:db8:1:3::1") != one
    assert limit_subject("203.0.113.9") == "203.0.113.9"
    assert limit_subject("::ffff:203.0.113.9") == "203.0.113.9"
    assert limit_subject("not-an-address") == "not-an-address"


def test_health_details_only_for_the_configured_networks():
    def call(address: str) -> SimpleNamespace:
        settings = SimpleNamespace(
            GATEWAY_HEALTH_DETAIL_NETWORKS=parse_networks("127.0.0.0/8,::1/128"))
        return SimpleNamespace(client_ip=address, services=SimpleNamespace(settings=settings))

    assert _may_see_details(call("127.0.0.1")) and _may_see_details(call("::1"))
    assert not _may_see_details(call("203.0.113.9"))
    assert not _may_see_details(call(""))
