"""The HTTP contract's shapes: requests are validated with these, answers dumped
through them, and the OpenAPI document is generated from them."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from services.contracts.members import CLIENTS


class ProblemFieldError(Schema):
    field = fields.String(required=True)
    code = fields.String(required=True)
    detail = fields.String(required=True)


class Problem(Schema):
    """RFC 9457 problem details, with a stable `code`. Extension members (`retry_after`,
    a request's current state, ...) may stand beside these, as the RFC allows."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Nested(ProblemFieldError))


class LoginRequest(Schema):
    identifier = fields.String(
        required=True, validate=validate.Length(1, 64),
        metadata={"description": "Registration number and date of birth (DDMMYYYY) joined "
                                 "by a hyphen, e.g. 123456-03091985; self-employed members "
                                 "may give the last 5 digits of their number.",
                  "example": "123456-03091985"})
    password = fields.String(required=True, validate=validate.Length(1, 128))
    client = fields.String(load_default="web", validate=validate.OneOf(CLIENTS))


class TokenAnswer(Schema):
    """Mobile clients get the tokens; web clients get them as cookies and only the
    CSRF token (also in the readable `ms_csrf` cookie) in the body."""

    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives."})
    refresh_expires_in = fields.Integer()
    csrf_token = fields.String(metadata={"description": "Web only: echo it in X-CSRF-Token."})


class RefreshRequest(Schema):
    refresh_token = fields.String(validate=validate.Length(1, 200))


class AgentLoginRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256))
    otp = fields.String(
        load_default=None, validate=validate.Length(max=32),
        metadata={"description": "The current 6-digit code of the agent's authenticator, "
                                 "or one unused recovery code (`xxxxx-xxxxx`). Missing or "
                                 "wrong: the same `invalid_credentials` as a wrong "
                                 "password."})


class Agent(Schema):
    agent_id = fields.String()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    active = fields.Boolean()
    factor_enrolled = fields.Boolean()
    last_login_at = fields.String(allow_none=True)


class AgentLoginAnswer(Schema):
    session_id = fields.String()
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_expires_in = fields.Integer(
        metadata={"description": "Seconds left of the session's 8 hours; it also ends "
                                 "after 30 minutes without a refresh."})
    agent = fields.Nested(Agent)


class LoginAnswer(TokenAnswer):
    must_change_password = fields.Boolean(
        required=True, metadata={"description": "True until the member personalises the "
                                                "password the fund gave them."})
    previous_login_at = fields.String(
        allow_none=True, metadata={"description": "The connection before this one (ISO "
                                                  "8601): if it was not you, change your "
                                                  "password."})


class PasswordChangeRequest(Schema):
    current_password = fields.String(required=True, validate=validate.Length(1, 128))
    new_password = fields.String(required=True, validate=validate.Length(1, 128))


class Subscription(Schema):
    fund = fields.String(metadata={"example": "CCSS"})
    registration_number = fields.String(metadata={"example": "123456"})


class Me(Schema):
    member_id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.String(metadata={"format": "date"})
    sex = fields.String()
    email = fields.String(allow_none=True)
    email_validated = fields.Boolean()
    language = fields.String()
    subscriptions = fields.List(fields.Nested(Subscription))
    must_change_password = fields.Boolean()
    previous_login_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    previous_login_method = fields.String(allow_none=True)


class ServiceHealth(Schema):
    ready = fields.Boolean()
    checks = fields.Dict()
    error = fields.String()


class Health(Schema):
    status = fields.String(metadata={"example": "ok"})
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceHealth))
