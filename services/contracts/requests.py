"""Online requests and members' documents: the words the registry, the gateway and the
fund's systems share.

`STATUSES` is the one lifecycle every request follows (services/documents enforces the
moves, docs/requests.md); `DOCUMENT_CATEGORIES` what a member's document may be filed
as; `BUILT_IN_REQUEST_TYPES` the registry's own types, each as the catalogue entry
`documents.request_types()` answers (`name`, `initial_status`, `completed_by`,
`needs_document`, `params_schema`; the params here as a marshmallow schema). Types
owned by other services (pension's) come from documents' configuration at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from services.contracts.periods import Period

STATUSES = ("draft", "submitted", "in_progress", "needs_information", "completed",
            "rejected", "cancelled")
FINAL_STATUSES = frozenset({"completed", "rejected", "cancelled"})
INITIAL_STATUSES = ("draft", "submitted")
REQUEST_TYPE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"

DOCUMENT_CATEGORIES = ("medical_certificate", "proof_of_address", "bank_details",
                       "pension_supporting_document", "identity_document",
                       "death_certificate", "marriage_certificate", "other")

CORRECTABLE_FIELDS = ("first_name", "last_name", "birth_date", "sex", "address", "other")


class NoParams(Schema):
    class Meta:
        unknown = RAISE


class PeriodParams(Period):
    """A payment certificate's period: what benefits lists for one statement."""


class YearParams(Schema):
    class Meta:
        unknown = RAISE

    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))


class CorrectionParams(Schema):
    class Meta:
        unknown = RAISE

    field = fields.String(required=True, validate=validate.OneOf(CORRECTABLE_FIELDS))
    new_value = fields.String(required=True, validate=validate.Length(1, 500))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


@dataclass(frozen=True)
class BuiltInRequestType:
    """One of the registry's own types, as its catalogue entry describes it."""

    name: str
    params: type[Schema]
    initial_status: Literal["draft", "submitted"] = "submitted"
    completed_by: Literal["system", "agent"] = "system"
    needs_document: bool = False


BUILT_IN_REQUEST_TYPES: tuple[BuiltInRequestType, ...] = (
    BuiltInRequestType("certificate_of_rights", NoParams),
    BuiltInRequestType("payment_certificate", PeriodParams),
    BuiltInRequestType("annual_tax_statement", YearParams),
    BuiltInRequestType("affiliation_certificate", NoParams),
    BuiltInRequestType("data_correction", CorrectionParams, completed_by="agent"),
    BuiltInRequestType("data_access", NoParams),
)


class RequestTypeEntry(Schema):
    """One entry of `documents.request_types()`; `params_schema` is JSON Schema 2020-12.
    Fields an entry may gain later are ignored by readers of this version."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Regexp(REQUEST_TYPE_PATTERN))
    initial_status = fields.String(required=True, validate=validate.OneOf(INITIAL_STATUSES))
    completed_by = fields.String(required=True)
    needs_document = fields.Boolean(required=True)
    params_schema = fields.Dict(required=True)
