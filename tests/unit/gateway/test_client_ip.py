from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.limits import client_ip, parse_networks


def req(remote: str, forwarded: str | None = None) -> Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return Request(EnvironBuilder(headers=headers,
                                  environ_base={"REMOTE_ADDR": remote}).get_environ())


def test_forwarded_for_is_ignored_from_an_untrusted_peer():
    assert client_ip(req("203.0.113.9", "1.2.3.4"), parse_networks("10.0.0.0/8")) == \
        "203.0.113.9"


def test_nearest_untrusted_hop_behind_trusted_proxies():
    trusted = parse_networks("10.0.0.0/8, 192.0.2.1")
    assert client_ip(req("10.1.2.3", "6.6.6.6, 198.51.100.7, 192.0.2.1"), trusted) == \
        "198.51.100.7"
    assert client_ip(req("10.1.2.3"), trusted) == "10.1.2.3"
    assert client_ip(req("10.1.2.3", "garbage"), trusted) == "10.1.2.3"
