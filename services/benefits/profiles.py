"""The member's profile: the identity auth owns (from benefits' copy) with what
benefits owns (address, phone, mail channel, bank account, insurer forwarding)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session as DbSession

from services.benefits.ledger import remember_numbers
from services.benefits.models import Member, Profile
from services.benefits.secrets_box import SecretBox, mask_iban
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed, marshmallow_errors

PHONE = r"^\+?[0-9 .\-()]{6,20}$"


class AddressSchema(Schema):
    class Meta:
        unknown = RAISE

    line1 = fields.String(required=True, validate=validate.Length(1, 200))
    line2 = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    postal_code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9 \-]{3,10}$"))
    city = fields.String(required=True, validate=validate.Length(1, 100))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$",
                                                                    error="ISO 3166 code."))


class ProfileChangeSchema(Schema):
    """What a member may change themselves (`language` goes to auth)."""

    class Meta:
        unknown = RAISE

    address = fields.Nested(AddressSchema)
    phone = fields.String(allow_none=True, validate=validate.Regexp(PHONE,
                                                                    error="A phone number."))
    mail_channel = fields.String(validate=validate.OneOf(["email", "post"]))
    forward_to_insurer = fields.Boolean()
    insurer_name = fields.String(allow_none=True, validate=validate.Length(max=200))


def upsert_member(session: DbSession, identity: dict[str, Any]) -> None:
    member = session.get(Member, identity["member_id"])
    if member is None:
        member = Member(member_id=identity["member_id"])
        session.add(member)
    member.first_name, member.last_name = identity["first_name"], identity["last_name"]
    member.birth_date = dt.date.fromisoformat(identity["birth_date"])
    member.sex, member.email = identity["sex"], identity.get("email")
    member.email_validated = bool(identity.get("email_validated"))
    member.language = identity.get("language") or "fr"
    member.subscriptions = identity.get("subscriptions") or []
    member.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    remember_numbers(session, member.member_id, member.subscriptions)


def erase_member(session: DbSession, member_id: str) -> None:
    from services.benefits.models import (
        Beneficiary,
        Card,
        CareSheet,
        FseCode,
        MemberNumber,
        Payment,
        Refund,
    )

    for model in (Beneficiary, Card, CareSheet, FseCode, Profile, Refund, Payment,
                  MemberNumber):
        session.query(model).filter(model.member_id == member_id).delete()
    session.query(Member).filter(Member.member_id == member_id).delete()


def profile_view(session: DbSession, box: SecretBox, member_id: str) -> dict[str, Any]:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    profile = session.get(Profile, member_id) or Profile(member_id=member_id,
                                                         mail_channel="email",
                                                         forward_to_insurer=False)
    address = None
    if profile.address_line1:
        address = {"line1": profile.address_line1, "line2": profile.address_line2,
                   "postal_code": profile.postal_code, "city": profile.city,
                   "country": profile.country}
    bank = box.open(profile.bank_account_encrypted) if profile.bank_account_encrypted else None
    return {
        "member_id": member.member_id, "first_name": member.first_name,
        "last_name": member.last_name, "birth_date": member.birth_date.isoformat(),
        "email": member.email, "email_validated": member.email_validated,
        "language": member.language, "subscriptions": member.subscriptions,
        "address": address, "phone": profile.phone, "mail_channel": profile.mail_channel,
        "bank_account": mask_iban(bank) if bank else None,
        "forward_to_insurer": profile.forward_to_insurer,
        "insurer_name": profile.insurer_name,
    }


def validate_changes(changes: Any, stored: Profile | None = None) -> dict[str, Any]:
    """Every rule, including those that need what is stored, so that a caller can
    check a whole change before applying any part of it."""
    if not isinstance(changes, dict):
        raise ValidationFailed.of([FieldError("body", "invalid", "Expected an object.")])
    try:
        data = ProfileChangeSchema().load(changes)
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages)) from None
    forwarding = data.get("forward_to_insurer", stored.forward_to_insurer if stored else False)
    insurer = data.get("insurer_name", stored.insurer_name if stored else None)
    if forwarding and not insurer:
        raise ValidationFailed.of([FieldError("insurer_name", "required",
                                              "Name the complementary insurer.")])
    return data


def update_profile(tx: UnitOfWork, box: SecretBox, member_id: str,
                   changes: Any) -> dict[str, Any]:
    if tx.session.get(Member, member_id) is None:
        raise NotFound("No such member.", code="member_not_found")
    profile = tx.session.get(Profile, member_id)
    data = validate_changes(changes, profile)
    if profile is None:
        profile = Profile(member_id=member_id, mail_channel="email", forward_to_insurer=False)
        tx.session.add(profile)
    if "address" in data:
        a = data.pop("address")
        profile.address_line1, profile.address_line2 = a["line1"], a.get("line2")
        profile.postal_code, profile.city, profile.country = (a["postal_code"], a["city"],
                                                              a["country"])
    for name, value in data.items():
        setattr(profile, name, value)
    profile.updated_at = dt.datetime.now(dt.UTC)
    tx.audit("profile.changed", member_id=member_id,
             details={"fields": sorted(changes)})
    tx.session.flush()
    return profile_view(tx.session, box, member_id)


def set_bank_account(tx: UnitOfWork, box: SecretBox, member_id: str, iban: Any) -> None:
    compact = iban.replace(" ", "").upper() if isinstance(iban, str) else ""
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:].isalnum()):
        raise ValidationFailed.of([FieldError("iban", "invalid", "An IBAN.")])
    profile = tx.session.get(Profile, member_id)
    if profile is None:
        profile = Profile(member_id=member_id, mail_channel="email", forward_to_insurer=False)
        tx.session.add(profile)
    profile.bank_account_encrypted = box.seal(compact)
    tx.audit("bank_account.set", member_id=member_id)
