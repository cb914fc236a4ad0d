"""Each event's `data`, one schema per event type and version (docs/events.md).

`EVENT_SCHEMAS[(type, version)]` is the contract a publisher's `data` must meet: the
kit's unit of work validates every event against it before writing it to the outbox,
and refuses an unknown type or version. Within a version a schema may only gain
optional fields (services/contracts/event_schemas.json keeps each one's shape; the
test comparing them says so); anything else is a new version, published alongside the
old one until every consumer has moved.

Publishing refuses fields a schema does not name (a new field is added here first);
consumers ignore the fields they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.contracts.members import CLIENTS, FUNDS, LANGUAGES, REGISTRATION_NUMBER_PATTERN
from services.contracts.requests import DOCUMENT_CATEGORIES, REQUEST_TYPE_PATTERN, STATUSES

LOGIN_METHODS = ("password", "mconnect")
PASSWORD_METHODS = ("change", "reset")
SESSION_END_REASONS = ("logout", "ended_by_member", "password_changed", "password_reset",
                       "credentials_reset", "refresh_token_reused", "member_deleted",
                       "agent_deleted", "agent_disabled", "factor_reset", "idle")
AMOUNT_PATTERN = r"^[0-9]+\.[0-9]{2}$"  # a decimal with two digits, as text
CURRENCIES = ("EUR",)
PAID_TO = ("member", "insurer")  # a refund paid to the member, or to the complementary insurer


class EventData(Schema):
    class Meta:
        unknown = RAISE


def _at(**kwargs: Any) -> fields.AwareDateTime:
    """An instant as ISO 8601 text with its offset (UTC)."""
    return fields.AwareDateTime(required=True, **kwargs)


# -- auth --------------------------------------------------------------------------------

class Subscription(EventData):
    fund = fields.String(required=True, validate=validate.OneOf(FUNDS))
    registration_number = fields.String(required=True, validate=validate.Regexp(
        REGISTRATION_NUMBER_PATTERN))


class MemberIdentityV1(EventData):
    """`auth.member_created`, `auth.member_updated`: the whole identity."""

    member_id = fields.UUID(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(["F", "M"]))
    email = fields.String(required=True, allow_none=True)
    email_validated = fields.Boolean(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    subscriptions = fields.List(fields.Nested(Subscription), required=True)


class MemberDeletedV1(EventData):
    member_id = fields.UUID(required=True)


class MemberLoggedInV1(EventData):
    session_id = fields.UUID(required=True)
    client = fields.String(required=True, validate=validate.OneOf(CLIENTS))
    method = fields.String(required=True, validate=validate.OneOf(LOGIN_METHODS))
    at = _at()


class PasswordChangedV1(EventData):
    session_id = fields.UUID(required=True, allow_none=True)  # null for a reset
    at = _at()
    method = fields.String(required=True, validate=validate.OneOf(PASSWORD_METHODS))


class EmailChangedV1(EventData):
    email = fields.String(required=True)
    previous_email = fields.String(required=True, allow_none=True)
    at = _at()


class SessionsEndedV1(EventData):
    session_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True, validate=validate.OneOf(SESSION_END_REASONS))
    at = _at()


class LoginLockedV1(EventData):
    until = _at()


# -- benefits ----------------------------------------------------------------------------

class RefundPaidV1(EventData):
    refund_id = fields.String(required=True, validate=validate.Length(1, 64))
    amount = fields.String(required=True, validate=validate.Regexp(AMOUNT_PATTERN))
    currency = fields.String(required=True, validate=validate.OneOf(CURRENCIES))
    paid_on = fields.Date(required=True)
    care_date = fields.Date(required=True)
    practitioner = fields.String(required=True)
    paid_to = fields.String(required=True, validate=validate.OneOf(PAID_TO))
    beneficiary_id = fields.String(required=True, allow_none=True,
                                   validate=validate.Length(max=64))


class PaymentMadeV1(EventData):
    payment_id = fields.String(required=True, validate=validate.Length(1, 64))
    amount = fields.String(required=True, validate=validate.Regexp(AMOUNT_PATTERN))
    currency = fields.String(required=True, validate=validate.OneOf(CURRENCIES))
    paid_on = fields.Date(required=True)
    payment_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]{2,40}$"))
    label = fields.String(required=True, allow_none=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


# -- documents and the request registry --------------------------------------------------

class DocumentReceivedV1(EventData):
    document_id = fields.UUID(required=True)
    category = fields.String(required=True, validate=validate.OneOf(DOCUMENT_CATEGORIES))
    filename = fields.String(required=True, validate=validate.Length(1, 128))
    request_id = fields.UUID(required=True, allow_none=True)


class RequestStatusChangedV1(EventData):
    request_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(REQUEST_TYPE_PATTERN))
    from_ = fields.String(data_key="from", required=True, allow_none=True,
                          validate=validate.OneOf(STATUSES))
    to = fields.String(required=True, validate=validate.OneOf(
        [s for s in STATUSES if s != "draft"]))
    at = _at()
    # who moved it (absent from events published before it was added)
    by = fields.String(validate=validate.OneOf(["member", "agent", "system"]))
    note = fields.String(required=True, allow_none=True)


EVENT_SCHEMAS: dict[tuple[str, int], type[EventData]] = {
    ("auth.member_created", 1): MemberIdentityV1,
    ("auth.member_updated", 1): MemberIdentityV1,
    ("auth.member_deleted", 1): MemberDeletedV1,
    ("auth.member_logged_in", 1): MemberLoggedInV1,
    ("auth.password_changed", 1): PasswordChangedV1,
    ("auth.email_changed", 1): EmailChangedV1,
    ("auth.sessions_ended", 1): SessionsEndedV1,
    ("auth.login_locked", 1): LoginLockedV1,
    ("benefits.refund_paid", 1): RefundPaidV1,
    ("benefits.payment_made", 1): PaymentMadeV1,
    ("documents.document_received", 1): DocumentReceivedV1,
    ("requests.status_changed", 1): RequestStatusChangedV1,
}


class UnknownEvent(LookupError):
    """No contract for this event type and version: publish a documented event."""


def event_schema(event_type: str, version: int,
                 schemas: Mapping[tuple[str, int], type[Schema]] = EVENT_SCHEMAS
                 ) -> type[Schema]:
    """The contract of `event_type` at `version`; `UnknownEvent` when there is none."""
    schema = schemas.get((event_type, version))
    if schema is None:
        known = sorted({t for t, _ in schemas})
        raise UnknownEvent(f"no contract for event {event_type!r} version {version} "
                           f"(services/contracts/events.py; known types: "
                           f"{', '.join(known)})")
    return schema


def check_event_data(event_type: str, version: int, data: Any,
                     schemas: Mapping[tuple[str, int], type[Schema]] = EVENT_SCHEMAS) -> None:
    """Raise `UnknownEvent`, or `marshmallow.ValidationError` when `data` breaks its
    contract (the messages name the fields, never the values)."""
    schema = event_schema(event_type, version, schemas)
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["The event's data must be an object."]})
    errors = schema().validate(data)
    if errors:
        raise ValidationError(errors)
