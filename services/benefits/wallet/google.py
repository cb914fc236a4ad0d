"""Google Wallet: the card as a "Save to Google Wallet" link.

An RS256 JWT signed with the service account's key, holding one GenericObject; its class
(`<issuer id>.<class suffix>`) must already exist on the issuer account. Made offline;
the development key (`development`) makes links no Google account accepts.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.benefits.wallet.card import (
    BACKGROUND,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    CardForPass,
    beneficiaries_text,
    end_of_day,
    rights_text,
    same_text,
    start_of_day,
    supported_language,
    text,
    validity_text,
)
from services.benefits.wallet.certificates import key_to_pem, private_key_from_pem

GOOGLE_SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
_GOOGLE_ID_PART = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class GoogleWalletConfig:
    issuer_id: str
    service_account_email: str
    private_key_pem: bytes  # RSA key of the service account
    class_suffix: str = "registration_card"
    origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.issuer_id.isdigit():
            raise ValueError("issuer_id is the numeric Google Wallet issuer id")
        if not _GOOGLE_ID_PART.fullmatch(self.class_suffix):
            raise ValueError("class_suffix may only hold letters, digits, '.', '_' and '-'")


def google_object_id(config: GoogleWalletConfig, serial: str) -> str:
    """`<issuer id>.<serial>`, characters other than [A-Za-z0-9._-] replaced by "_"."""
    if not serial:
        raise ValueError("the card has no serial")
    return f"{config.issuer_id}.{re.sub(r'[^A-Za-z0-9._-]', '_', serial)}"


def google_class_id(config: GoogleWalletConfig) -> str:
    return f"{config.issuer_id}.{config.class_suffix}"


def _localized(texts: dict[str, str], language: str) -> dict[str, object]:
    others = [{"language": lang, "value": texts[lang]} for lang in LANGUAGES
              if lang != language and texts[lang] != texts[language]]
    value: dict[str, object] = {"defaultValue": {"language": language, "value": texts[language]}}
    if others:
        value["translatedValues"] = others
    return value


def google_generic_object(card: CardForPass, config: GoogleWalletConfig,
                          language: str = DEFAULT_LANGUAGE) -> dict[str, object]:
    """The card as a Google Wallet GenericObject."""
    language = supported_language(language)

    def module(key: str, header: dict[str, str], body: dict[str, str]) -> dict[str, object]:
        return {"id": key, "header": header[language], "body": body[language],
                "localizedHeader": _localized(header, language),
                "localizedBody": _localized(body, language)}

    return {
        "id": google_object_id(config, card.serial),
        "classId": google_class_id(config),
        "state": "ACTIVE",
        "cardTitle": _localized(text("description"), language),
        "header": _localized(same_text(card.member_name), language),
        "subheader": _localized(same_text(card.fund), language),
        "barcode": {"type": "QR_CODE", "value": card.qr_payload,
                    "alternateText": card.registration_number},
        "hexBackgroundColor": "#{:02x}{:02x}{:02x}".format(*BACKGROUND),
        "textModulesData": [
            module("registration_number", text("registration_number"),
                   same_text(card.registration_number)),
            module("validity", text("validity"), validity_text(card)),
            module("rights", text("rights"), rights_text(card)),
            module("beneficiaries", text("beneficiaries"), beneficiaries_text(card)),
        ],
        "validTimeInterval": {
            "start": {"date": start_of_day(card.valid_from).isoformat()},
            "end": {"date": end_of_day(card.valid_until).isoformat()},
        },
    }


def google_save_url(card: CardForPass, config: GoogleWalletConfig,
                    now: datetime.datetime | None = None, *, language: str = DEFAULT_LANGUAGE,
                    ) -> str:
    """The "Save to Google Wallet" link: the object travels inside the signed JWT."""
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    key = private_key_from_pem(config.private_key_pem)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the service account key must be an RSA private key")
    claims = {
        "iss": config.service_account_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(now.timestamp()),
        "origins": list(config.origins),
        "payload": {"genericObjects": [google_generic_object(card, config, language)]},
    }
    return GOOGLE_SAVE_URL_PREFIX + jwt.encode(claims, key, algorithm="RS256")


def load_google_config(issuer_id: str, key_path: str | Path, *,
                       service_account_email: str | None = None,
                       class_suffix: str = "registration_card",
                       origins: Sequence[str] = ()) -> GoogleWalletConfig:
    """Production settings: the service account's JSON key file as Google issues it
    (e-mail from its client_email), or a PEM key with service_account_email."""
    data = Path(key_path).read_bytes()
    if data.lstrip().startswith(b"{"):
        info = json.loads(data)
        pem = str(info["private_key"]).encode()
        service_account_email = service_account_email or str(info["client_email"])
    else:
        pem = data
    if not service_account_email:
        raise ValueError("service_account_email is needed with a PEM key")
    key = serialization.load_pem_private_key(pem, None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the service account key must be an RSA private key")
    return GoogleWalletConfig(issuer_id=issuer_id, service_account_email=service_account_email,
                              private_key_pem=key_to_pem(key), class_suffix=class_suffix,
                              origins=tuple(origins))

