"""Apple Wallet's web service: the devices holding the card's pass register for its
updates and fetch its latest version (Apple's protocol, under the webServiceURL the
passes carry: `<public base>/api/v1/wallet/apple`). Devices authenticate with the
pass's own token (`Authorization: ApplePass <token>`), which benefits checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.http import http_date
from werkzeug.wrappers import Response

from gateway.api import Call, json_response, route
from gateway.routes.benefits import pkpass_response
from services.kit.logging import get_logger

log = get_logger(__name__)
BASE = "/api/v1/wallet/apple/v1"
TAGS = ("wallet",)
PASS_PROBLEMS = ((401, "pass_unauthorized"), (404, "card_not_found"),
                 (404, "pass_type_not_found"), (429, "too_many_requests"))


def _token(call: Call) -> str:
    scheme, _, token = (call.request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme == "ApplePass" else ""


class DeviceRegistration(Schema):
    push_token = fields.String(data_key="pushToken", required=True,
                               validate=validate.Length(1, 200))


class ChangedPassesQuery(Schema):
    passes_updated_since = fields.String(data_key="passesUpdatedSince", load_default=None,
                                         validate=validate.Length(max=20))


class ChangedPasses(Schema):
    serialNumbers = fields.List(fields.String())
    lastUpdated = fields.String()


class DeviceLog(Schema):
    logs = fields.List(fields.String(validate=validate.Length(max=2000)),
                       validate=validate.Length(max=50), load_default=list)


@route("POST", f"{BASE}/devices/<device>/registrations/<pass_type>/<serial>",
       body=DeviceRegistration, rate_limit="wallet", max_body=4096, status=201,
       summary="A device registers for the updates of a card's pass (201 new, 200 already)",
       tags=TAGS, problems=((422, "validation_failed"), *PASS_PROBLEMS))
def register_device(call: Call) -> Any:
    p = call.path_params
    created = call.services.benefits.register_pass_device(
        p["device"], p["pass_type"], p["serial"], _token(call), call.body["push_token"])
    return Response(status=201 if created["created"] else 200)


@route("DELETE", f"{BASE}/devices/<device>/registrations/<pass_type>/<serial>",
       rate_limit="wallet", summary="A device stops following a pass", tags=TAGS,
       problems=PASS_PROBLEMS)
def unregister_device(call: Call) -> Any:
    p = call.path_params
    call.services.benefits.unregister_pass_device(p["device"], p["pass_type"], p["serial"],
                                                  _token(call))
    return Response(status=200)


@route("GET", f"{BASE}/devices/<device>/registrations/<pass_type>", query=ChangedPassesQuery,
       response=ChangedPasses, rate_limit="wallet",
       summary="The device's passes changed since a tag (204 when none)", tags=TAGS,
       problems=((404, "device_not_found"), (422, "validation_failed"),
                 (429, "too_many_requests")))
def changed_passes(call: Call) -> Any:
    p = call.path_params
    answer = call.services.benefits.changed_passes(p["device"], p["pass_type"],
                                                   call.query["passes_updated_since"])
    if not answer["serial_numbers"]:
        return Response(status=204)
    return json_response({"serialNumbers": answer["serial_numbers"],
                          "lastUpdated": answer["last_updated"]})


@route("GET", f"{BASE}/passes/<pass_type>/<serial>", rate_limit="wallet",
       summary="The latest version of a pass (304 when unchanged since If-Modified-Since)",
       tags=TAGS, problems=PASS_PROBLEMS)
def latest_pass(call: Call) -> Response:
    p = call.path_params
    answer = call.services.benefits.latest_pass(p["pass_type"], p["serial"], _token(call))
    modified = dt.datetime.fromisoformat(answer["last_modified"])
    since = call.request.if_modified_since
    if since is not None and modified <= since:
        response = Response(status=304)
    else:
        response = pkpass_response(answer)
    response.headers["Last-Modified"] = http_date(modified)
    return response


@route("POST", f"{BASE}/log", body=DeviceLog, rate_limit="wallet", max_body=64 * 1024,
       summary="Devices report problems with the web service", tags=TAGS,
       problems=((422, "validation_failed"), (429, "too_many_requests")))
def device_log(call: Call) -> Response:
    for entry in call.body["logs"]:
        log.info("wallet_device_log", entry=entry[:500])
    return Response(status=200)
