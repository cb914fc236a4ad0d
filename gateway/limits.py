"""Per-client-address limits (fixed windows in Redis, shared by every gateway instance),
and the client address itself, trusted from X-Forwarded-For only behind a known proxy."""

from __future__ import annotations

import ipaddress
import time

import redis
from werkzeug.wrappers import Request

from gateway.problems import ApiError


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in text.split(",") if part.strip()]


def client_ip(request: Request, trusted: list) -> str:
    """The caller's address: the nearest X-Forwarded-For hop not run by us."""
    remote = request.remote_addr or ""

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not is_trusted(remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")
            if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote
    return remote


def limit_subject(address: str) -> str:
    """What a per-address limit counts: the address itself for IPv4, its /64 for IPv6
    (one customer's line or host usually holds a whole /64, and could otherwise rotate
    addresses inside it to escape the limit)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.prefix = prefix

    def hit(self, name: str, subject: str, limit: int, window: int) -> None:
        """Count one attempt; 429 with Retry-After once `limit` is passed in the window."""
        slot = int(time.time() // window)
        key = f"{self.prefix}rl:{name}:{limit_subject(subject)}:{slot}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count = pipe.execute()[0]
        if count > limit:
            retry = window - int(time.time()) % window
            raise ApiError(429, "too_many_requests",
                           "Too many attempts from your network; try again shortly.",
                           headers={"Retry-After": str(retry)})
