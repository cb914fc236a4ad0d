"""Profile, registration card, FSE code, care sheets and the card in a mobile wallet."""

from __future__ import annotations

import base64
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from gateway.api import MEMBER, Call, content_disposition, json_response, route
from gateway.problems import ApiError
from gateway.schemas import Subscription
from services.contracts.events import PAID_TO
from services.contracts.members import LANGUAGES


class Address(Schema):
    line1 = fields.String(required=True)
    line2 = fields.String(allow_none=True)
    postal_code = fields.String(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166 alpha-2"})


class Profile(Schema):
    member_id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.String(metadata={"format": "date"})
    email = fields.String(allow_none=True)
    email_validated = fields.Boolean()
    language = fields.String()
    subscriptions = fields.List(fields.Nested(Subscription))
    address = fields.Nested(Address, allow_none=True)
    phone = fields.String(allow_none=True)
    mail_channel = fields.String(metadata={"enum": ["email", "post"]})
    bank_account = fields.String(allow_none=True, metadata={"description": "masked"})
    forward_to_insurer = fields.Boolean()
    insurer_name = fields.String(allow_none=True)


class ProfilePatch(Schema):
    """Names and date of birth are not here: a correction is a request to the fund."""

    address = fields.Nested(Address)
    phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    mail_channel = fields.String(validate=validate.OneOf(["email", "post"]))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    forward_to_insurer = fields.Boolean()
    insurer_name = fields.String(allow_none=True, validate=validate.Length(max=200))


class Beneficiary(Schema):
    id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.String(metadata={"format": "date"})
    relationship = fields.String()


class Card(Schema):
    card_id = fields.String()
    registration_number = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.String(metadata={"format": "date"})
    fund = fields.String()
    rights_status = fields.String()
    rights_in_force = fields.Boolean()
    valid_from = fields.String(metadata={"format": "date"})
    valid_until = fields.String(metadata={"format": "date"})
    beneficiaries = fields.List(fields.Nested(Beneficiary))
    qr_payload = fields.String(metadata={"description": "Compact JWS (EdDSA); keys at "
                                                        "/api/v1/.well-known/jwks.json"})
    other_cards = fields.List(fields.Dict())


class FseCode(Schema):
    fse_code = fields.String()
    issued_at = fields.String(metadata={"format": "date-time"})


class CareSheet(Schema):
    id = fields.String()
    care_date = fields.String(metadata={"format": "date"})
    practitioner = fields.String()
    beneficiary_id = fields.String(allow_none=True)
    acts = fields.List(fields.Dict())
    amount_charged = fields.String(metadata={"description": "decimal"})
    amount_refunded = fields.String(allow_none=True)
    currency = fields.String()
    refund_status = fields.String()


class CareSheetPage(Schema):
    items = fields.List(fields.Nested(CareSheet))
    next_cursor = fields.String(allow_none=True)


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class CardStatus(Schema):
    jti = fields.String()
    status = fields.String(metadata={"enum": ["valid", "revoked", "expired", "closed",
                                              "suspended"]})
    valid_until = fields.String(metadata={"format": "date"})


class SaveUrl(Schema):
    save_url = fields.String()


@route("GET", "/api/v1/me/profile", access=MEMBER, response=Profile,
       summary="The member's profile and personal information", tags=("me",))
def get_profile(call: Call) -> Any:
    return call.services.benefits.get_profile(call.member_id)


@route("PATCH", "/api/v1/me/profile", access=MEMBER, body=ProfilePatch, response=Profile,
       summary="Change address, phone, mail channel, language, insurer forwarding",
       tags=("me",), problems=((422, "validation_failed"),))
def patch_profile(call: Call) -> Any:
    changes = dict(call.body)
    language = changes.pop("language", None)
    if changes:  # the whole change is checked before any part of it is applied
        call.services.benefits.validate_profile_changes(call.member_id, changes)
    if language:
        call.services.auth.set_language(call.member_id, language)
    if changes:
        return call.services.benefits.update_profile(call.member_id, changes)
    return call.services.benefits.get_profile(call.member_id)


@route("GET", "/api/v1/me/card", access=MEMBER, response=Card,
       summary="The registration card, with its QR payload", tags=("card",),
       problems=((404, "card_not_found"),))
def get_card(call: Call) -> Any:
    return call.services.benefits.get_card(call.member_id)


@route("GET", "/api/v1/me/fse-code", access=MEMBER, response=FseCode,
       summary="The FSE code giving access to the electronic care sheets", tags=("card",),
       problems=((404, "fse_code_not_found"),))
def get_fse_code(call: Call) -> Any:
    return call.services.benefits.get_fse_code(call.member_id)


@route("POST", "/api/v1/me/fse-code/renew", access=MEMBER, response=FseCode,
       summary="A new FSE code; the old one stops working at once", tags=("card",))
def renew_fse_code(call: Call) -> Any:
    return call.services.benefits.renew_fse_code(call.member_id)


@route("GET", "/api/v1/me/care-sheets", access=MEMBER, query=PageQuery,
       response=CareSheetPage, summary="The member's electronic care sheets", tags=("card",))
def care_sheets(call: Call) -> Any:
    return call.services.benefits.list_care_sheets(call.member_id, call.query["limit"],
                                                   call.query["cursor"])


def _mobile_only(call: Call) -> None:
    if call.principal.client != "mobile":
        raise ApiError(403, "mobile_app_only",
                       "Adding the card to a wallet is available in the mobile app.")


@route("GET", "/api/v1/me/card/wallet/apple", access=MEMBER,
       summary="The card as an Apple Wallet pass (application/vnd.apple.pkpass)",
       tags=("card",), problems=((403, "mobile_app_only"), (404, "card_not_found")))
def wallet_apple(call: Call) -> Response:
    _mobile_only(call)
    answer = call.services.benefits.wallet_pass(call.member_id, "apple")
    response = pkpass_response(answer)
    response.headers["Content-Disposition"] = content_disposition(answer["filename"])
    return response


def pkpass_response(answer: dict[str, Any]) -> Response:
    """benefits' Apple pass (base64 over RPC) as the .pkpass body."""
    return Response(base64.b64decode(answer["pkpass"]), status=200,
                    content_type=answer["media_type"])


@route("GET", "/api/v1/me/card/wallet/google", access=MEMBER, response=SaveUrl,
       summary="A 'Save to Google Wallet' link for the card", tags=("card",),
       problems=((403, "mobile_app_only"), (404, "card_not_found")))
def wallet_google(call: Call) -> Any:
    _mobile_only(call)
    return call.services.benefits.wallet_pass(call.member_id, "google")


@route("GET", "/api/v1/.well-known/jwks.json",
       summary="Public keys that verify cards' QR payloads offline", tags=("card",))
def jwks(call: Call) -> Response:
    response = json_response(call.services.benefits.get_card_keys())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@route("GET", "/api/v1/cards/status/<uuid:jti>", response=CardStatus, rate_limit="card_status",
       summary="Whether a card's QR payload is still valid (a renewal revokes the old one)",
       tags=("card",), problems=((404, "card_not_found"), (429, "too_many_requests")))
def card_status(call: Call) -> Any:
    return call.services.benefits.card_status(str(call.path_params["jti"]))


class LedgerQuery(Schema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    beneficiary = fields.String(load_default=None, validate=validate.Length(1, 64),
                                metadata={"description": "a beneficiary id, or `member`"})
    type = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z_]{2,40}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class Refund(Schema):
    id = fields.String()
    care_date = fields.String(metadata={"format": "date"})
    beneficiary_id = fields.String(allow_none=True)
    practitioner = fields.String()
    act = fields.String()
    amount_charged = fields.String(metadata={"description": "decimal"})
    refund_base = fields.String()
    amount_refunded = fields.String()
    refund_date = fields.String(metadata={"format": "date"})
    paid_to = fields.String(metadata={"enum": list(PAID_TO)})
    currency = fields.String()


class Payment(Schema):
    id = fields.String()
    payment_type = fields.String()
    label = fields.String(allow_none=True)
    period_start = fields.String(metadata={"format": "date"})
    period_end = fields.String(metadata={"format": "date"})
    amount = fields.String(metadata={"description": "decimal"})
    payment_date = fields.String(metadata={"format": "date"})
    currency = fields.String()


class RefundPage(Schema):
    items = fields.List(fields.Nested(Refund))
    next_cursor = fields.String(allow_none=True)
    count = fields.Integer()
    totals = fields.Dict(keys=fields.String(), values=fields.String())
    currency = fields.String()
    window_start = fields.String(metadata={"format": "date"})
    clamped_from = fields.String(metadata={"format": "date", "description":
                                           "present when `from` reached past the window"})


class PaymentPage(RefundPage):
    items = fields.List(fields.Nested(Payment))


REFUND_COLUMNS = ("id", "care_date", "beneficiary_id", "practitioner", "act",
                  "amount_charged", "refund_base", "amount_refunded", "refund_date",
                  "paid_to", "currency")
PAYMENT_COLUMNS = ("id", "payment_type", "label", "period_start", "period_end", "amount",
                   "payment_date", "currency")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (OWASP's CSV
    injection advice: a leading quote before =, +, -, @, tab or carriage return)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _ledger(call: Call, method: str, columns: tuple[str, ...], filename: str) -> Any:
    query = {k: v for k, v in call.request.args.items() if k != "format"}
    fetch = getattr(call.services.benefits, method)
    if call.query["format"] != "csv":
        return fetch(call.member_id, query)
    first = fetch(call.member_id, {**query, "limit": 200, "cursor": None})

    def rows() -> Any:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        page = first
        while True:
            for item in page["items"]:
                writer.writerow([spreadsheet_safe(item.get(c)) for c in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if not page["next_cursor"]:
                return
            page = fetch(call.member_id, {**query, "limit": 200,
                                          "cursor": page["next_cursor"]})

    response = Response(rows(), status=200, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(filename)
    if "clamped_from" in first:
        response.headers["X-Clamped-From"] = first["clamped_from"]
    return response


@route("GET", "/api/v1/me/refunds", access=MEMBER, query=LedgerQuery, response=RefundPage,
       light_dump=True, other_content=("text/csv",),
       summary="Health-care refunds of the last 18 months (?format=csv for the whole "
               "selection)", tags=("payments",), problems=((422, "validation_failed"),))
def refunds(call: Call) -> Any:
    return _ledger(call, "list_refunds", REFUND_COLUMNS, "refunds.csv")


@route("GET", "/api/v1/me/payments", access=MEMBER, query=LedgerQuery, response=PaymentPage,
       light_dump=True, other_content=("text/csv",),
       summary="Benefit payments of the last 18 months (?format=csv for the whole "
               "selection)", tags=("payments",), problems=((422, "validation_failed"),))
def payments(call: Call) -> Any:
    return _ledger(call, "list_payments", PAYMENT_COLUMNS, "payments.csv")
