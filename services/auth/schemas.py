"""auth's RPC contract: what the fund sends to create and update members."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.contracts.members import FUNDS, LANGUAGES, SELF_EMPLOYED_FUNDS

EMAIL_MAX = 254


class SubscriptionSchema(Schema):
    class Meta:
        unknown = RAISE

    fund = fields.String(required=True, validate=validate.OneOf(FUNDS))
    registration_number = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9]{4,6}$", error="4 to 6 digits.")
    )

    @validates_schema
    def _self_employed_numbers(self, data: dict, **_: object) -> None:
        number = data.get("registration_number", "")
        if data.get("fund") in SELF_EMPLOYED_FUNDS and not (
            len(number) == 6 and number.startswith("7")
        ):
            raise ValidationError(
                "Self-employed numbers have 6 digits and start with 7.", "registration_number"
            )


class MemberSchema(Schema):
    """A member's identity as the fund's systems send it."""

    class Meta:
        unknown = RAISE

    first_name = fields.String(required=True, validate=validate.Length(1, 100))
    last_name = fields.String(required=True, validate=validate.Length(1, 100))
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(["F", "M"]))
    email = fields.Email(load_default=None, allow_none=True,
                         validate=validate.Length(max=EMAIL_MAX))
    email_validated = fields.Boolean(load_default=False)
    language = fields.String(load_default="fr", validate=validate.OneOf(LANGUAGES))
    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True,
                                validate=validate.Length(min=1, max=10))

    @validates_schema
    def _consistent(self, data: dict, partial: bool = False, **_: object) -> None:
        numbers = [s["registration_number"] for s in data.get("subscriptions", [])]
        if len(numbers) != len(set(numbers)):
            raise ValidationError("A registration number appears twice.", "subscriptions")
        # a partial update is checked once merged with what is stored
        if not partial and data.get("email_validated") and not data.get("email"):
            raise ValidationError("A validated e-mail needs an address.", "email_validated")


class CredentialsSchema(Schema):
    class Meta:
        unknown = RAISE

    password = fields.String(required=True)
    must_change_password = fields.Boolean(load_default=True)
