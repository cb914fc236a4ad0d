"""Maintenance mode: a flag in Redis that ops switch without a restart, seen by every
gateway replica at the next request.

While it is on, the API's state-changing routes answer `503 maintenance` with
`Retry-After`; reads, login, refresh and logout keep working, and
`GET /api/v1/status` tells clients (the web app shows a banner).

    python -m gateway.maintenance on --fr "Maintenance jusqu'à 14 h" --en "Maintenance until 2 pm"
    python -m gateway.maintenance off
    python -m gateway.maintenance status

The command reads `GATEWAY_REDIS_URL` and `GATEWAY_REDIS_PREFIX` like the gateway.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import Any

import redis

from gateway.problems import ApiError

KEY = "maintenance"
RETRY_AFTER = "300"
DEFAULT_MESSAGE_FR = ("L'espace personnel est en maintenance : la consultation reste "
                      "possible, les opérations sont suspendues pour un moment.")
DEFAULT_MESSAGE_EN = ("The personal space is under maintenance: you can still read your "
                      "information, but operations are paused for a while.")
OFF = {"active": False, "message_fr": None, "message_en": None}


class MaintenanceSwitch:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.key = prefix + KEY

    def state(self) -> dict[str, Any]:
        raw = self.redis.get(self.key)
        if raw is None:
            return dict(OFF)
        try:
            stored = json.loads(raw)
        except ValueError:
            stored = {}
        return {"active": True,
                "message_fr": stored.get("message_fr") or DEFAULT_MESSAGE_FR,
                "message_en": stored.get("message_en") or DEFAULT_MESSAGE_EN}

    def switch_on(self, message_fr: str | None = None, message_en: str | None = None) -> None:
        self.redis.set(self.key, json.dumps({
            "message_fr": message_fr, "message_en": message_en,
            "since": dt.datetime.now(dt.UTC).isoformat()}))

    def switch_off(self) -> None:
        self.redis.delete(self.key)

    def refuse_changes(self) -> None:
        """Raise `503 maintenance` while the flag is on."""
        state = self.state()
        if state["active"]:
            raise ApiError(503, "maintenance",
                           "The personal space is under maintenance: reading works, changes "
                           "are paused; retry later.",
                           headers={"Retry-After": RETRY_AFTER},
                           message_fr=state["message_fr"], message_en=state["message_en"])


def _switch() -> MaintenanceSwitch:
    url = os.environ.get("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = os.environ.get("GATEWAY_REDIS_PREFIX", "memberspace:")
    return MaintenanceSwitch(redis.Redis.from_url(url, socket_timeout=5), prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.maintenance",
                                     description="Switch the API's maintenance mode.")
    sub = parser.add_subparsers(dest="command", required=True)
    on = sub.add_parser("on", help="state-changing routes answer 503 maintenance")
    on.add_argument("--fr", default=None, help="message shown to members in French")
    on.add_argument("--en", default=None, help="message shown to members in English")
    sub.add_parser("off", help="back to normal")
    sub.add_parser("status", help="print the current state as JSON")
    args = parser.parse_args(argv)
    switch = _switch()
    if args.command == "on":
        switch.switch_on(args.fr, args.en)
    elif args.command == "off":
        switch.switch_off()
    print(json.dumps(switch.state(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
