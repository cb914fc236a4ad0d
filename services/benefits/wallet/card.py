"""What a wallet pass of the registration card shows, in both wallets' languages.

The pass carries the card's QR payload (the compact JWS the practitioner scans) as its
barcode, so the wallet card is as good as the card on screen. Apple (`apple`) and Google
(`google`) lay out the same texts, made here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

MONACO = ZoneInfo("Europe/Monaco")
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
ORGANIZATION_NAME = "Caisses Sociales de Monaco"
CONTACT_EMAIL = "tsa@caisses-sociales.mc"  # the address the notifications e-mails give
BACKGROUND = (185, 28, 28)  # the letterhead red of the e-mails
FOREGROUND = (255, 255, 255)
LABEL = (254, 226, 226)


@dataclass(frozen=True)
class CardForPass:
    serial: str  # pass_serial(): a renewed card keeps it, its pass replaces the old one
    member_name: str
    registration_number: str
    fund: str  # "CCSS", "CAMTI"...
    valid_from: datetime.date
    valid_until: datetime.date
    rights_status: str  # "open" | "closed" | "suspended"
    beneficiaries: tuple[str, ...]  # names covered through the member
    qr_payload: str  # compact JWS the practitioner scans


# -- texts ------------------------------------------------------------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "description": {"fr": "Carte d'immatriculation", "en": "Registration card"},
    "fund": {"fr": "Caisse", "en": "Fund"},
    "member": {"fr": "Assuré", "en": "Member"},
    "registration_number": {"fr": "N° d'immatriculation", "en": "Registration number"},
    "validity": {"fr": "Validité", "en": "Valid"},
    "rights": {"fr": "Droits", "en": "Rights"},
    "rights.open": {"fr": "Ouverts", "en": "Open"},
    "rights.closed": {"fr": "Fermés", "en": "Closed"},
    "rights.suspended": {"fr": "Suspendus", "en": "Suspended"},
    "beneficiaries": {"fr": "Ayants droit", "en": "Beneficiaries"},
    "beneficiaries.none": {"fr": "Aucun", "en": "None"},
    "how_to_use": {"fr": "Utilisation", "en": "How to use"},
    "how_to_use.text": {
        "fr": "Présentez ce QR code au professionnel de santé : il le scanne pour vérifier "
              "votre carte et vos droits.",
        "en": "Show this QR code to the healthcare practitioner, who scans it to check "
              "your card and your rights.",
    },
    "contact": {"fr": "Contact", "en": "Contact"},
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def supported_language(language: str) -> str:
    """The primary subtag if supported ("en-GB" -> "en"), else French."""
    primary = language.replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str) -> dict[str, str]:
    return _TEXTS[key]


def same_text(value: str) -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, value)


def _date(day: datetime.date, language: str) -> str:
    if language == "en":
        return f"{day.day:02d} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d/%m/%Y")


def validity_text(card: CardForPass) -> dict[str, str]:
    return {lang: f"{_date(card.valid_from, lang)} – {_date(card.valid_until, lang)}"
            for lang in LANGUAGES}


def rights_text(card: CardForPass) -> dict[str, str]:
    """Known statuses are translated; an unknown one is shown as it is."""
    return _TEXTS.get(f"rights.{card.rights_status}", same_text(card.rights_status))


def beneficiaries_text(card: CardForPass) -> dict[str, str]:
    if not card.beneficiaries:
        return text("beneficiaries.none")
    return same_text("\n".join(card.beneficiaries))


def start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0, 0, 0), MONACO)


def end_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), MONACO)


def pass_serial(fund: str, registration_number: str) -> str:
    """One serial per registration number (`<fund>-<registration number>`), so that a
    renewed card replaces the pass already on the device."""
    return f"{fund}-{registration_number}"


def card_for_pass(view: dict[str, Any]) -> CardForPass:
    """The card as `cards.card_view` answers it, ready to become a pass."""
    return CardForPass(
        serial=pass_serial(view["fund"], view["registration_number"]),
        member_name=f"{view['first_name']} {view['last_name'].upper()}",
        registration_number=view["registration_number"], fund=view["fund"],
        valid_from=datetime.date.fromisoformat(view["valid_from"]),
        valid_until=datetime.date.fromisoformat(view["valid_until"]),
        rights_status=view["rights_status"],
        beneficiaries=tuple(f"{b['first_name']} {b['last_name']}"
                            for b in view["beneficiaries"]),
        qr_payload=view["qr_payload"])
