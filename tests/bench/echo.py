"""A bare nameko echo: the yardstick `make bench` compares the gateway with.

`EchoGateway` is plain nameko (its `@http` and its `RpcProxy`, none of the kit's
problem+json, timeouts, tokens or schemas), calling `EchoService` once per request:
the cost of one HTTP request plus one RPC hop and nothing else.

    python -m services.kit.runner tests.bench.echo:EchoService
    python -m services.kit.runner tests.bench.echo:EchoGateway
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http

from services.kit.config import BaseSettings

ECHO_ADDRESS = "127.0.0.1:18101"


class EchoSettings(BaseSettings):
    """Only what every service shares (AMQP_URI, LOG_LEVEL, MAX_WORKERS, ...)."""


class EchoGatewaySettings(BaseSettings):
    WEB_SERVER_ADDRESS = fields.String(load_default=ECHO_ADDRESS)


class EchoService:
    name = "bench_echo"
    settings_schema = EchoSettings

    @rpc
    def echo(self, value: Any) -> Any:
        return value


class EchoGateway:
    name = "bench_echo_gateway"
    settings_schema = EchoGatewaySettings

    echo = RpcProxy("bench_echo")

    @http("GET", "/echo")
    def get_echo(self, request: Any) -> tuple[int, dict[str, str], str]:
        value = self.echo.echo("x")
        return 200, {"Content-Type": "application/json"}, json.dumps({"echo": value})
