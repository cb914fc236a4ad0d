"""Online requests (the registry in documents), the agents' queue and the public
certificate check."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from gateway.api import AGENT, MEMBER, Call, route
from services.contracts.requests import STATUSES


class NewRequest(Schema):
    """What the gateway reads; documents checks `type` and `params` (the OpenAPI document
    describes the body as one of the catalogue's types, gateway.catalogue)."""

    type = fields.String(required=True, validate=validate.Length(1, 40))
    params = fields.Dict(load_default=dict)


class DraftChange(Schema):
    params = fields.Dict(required=True)


class Reply(Schema):
    message = fields.String(required=True, validate=validate.Length(1, 2000))
    document_ids = fields.List(fields.UUID(), load_default=list,
                               validate=validate.Length(max=10))


class Transition(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ListQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class HistoryEntry(Schema):
    at = fields.String(metadata={"format": "date-time"})
    from_ = fields.String(data_key="from", attribute="from", allow_none=True,
                          metadata={"description": "null when the request was created"})
    to = fields.String()
    by = fields.String()
    note = fields.String(allow_none=True)


class RequestView(Schema):
    id = fields.String()
    type = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    params = fields.Dict()
    attachments = fields.List(fields.Dict())
    reason = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})
    completed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    has_document = fields.Boolean()
    verification_code = fields.String(allow_none=True)
    history = fields.List(fields.Nested(HistoryEntry))
    member_id = fields.String()


class RequestPage(Schema):
    items = fields.List(fields.Nested(RequestView))
    next_cursor = fields.String(allow_none=True)


class Verification(Schema):
    genuine = fields.Boolean()
    type = fields.String()
    issued_on = fields.String(metadata={"format": "date"})
    holder_initials = fields.String()


REQUEST_PROBLEMS = ((404, "request_not_found"), (409, "transition_not_allowed"),
                    (422, "validation_failed"))


@route("POST", "/api/v1/requests", access=MEMBER, body=NewRequest, response=RequestView,
       status=201, idempotent=True, summary="Make an online request (certificates, "
                                            "corrections, access to your data, ...)",
       tags=("requests",), problems=((422, "validation_failed"),))
def create_request(call: Call) -> Any:
    created = call.services.documents.create_request(call.member_id, call.body["type"],
                                                     call.body["params"])
    return created, 201, {"Location": f"/api/v1/requests/{created['id']}"}


@route("GET", "/api/v1/requests", access=MEMBER, query=ListQuery, response=RequestPage,
       summary="The member's requests, newest first", tags=("requests",))
def list_requests(call: Call) -> Any:
    q = call.query
    return call.services.documents.list_requests(call.member_id, q["status"], q["cursor"],
                                                 q["limit"])


@route("GET", "/api/v1/requests/<uuid:request_id>", access=MEMBER, response=RequestView,
       summary="One request with its history", tags=("requests",),
       problems=((404, "request_not_found"),))
def get_request(call: Call) -> Any:
    return call.services.documents.get_request(call.member_id,
                                               str(call.path_params["request_id"]))


@route("PATCH", "/api/v1/requests/<uuid:request_id>", access=MEMBER, body=DraftChange,
       response=RequestView, summary="Change a draft's parameters", tags=("requests",),
       problems=REQUEST_PROBLEMS)
def update_request(call: Call) -> Any:
    return call.services.documents.update_request(
        call.member_id, str(call.path_params["request_id"]), call.body["params"])


@route("POST", "/api/v1/requests/<uuid:request_id>/submit", access=MEMBER,
       response=RequestView, summary="Submit a draft", tags=("requests",),
       problems=REQUEST_PROBLEMS)
def submit_request(call: Call) -> Any:
    return call.services.documents.submit_request(call.member_id,
                                                  str(call.path_params["request_id"]))


@route("POST", "/api/v1/requests/<uuid:request_id>/reply", access=MEMBER, body=Reply,
       response=RequestView, summary="Answer a request that needs information",
       tags=("requests",), problems=REQUEST_PROBLEMS)
def reply_request(call: Call) -> Any:
    return call.services.documents.reply_request(
        call.member_id, str(call.path_params["request_id"]), call.body["message"],
        [str(d) for d in call.body["document_ids"]])


@route("POST", "/api/v1/requests/<uuid:request_id>/cancel", access=MEMBER,
       response=RequestView, summary="Cancel a request not yet in progress",
       tags=("requests",), problems=REQUEST_PROBLEMS)
def cancel_request(call: Call) -> Any:
    return call.services.documents.cancel_request(call.member_id,
                                                  str(call.path_params["request_id"]))


@route("GET", "/api/v1/requests/<uuid:request_id>/document", access=MEMBER,
       summary="The request's result (a certificate PDF, your data as JSON)",
       tags=("requests",), problems=((404, "document_not_ready"),
                                     (404, "document_unavailable")))
def request_document(call: Call) -> Response:
    from gateway.routes.documents import stream_object

    grant = call.services.documents.authorize_request_document(
        call.member_id, str(call.path_params["request_id"]))
    return stream_object(call, grant)


@route("GET", "/api/v1/certificates/verify/<code>", response=Verification,
       rate_limit="card_status", summary="Is this certificate genuine? (public)",
       tags=("requests",), problems=((404, "certificate_not_found"),))
def verify_certificate(call: Call) -> Any:
    return call.services.documents.verify_certificate(str(call.path_params["code"])[:40])


@route("GET", "/api/v1/agent/requests", access=AGENT, query=ListQuery, response=RequestPage,
       summary="The agents' queue, oldest first", tags=("agent",))
def agent_queue(call: Call) -> Any:
    q = call.query
    return call.services.documents.agent_queue(q["status"], q["cursor"], q["limit"])


@route("POST", "/api/v1/agent/requests/<uuid:request_id>/transition", access=AGENT,
       body=Transition, response=RequestView, summary="Move a request along (audited)",
       tags=("agent",), problems=REQUEST_PROBLEMS)
def agent_transition(call: Call) -> Any:
    return call.services.documents.transition_request(
        str(call.path_params["request_id"]), call.body["to"], call.body["note"])
