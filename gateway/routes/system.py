"""Health and the API description."""

from __future__ import annotations

import ipaddress
from typing import Any

import eventlet

from gateway.api import Call, json_response, route
from gateway.schemas import Health
from services.kit.errors import ServiceError

HEALTH_TIMEOUT = 3.0


def _probe(call: Call, name: str) -> dict[str, Any]:
    client = getattr(call.services, name, None)
    if client is None:
        return {"ready": False, "error": "no_rpc_client"}
    try:
        return client.health(_timeout=HEALTH_TIMEOUT)
    except ServiceError as exc:
        return {"ready": False, "error": exc.code}


@route("GET", "/health", response=Health,
       summary="Readiness of the gateway and every service (503 with the same body when "
               "one is not ready)", tags=("system",))
def health(call: Call) -> Any:
    names = call.services.settings.GATEWAY_SERVICES
    pool = eventlet.GreenPool(len(names) or 1)
    reports = dict(zip(names, pool.imap(lambda n: _probe(call, n), names), strict=True))
    loaded = call.services.revocations.loaded
    reports["gateway"] = {"ready": loaded, "checks": {"revocation_view": {"ok": loaded}}}
    ready = all(r.get("ready") for r in reports.values())
    body: dict[str, Any] = {"status": "ok" if ready else "not_ready"}
    if _may_see_details(call):
        body["services"] = reports
    return (body, 200 if ready else 503)


def _may_see_details(call: Call) -> bool:
    """Each service's checks tell an attacker what runs behind us: only the networks of
    `GATEWAY_HEALTH_DETAIL_NETWORKS` (loopback by default: probes, ops) read them."""
    try:
        address = ipaddress.ip_address(call.client_ip)
    except ValueError:
        return False
    return any(address in net
               for net in call.services.settings.GATEWAY_HEALTH_DETAIL_NETWORKS)


@route("GET", "/health/live", summary="The gateway process answers", tags=("system",))
def live(call: Call) -> Any:
    return {"status": "ok"}


@route("GET", "/api/v1/openapi.json", summary="This API's OpenAPI document", tags=("system",))
def openapi(call: Call) -> Any:
    from gateway.catalogue import CATALOGUE
    from gateway.openapi import openapi_document

    CATALOGUE.refresh_if_due(lambda: call.services.documents.request_types(
        _timeout=CATALOGUE.ask_timeout))
    return json_response(openapi_document(CATALOGUE.entries(),
                                          call.settings.GATEWAY_STAFF_ROUTES))
