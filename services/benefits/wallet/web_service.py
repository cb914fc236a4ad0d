"""Apple Wallet's web service for the card's pass: devices register for updates, ask
which passes changed, and fetch the latest version.

Protocol (Apple, "Wallet Passes web service"): every call but the list of changed passes
carries `Authorization: ApplePass <authenticationToken>`, the token the pass itself
holds (here an HMAC of its serial, `apple.pass_authentication_token`). A pass's serial
is `<fund>-<registration number>` (`card.pass_serial`): one per card, a renewal keeps
it and changes what it shows. When a pass last changed is found by fingerprinting what
it shows (holder, card, validity, rights, beneficiaries) whenever a device asks: no
write path of the service has to remember to bump it.

Devices hear of changes by Apple push notifications (APNs); the suite keeps the push
tokens but sends no push yet (no APNs credentials are configured): a device gets the
new pass when its holder refreshes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.benefits import cards
from services.benefits.models import Beneficiary, Card, Member, PassRegistration, WalletPass
from services.benefits.wallet.apple import AppleWalletConfig, pass_authentication_token
from services.benefits.wallet.card import pass_serial
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, Unauthorized, ValidationFailed
from services.kit.keys import SigningKey

SERIAL = re.compile(r"^([A-Z]{2,10})-([0-9]{4,6})$")
DEVICE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
PUSH_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def check_pass_type(config: AppleWalletConfig, pass_type: str) -> None:
    """404 `pass_type_not_found` unless `pass_type` is the configured one."""
    if pass_type != config.pass_type_identifier:
        raise NotFound("Unknown pass type.", code="pass_type_not_found")


def check_pass(config: AppleWalletConfig, pass_type: str, serial: str, token: Any) -> None:
    """A device's call about one pass: the web service is on, the pass type ours, and the
    token the pass's own."""
    if config.authentication_token is None:
        raise NotFound("Unknown pass type.", code="pass_type_not_found")
    check_pass_type(config, pass_type)
    check_token(config, serial, token)


def check_token(config: AppleWalletConfig, serial: str, token: Any) -> None:
    """401 `pass_unauthorized` unless `token` is the pass's authentication token."""
    if not isinstance(serial, str) or not SERIAL.match(serial):
        raise NotFound("No card behind this pass.", code="card_not_found")
    expected = pass_authentication_token(config, serial).encode()
    if not isinstance(token, str) or not hmac.compare_digest(
            expected, token.encode("utf-8", "surrogateescape")):
        raise Unauthorized("Not this pass's authentication token.", code="pass_unauthorized")


def card_for_serial(session: DbSession, serial: Any) -> Card:
    """The card in force behind a pass's serial; 404 `card_not_found` otherwise (a card
    revoked without renewal, a member erased)."""
    match = SERIAL.match(serial) if isinstance(serial, str) else None
    card = match and session.scalar(sa.select(Card).where(
        Card.fund == match.group(1), Card.registration_number == match.group(2),
        Card.revoked_at.is_(None)))
    if not card:
        raise NotFound("No card behind this pass.", code="card_not_found")
    return card


def fingerprint(session: DbSession, card: Card) -> str:
    """What the pass shows (the QR payload aside, signed afresh each time)."""
    member = session.get(Member, card.member_id)
    beneficiaries = session.execute(sa.select(
        Beneficiary.first_name, Beneficiary.last_name).where(
        Beneficiary.member_id == card.member_id).order_by(Beneficiary.birth_date,
                                                          Beneficiary.id)).all()
    shown = [card.id, card.fund, card.registration_number, card.rights_status,
             card.valid_from.isoformat(), card.valid_until.isoformat(),
             member.first_name if member else "", member.last_name if member else "",
             [list(b) for b in beneficiaries]]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


def last_modified(session: DbSession, card: Card,
                  at: dt.datetime | None = None) -> dt.datetime:
    """When what the pass shows last changed (to the second), now if never seen."""
    serial = pass_serial(card.fund, card.registration_number)
    at = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    seen = fingerprint(session, card)
    return session.scalar(
        pg_insert(WalletPass).values(serial=serial, fingerprint=seen, updated_at=at)
        .on_conflict_do_update(
            index_elements=["serial"],
            set_={"fingerprint": seen,
                  "updated_at": sa.case((WalletPass.fingerprint == seen,
                                         WalletPass.updated_at), else_=at)})
        .returning(WalletPass.updated_at))


def _device(device: Any) -> str:
    if not isinstance(device, str) or not DEVICE.match(device):
        raise NotFound("Unknown device.", code="device_not_found")
    return device


def register(tx: UnitOfWork, device: Any, pass_type: str, serial: str, push_token: Any) -> bool:
    """True when the device registers for this pass now (audited), False when it
    already was. `tx` is the unit of work (`kit.db`)."""
    card = card_for_serial(tx.session, serial)
    created = _register(tx.session, device, pass_type, serial, push_token)
    if created:
        tx.audit("wallet.device_registered", member_id=card.member_id,
                 details={"serial": serial})
    return created


def _register(session: DbSession, device: Any, pass_type: str, serial: str,
              push_token: Any) -> bool:
    device = _device(device)
    if not isinstance(push_token, str) or not PUSH_TOKEN.match(push_token):
        raise ValidationFailed.of([FieldError("pushToken", "invalid",
                                              "The device's push token.")])
    created = session.scalar(
        pg_insert(PassRegistration).values(device_library_id=device, pass_type_id=pass_type,
                                           serial=serial, push_token=push_token)
        .on_conflict_do_update(
            index_elements=["device_library_id", "pass_type_id", "serial"],
            set_={"push_token": push_token})
        .returning(sa.literal_column("xmax = 0")))
    return bool(created)


def unregister(session: DbSession, device: Any, pass_type: str, serial: str) -> None:
    session.execute(sa.delete(PassRegistration).where(
        PassRegistration.device_library_id == _device(device),
        PassRegistration.pass_type_id == pass_type, PassRegistration.serial == serial))


def _tag(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def changed_serials(session: DbSession, device: Any, pass_type: str,
                    since: Any) -> dict[str, Any]:
    """The device's passes changed after the tag `since` (all of them without one), and
    the tag to send next time. Passes whose card is gone are left out."""
    try:
        after = (dt.datetime.fromtimestamp(int(since), dt.UTC) if since not in (None, "")
                 else None)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValidationFailed.of([FieldError("passesUpdatedSince", "invalid",
                                              "A tag this service gave.")]) from None
    serials = session.scalars(sa.select(PassRegistration.serial).where(
        PassRegistration.device_library_id == _device(device),
        PassRegistration.pass_type_id == pass_type).order_by(PassRegistration.serial)).all()
    changed, latest = [], None
    for serial in serials:
        try:
            card = card_for_serial(session, serial)
        except NotFound:
            continue
        modified = last_modified(session, card)
        latest = max(latest or modified, modified)
        if after is None or modified > after:
            changed.append(serial)
    return {"serial_numbers": changed, "last_updated": _tag(latest) if latest else None}


def latest_card(tx: UnitOfWork, card_key: SigningKey,
                serial: str) -> tuple[dict[str, Any], dt.datetime]:
    """The card behind the pass as it is now (`cards.card_view`) and when what the pass
    shows last changed; audited as a refresh. 404 `card_not_found` when the member's pass
    is now another card's."""
    card = card_for_serial(tx.session, serial)
    modified = last_modified(tx.session, card)
    view = cards.card_view(tx.session, card_key, card.member_id)
    if pass_serial(view["fund"], view["registration_number"]) != serial:
        raise NotFound("No card behind this pass.", code="card_not_found")
    tx.audit("wallet.pass_refreshed", member_id=card.member_id, details={"serial": serial})
    return view, modified
