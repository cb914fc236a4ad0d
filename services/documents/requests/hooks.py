"""The hook contract of docs/requests.md, answered for every request type: by the
registry itself for its own types (`BuiltinHooks`), over RPC by the owning service for
the configured ones (`OwnerHooks`). The registry and the worker only ever call hooks;
`HookSet.of(kind)` says whose."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from marshmallow import ValidationError

from services.documents.members import Member
from services.documents.requests import results
from services.documents.requests.catalogue import params_json_schema
from services.documents.requests.types import TYPES, RequestType
from services.kit.errors import NotFound, marshmallow_errors
from services.kit.storage import Storage

RESULTS_BUCKET = "documents"
PARAMS_SCHEMA_TIMEOUT = 3.0  # seconds: the catalogue waits on each owner at most this


class RequestHooks(Protocol):
    def validate_params(self, member_id: str, params: Any,
                        request_type: str) -> list[dict[str, str]]:
        """Field errors of `params`; empty when they are fine."""

    def check_submission(self, member_id: str, params: Any,
                         attachments: list[dict[str, Any]], request_type: str) -> list[str]:
        """What is missing before a draft can be submitted; empty when nothing is."""

    def produce_result(self, request: dict[str, Any]) -> dict[str, Any]:
        """Write the result to storage: `{storage_key, content_type, sha256,
        verification_code}`."""

    def params_schema(self, request_type: str) -> dict[str, Any]:
        """The type's parameters as JSON Schema 2020-12."""


@dataclass(frozen=True)
class ResultSources:
    """What the registry's own types read and write to produce a result."""

    member: Callable[[str], Member | None]              # documents' copy of the member
    benefits: Any                                       # benefits' RPC
    export: Callable[[str, str], dict[str, Any]]        # (service, member_id) -> its export
    storage: Storage
    public_base_url: str


class BuiltinHooks:
    """The registry's own types: parameters checked by their marshmallow schema, a
    supporting document when the type needs one, results made by `results` and stored
    under `results/<request id>` (needs `sources`)."""

    def __init__(self, sources: ResultSources | None = None):
        self.sources = sources

    def validate_params(self, member_id: str, params: Any,
                        request_type: str) -> list[dict[str, str]]:
        try:
            TYPES[request_type].params().load(params if params is not None else {})
        except ValidationError as exc:
            return marshmallow_errors(exc.messages, "params")
        return []

    def check_submission(self, member_id: str, params: Any,
                         attachments: list[dict[str, Any]], request_type: str) -> list[str]:
        if TYPES[request_type].needs_attachment and not attachments:
            return ["a supporting document (upload it with this request's id)"]
        return []

    def params_schema(self, request_type: str) -> dict[str, Any]:
        return params_json_schema(TYPES[request_type].params)

    def produce_result(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.sources is None:
            raise RuntimeError("BuiltinHooks need ResultSources to produce results")
        data, content_type, code = self._make(request)
        key = f"results/{request['id']}"
        self.sources.storage.put(RESULTS_BUCKET, key, data, content_type)
        return {"storage_key": key, "content_type": content_type,
                "sha256": hashlib.sha256(data).hexdigest(), "verification_code": code}

    def _make(self, request: dict[str, Any]) -> tuple[bytes, str, str | None]:
        sources, member_id, kind = self.sources, request["member_id"], request["type"]
        assert sources is not None
        if kind == "data_access":
            return (results.data_access(member_id, lambda s: sources.export(s, member_id)),
                    "application/json", None)
        member = sources.member(member_id)
        if member is None:
            raise NotFound("The member is not known here yet.", code="member_not_found")
        data: dict[str, Any] = {}
        if kind == "certificate_of_rights":
            data["card"] = sources.benefits.get_card(member_id)
        elif kind in ("payment_certificate", "annual_tax_statement"):
            params = request["params"]
            if kind == "annual_tax_statement":
                start, end = f"{params['year']}-01-01", f"{params['year']}-12-31"
            else:
                start, end = params["from"], params["to"]
            data.update({"from": start, "to": end, "payments":
                         sources.benefits.payments_for_statement(
                             member_id, {"from": start, "to": end})})
        pdf, code = results.certificate(kind, member, data, sources.public_base_url)
        return pdf, "application/pdf", code


class OwnerHooks:
    """A type owned by another service: its hooks over RPC (`owner` is the kit's
    `RemoteService` of that service)."""

    def __init__(self, service: str, owner: Any):
        self.service, self.owner = service, owner

    def validate_params(self, member_id: str, params: Any,
                        request_type: str) -> list[dict[str, str]]:
        return list(self.owner.validate_params(member_id, params or {},
                                               request_type=request_type))

    def check_submission(self, member_id: str, params: Any,
                         attachments: list[dict[str, Any]], request_type: str) -> list[str]:
        return list(self.owner.check_submission(member_id, params, attachments,
                                                request_type=request_type))

    def produce_result(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.owner.produce_result(request)

    def params_schema(self, request_type: str) -> dict[str, Any]:
        """The optional fourth hook; raises when the owner has none or does not answer
        within PARAMS_SCHEMA_TIMEOUT (the catalogue then gives `{"type": "object"}`)."""
        return self.owner.params_schema(request_type=request_type,
                                        _timeout=PARAMS_SCHEMA_TIMEOUT)


class HookSet:
    """Whose hooks answer for a type: the registry's own, or its owner's over RPC
    (`owner_rpc(service)` gives the kit's `RemoteService` for it)."""

    def __init__(self, builtin: BuiltinHooks | None = None,
                 owner_rpc: Callable[[str], Any] | None = None):
        self.builtin = builtin or BuiltinHooks()
        self.owner_rpc = owner_rpc

    def of(self, kind: RequestType) -> RequestHooks:
        if kind.owner is None:
            return self.builtin
        if self.owner_rpc is None:
            raise RuntimeError(f"no RPC to reach {kind.owner}, the owner of {kind.name}")
        return OwnerHooks(kind.owner, self.owner_rpc(kind.owner))
