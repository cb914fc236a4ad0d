"""The request types the registry knows: its own, each with its parameters' schema, and
those other services own, configured in `DOCUMENTS_EXTERNAL_TYPES`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from services.contracts.requests import CorrectionParams, NoParams, PeriodParams, YearParams
from services.kit.errors import FieldError, ValidationFailed


@dataclass(frozen=True)
class RequestType:
    name: str
    params: type[Schema]             # the registry's own types; NoParams for an owner's
    start: str = "submitted"         # draft | submitted
    automatic: bool = False          # completes without a human
    needs_attachment: bool = False   # a supporting document before submission
    owner: str | None = None         # the service owning it, for types plugged in by RPC


TYPES: dict[str, RequestType] = {t.name: t for t in (
    RequestType("certificate_of_rights", NoParams, automatic=True),
    RequestType("payment_certificate", PeriodParams, automatic=True),
    RequestType("annual_tax_statement", YearParams, automatic=True),
    RequestType("affiliation_certificate", NoParams, automatic=True),
    # supporting documents are uploaded with the request's id once it exists
    RequestType("data_correction", CorrectionParams),
    RequestType("data_access", NoParams, automatic=True),
)}


def external_types(spec: str) -> dict[str, RequestType]:
    """`type=service:start[:auto],...` from configuration, e.g.
    `career_statement=pension:submitted:auto,retirement_pension=pension:draft`."""
    kinds = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, rest = item.partition("=")
        service, start, *flags = rest.split(":") if rest.count(":") else (rest, "")
        if start not in ("draft", "submitted") or not name or not service:
            raise ValueError(f"bad external request type: {item!r}")
        kinds[name] = RequestType(name, NoParams, start=start, automatic="auto" in flags,
                                  owner=service)
    return kinds


def known_types(external_spec: str) -> dict[str, RequestType]:
    """The registry's own types, and the configured ones (which replace a namesake)."""
    return {**TYPES, **external_types(external_spec)}


def request_type(name: Any, kinds: dict[str, RequestType] | None = None) -> RequestType:
    kinds = TYPES if kinds is None else kinds
    if not isinstance(name, str) or name not in kinds:  # a list or object is unhashable
        raise ValidationFailed.of([FieldError("type", "not_allowed",
                                              "One of: " + ", ".join(sorted(kinds)))])
    return kinds[name]
