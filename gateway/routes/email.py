"""The validated e-mail address and the forgotten password."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from gateway.api import MEMBER, Call, route

FORGOT_ANSWER = {"status": "accepted",
                 "detail": "If this identifier matches an account with a validated e-mail "
                           "address, a link to choose a new password has been sent to it."}


class EmailChange(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))


class EmailChangeAnswer(Schema):
    pending_email = fields.String()
    expires_in_hours = fields.Integer()


class TokenBody(Schema):
    token = fields.String(required=True, validate=validate.Length(1, 200))


class EmailVerified(Schema):
    email = fields.String()
    email_validated = fields.Boolean()


class Forgot(Schema):
    identifier = fields.String(required=True, validate=validate.Length(1, 64))


class Accepted(Schema):
    status = fields.String()
    detail = fields.String()


class Reset(Schema):
    token = fields.String(required=True, validate=validate.Length(1, 200))
    new_password = fields.String(required=True, validate=validate.Length(1, 128))


@route("PUT", "/api/v1/me/email", access=MEMBER, body=EmailChange, response=EmailChangeAnswer,
       status=202, allowed_without_email=True,
       summary="Register a new address: it stays pending until its link is followed",
       tags=("me",), problems=((422, "validation_failed"),))
def change_email(call: Call) -> Any:
    return call.services.auth.request_email_change(call.member_id, call.body["email"])


@route("POST", "/api/v1/auth/email/verify", body=TokenBody, response=EmailVerified,
       summary="Follow the link's token: the pending address becomes the member's "
               "(works logged in or not)", tags=("auth",),
       problems=((400, "email_token_invalid"), (410, "email_token_expired"),
                 (410, "email_token_used")))
def verify_email(call: Call) -> Any:
    return call.services.auth.verify_email(call.body["token"])


@route("POST", "/api/v1/auth/password/forgot", body=Forgot, response=Accepted, status=202,
       rate_limit="forgot", summary="Ask for a password reset link (the answer is the same "
                                    "whoever asks)", tags=("auth",),
       problems=((400, "invalid_identifier"), (429, "too_many_requests")))
def forgot_password(call: Call) -> Any:
    call.services.auth.forgot_password(call.body["identifier"])
    return FORGOT_ANSWER


@route("POST", "/api/v1/auth/password/reset", body=Reset, status=204,
       summary="Choose a new password with a reset link's token; every session ends",
       tags=("auth",),
       problems=((400, "reset_token_invalid"), (410, "reset_token_expired"),
                 (410, "reset_token_used"), (422, "validation_failed")))
def reset_password(call: Call) -> None:
    call.services.auth.reset_password(call.body["token"], call.body["new_password"])
