"""Wallet passes of the registration card: Apple Wallet (.pkpass) and Google Wallet
("Save to Google Wallet" link).

Both are made offline. The pass carries the card's QR payload (the compact JWS the
practitioner scans) as its barcode, so the wallet card is as good as the card on screen.

Apple: a ZIP of pass.json, images, fr/en pass.strings, manifest.json (SHA-1 of every
other file) and a detached PKCS#7 signature of the manifest made with the pass type
certificate and carrying Apple's WWDR intermediate certificate.
Google: an RS256 JWT signed with the service account's key, holding one GenericObject;
its class (`<issuer id>.<class suffix>`) must already exist on the issuer account.

The development configurations sign with self-made certificates and keys: the passes are
structurally valid and verifiable offline, but no device or Google account accepts them.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import functools
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PKPASS_MEDIA_TYPE = "application/vnd.apple.pkpass"
GOOGLE_SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
MONACO = ZoneInfo("Europe/Monaco")
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
ORGANIZATION_NAME = "Caisses Sociales de Monaco"
CONTACT_EMAIL = "tsa@caisses-sociales.mc"  # the address the notifications e-mails give
BACKGROUND = (185, 28, 28)  # the letterhead red of the e-mails
FOREGROUND = (255, 255, 255)
LABEL = (254, 226, 226)

DEV_APPLE_TYPE_IDENTIFIER = "pass.mc.caisses-sociales.registration-card"
DEV_TEAM_IDENTIFIER = "DEV0000000"
DEV_GOOGLE_ISSUER_ID = "3388000000000000000"
DEV_GOOGLE_SERVICE_ACCOUNT = "wallet-dev@memberspace.iam.gserviceaccount.com"
DEV_WWDR_CERTIFICATE = "wallet-dev-wwdr-ca.pem"
DEV_APPLE_CERTIFICATE = "wallet-dev-pass-certificate.pem"
DEV_APPLE_KEY = "wallet-dev-pass-key.pem"
DEV_GOOGLE_KEY = "wallet-dev-google-key.pem"


@dataclass(frozen=True)
class CardForPass:
    serial: str  # the card's id: the same serial replaces the pass on the device
    member_name: str
    registration_number: str
    fund: str  # "CCSS", "CAMTI"...
    valid_from: datetime.date
    valid_until: datetime.date
    rights_status: str  # "open" | "closed" | "suspended"
    beneficiaries: tuple[str, ...]  # names covered through the member
    qr_payload: str  # compact JWS the practitioner scans


@dataclass(frozen=True)
class AppleWalletConfig:
    """The pass type certificate and key, and Apple's WWDR intermediate (PEM).

    `authentication_token` is a secret (16+ characters): each pass gets its own token
    derived from it and the serial (:func:`pass_authentication_token`), so one member's
    pass never authenticates requests about another's.
    """

    pass_type_identifier: str
    team_identifier: str
    organization_name: str
    certificate_pem: bytes
    private_key_pem: bytes
    wwdr_certificate_pem: bytes
    web_service_url: str | None = None
    authentication_token: str | None = None

    def __post_init__(self) -> None:
        if (self.web_service_url is None) != (self.authentication_token is None):
            raise ValueError("web_service_url and authentication_token go together")
        if self.authentication_token is not None and len(self.authentication_token) < 16:
            raise ValueError("authentication_token must be at least 16 characters")


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


def _language(language: str) -> str:
    """The primary subtag if supported ("en-GB" -> "en"), else French."""
    primary = language.replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def _text(key: str) -> dict[str, str]:
    return _TEXTS[key]


def _same(value: str) -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, value)


def _date(day: datetime.date, language: str) -> str:
    if language == "en":
        return f"{day.day:02d} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d/%m/%Y")


def _validity(card: CardForPass) -> dict[str, str]:
    return {lang: f"{_date(card.valid_from, lang)} – {_date(card.valid_until, lang)}"
            for lang in LANGUAGES}


def _rights(card: CardForPass) -> dict[str, str]:
    """Known statuses are translated; an unknown one is shown as it is."""
    return _TEXTS.get(f"rights.{card.rights_status}", _same(card.rights_status))


def _beneficiaries(card: CardForPass) -> dict[str, str]:
    if not card.beneficiaries:
        return _text("beneficiaries.none")
    return _same("\n".join(card.beneficiaries))


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0, 0, 0), MONACO)


def _end_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), MONACO)


# -- Apple Wallet -----------------------------------------------------------------------

class _Localizer:
    """pass.json holds the texts of one language; each pass.strings maps those texts
    (its keys) to the texts of its language, so the device shows the member's language
    and any other device shows the pass's own."""

    def __init__(self, language: str):
        self.language = language
        self.strings: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}

    def __call__(self, texts: dict[str, str]) -> str:
        key = texts[self.language]
        for lang in LANGUAGES:
            self.strings[lang].setdefault(key, texts[lang])
        return key

    def pass_strings(self, language: str) -> bytes:
        lines = [f'"{_escape(key)}" = "{_escape(value)}";\n'
                 for key, value in sorted(self.strings[language].items())]
        return "".join(lines).encode("utf-8")


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def pass_authentication_token(config: AppleWalletConfig, serial: str) -> str:
    """The pass's own web service token: HMAC-SHA256 of the serial under the configured
    secret. The web service recomputes it to check `Authorization: ApplePass <token>`."""
    if config.authentication_token is None:
        raise ValueError("no authentication_token configured")
    return hmac.new(config.authentication_token.encode(), serial.encode(),
                    hashlib.sha256).hexdigest()


def _rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*colour)


def pass_json(card: CardForPass, config: AppleWalletConfig, language: str = DEFAULT_LANGUAGE,
              ) -> tuple[dict[str, object], dict[str, bytes]]:
    """pass.json's content and the pass.strings files (by path) that translate it."""
    if not card.serial:
        raise ValueError("the card has no serial")
    try:
        card.qr_payload.encode("iso-8859-1")
    except UnicodeEncodeError:
        raise ValueError("the QR payload must be ISO-8859-1 text") from None
    t = _Localizer(_language(language))

    def field(key: str, label: dict[str, str], value: dict[str, str]) -> dict[str, str]:
        return {"key": key, "label": t(label), "value": t(value)}

    data: dict[str, object] = {
        "formatVersion": 1,
        "passTypeIdentifier": config.pass_type_identifier,
        "teamIdentifier": config.team_identifier,
        "serialNumber": card.serial,
        "organizationName": config.organization_name,
        "description": t(_text("description")),
        "backgroundColor": _rgb(BACKGROUND),
        "foregroundColor": _rgb(FOREGROUND),
        "labelColor": _rgb(LABEL),
        "expirationDate": _end_of(card.valid_until).isoformat(),
        "sharingProhibited": True,
        "generic": {
            "headerFields": [field("fund", _text("fund"), _same(card.fund))],
            "primaryFields": [field("member", _text("member"), _same(card.member_name))],
            "secondaryFields": [
                field("registration_number", _text("registration_number"),
                      _same(card.registration_number)),
                field("validity", _text("validity"), _validity(card)),
            ],
            "auxiliaryFields": [field("rights", _text("rights"), _rights(card))],
            "backFields": [
                field("beneficiaries", _text("beneficiaries"), _beneficiaries(card)),
                field("how_to_use", _text("how_to_use"), _text("how_to_use.text")),
                field("contact", _text("contact"),
                      _same(f"{config.organization_name}\n{CONTACT_EMAIL}")),
            ],
        },
        "barcodes": [{
            "format": "PKBarcodeFormatQR",
            "message": card.qr_payload,
            "messageEncoding": "iso-8859-1",
            "altText": card.registration_number,
        }],
    }
    if config.web_service_url is not None:
        data["webServiceURL"] = config.web_service_url
        data["authenticationToken"] = pass_authentication_token(config, card.serial)
    strings = {f"{lang}.lproj/pass.strings": t.pass_strings(lang) for lang in LANGUAGES}
    return data, strings


def build_pkpass(card: CardForPass, config: AppleWalletConfig, language: str = "fr") -> bytes:
    """The signed .pkpass (serve it as PKPASS_MEDIA_TYPE). `language` is the language of
    pass.json; fr.lproj and en.lproj translate it on the device."""
    data, strings = pass_json(card, config, language)
    files: dict[str, bytes] = {
        "pass.json": json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
        **_images(card.fund),
        **strings,
    }
    manifest = json.dumps({path: hashlib.sha1(content).hexdigest()  # noqa: S324 (format)
                           for path, content in files.items()},
                          indent=2, sort_keys=True).encode("utf-8")
    files["manifest.json"] = manifest
    files["signature"] = sign_manifest(manifest, config)
    return _zip(files)


def sign_manifest(manifest: bytes, config: AppleWalletConfig) -> bytes:
    """DER PKCS#7 detached signature (SHA-256, with signingTime) carrying the WWDR cert."""
    certificate = _pem_certificate(config.certificate_pem)
    wwdr = _pem_certificate(config.wwdr_certificate_pem)
    key = _signing_key(_pem_private_key(config.private_key_pem))
    return (pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(certificate, key, hashes.SHA256())
            .add_certificate(wwdr)
            .sign(serialization.Encoding.DER,
                  [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


@functools.lru_cache(maxsize=8)
def _pem_private_key(pem: bytes) -> object:
    """Parsed once per key: loading (and checking) an RSA key costs ~40 ms of CPU, more
    than building the whole pass."""
    return serialization.load_pem_private_key(pem, None)


@functools.lru_cache(maxsize=8)
def _pem_certificate(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _signing_key(key: object) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the pass type key must be an RSA or EC private key")
    return key


def _zip(files: dict[str, bytes]) -> bytes:
    """Fixed timestamps and order: the archive depends only on its contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


# -- images: PNG written by hand, the fund's code in a 5x7 bitmap font -------------------

_GLYPHS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
}
_GLYPH_W, _GLYPH_H = 5, 7


def _code(fund: str) -> str:
    """The fund's code in the font's characters ("Camti" -> "CAMTI")."""
    ascii_text = unicodedata.normalize("NFKD", fund).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.upper() if c in _GLYPHS)


def _text_width(text: str) -> int:
    return len(text) * (_GLYPH_W + 1) - 1 if text else 0


def _fit(text: str, width: int, height: int, max_scale: int) -> tuple[str, int]:
    """The longest prefix of text and the largest scale that fit in width x height."""
    while text and _text_width(text) > width:
        text = text[:-1]
    if not text:
        return "", 0
    scale = min(max_scale, width // _text_width(text), height // _GLYPH_H)
    return text, max(scale, 1)


def _png(width: int, height: int, pixels: bytearray) -> bytes:
    """An 8-bit RGBA PNG from width*height*4 bytes."""
    stride = width * 4
    raw = b"".join(b"\x00" + bytes(pixels[y * stride:(y + 1) * stride]) for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def _label_image(text: str, width: int, height: int, density: int, scale: int,
                 background: tuple[int, int, int] | None, centre: bool) -> bytes:
    """text drawn at scale (in points) on a width x height point image, density px/pt."""
    w, h = width * density, height * density
    fill = bytes((*background, 255)) if background else bytes(4)
    pixels = bytearray(fill * (w * h))
    px = scale * density
    text_w, text_h = _text_width(text) * px, _GLYPH_H * px
    x0 = (w - text_w) // 2 if centre else 0
    y0 = (h - text_h) // 2
    ink = bytes((*FOREGROUND, 255))
    for index, char in enumerate(text):
        rows = _GLYPHS[char].split()
        for gy, row in enumerate(rows):
            for gx, bit in enumerate(row):
                if bit != "1":
                    continue
                left = x0 + (index * (_GLYPH_W + 1) + gx) * px
                for y in range(y0 + gy * px, y0 + (gy + 1) * px):
                    start = (y * w + left) * 4
                    pixels[start:start + px * 4] = ink * px
    return _png(w, h, pixels)


@functools.lru_cache(maxsize=16)
def _images(fund: str) -> dict[str, bytes]:
    """icon (29 pt square, the fund's code on the card's red) and logo (the code in white
    on transparent, 50 pt high), at 1x and 2x."""
    code = _code(fund)
    icon_text, icon_scale = _fit(code, 29 - 4, 29 - 4, 2)
    logo_text, logo_scale = _fit(code, 160, 30, 4)
    logo_width = max(_text_width(logo_text) * logo_scale, 1)
    images = {}
    for density, suffix in ((1, ""), (2, "@2x")):
        images[f"icon{suffix}.png"] = _label_image(icon_text, 29, 29, density, icon_scale,
                                                   BACKGROUND, centre=True)
        images[f"logo{suffix}.png"] = _label_image(logo_text, logo_width, 50, density,
                                                   logo_scale, None, centre=False)
    return images


# -- Google Wallet ----------------------------------------------------------------------

_GOOGLE_ID_PART = re.compile(r"[A-Za-z0-9._-]+")


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
    language = _language(language)

    def module(key: str, header: dict[str, str], body: dict[str, str]) -> dict[str, object]:
        return {"id": key, "header": header[language], "body": body[language],
                "localizedHeader": _localized(header, language),
                "localizedBody": _localized(body, language)}

    return {
        "id": google_object_id(config, card.serial),
        "classId": google_class_id(config),
        "state": "ACTIVE",
        "cardTitle": _localized(_text("description"), language),
        "header": _localized(_same(card.member_name), language),
        "subheader": _localized(_same(card.fund), language),
        "barcode": {"type": "QR_CODE", "value": card.qr_payload,
                    "alternateText": card.registration_number},
        "hexBackgroundColor": "#{:02x}{:02x}{:02x}".format(*BACKGROUND),
        "textModulesData": [
            module("registration_number", _text("registration_number"),
                   _same(card.registration_number)),
            module("validity", _text("validity"), _validity(card)),
            module("rights", _text("rights"), _rights(card)),
            module("beneficiaries", _text("beneficiaries"), _beneficiaries(card)),
        ],
        "validTimeInterval": {
            "start": {"date": _start_of(card.valid_from).isoformat()},
            "end": {"date": _end_of(card.valid_until).isoformat()},
        },
    }


def google_save_url(card: CardForPass, config: GoogleWalletConfig,
                    now: datetime.datetime | None = None, *, language: str = DEFAULT_LANGUAGE,
                    ) -> str:
    """The "Save to Google Wallet" link: the object travels inside the signed JWT."""
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    key = _pem_private_key(config.private_key_pem)
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


# -- configuration ----------------------------------------------------------------------

def _certificate(data: bytes) -> x509.Certificate:
    """PEM or DER (Apple hands out .cer files in DER)."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _name_value(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def load_apple_config(certificate_path: str | Path, private_key_path: str | Path,
                      wwdr_certificate_path: str | Path, *,
                      organization_name: str = ORGANIZATION_NAME,
                      pass_type_identifier: str | None = None,
                      team_identifier: str | None = None,
                      private_key_password: bytes | None = None,
                      web_service_url: str | None = None,
                      authentication_token: str | None = None) -> AppleWalletConfig:
    """Production settings: the pass type certificate (PEM or DER), its PEM key (maybe
    encrypted) and the WWDR intermediate that issued it (PEM or DER). The identifiers
    default to the certificate's UID (pass type) and OU (team); they are checked
    against it, as are the key and the issuer, so a mismatch fails at start-up."""
    certificate = _certificate(Path(certificate_path).read_bytes())
    wwdr = _certificate(Path(wwdr_certificate_path).read_bytes())
    key = _signing_key(serialization.load_pem_private_key(
        Path(private_key_path).read_bytes(), private_key_password))
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise ValueError("the private key does not belong to the pass type certificate")
    if certificate.issuer != wwdr.subject:
        raise ValueError("the pass type certificate was not issued by the WWDR certificate")
    identifiers = {}
    for label, given, oid in (("pass type identifier", pass_type_identifier, NameOID.USER_ID),
                              ("team identifier", team_identifier,
                               NameOID.ORGANIZATIONAL_UNIT_NAME)):
        found = _name_value(certificate.subject, oid)
        if given is not None and found is not None and given != found:
            raise ValueError(f"the {label} {given!r} is not the certificate's {found!r}")
        if (given or found) is None:
            raise ValueError(f"no {label}: the certificate does not name one")
        identifiers[label] = given or found
    return AppleWalletConfig(
        pass_type_identifier=str(identifiers["pass type identifier"]),
        team_identifier=str(identifiers["team identifier"]),
        organization_name=organization_name,
        certificate_pem=_pem(certificate),
        private_key_pem=_key_pem(key),
        wwdr_certificate_pem=_pem(wwdr),
        web_service_url=web_service_url,
        authentication_token=authentication_token,
    )


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
                              private_key_pem=_key_pem(key), class_suffix=class_suffix,
                              origins=tuple(origins))


# -- development configuration ----------------------------------------------------------

@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time makes the development files (workers start together)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / ".wallet-dev.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Written whole then renamed: a reader never sees half a file; keys are never
    readable by others, even for an instant."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _usable(path: Path) -> bool:
    if not path.exists():
        return False
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return certificate.not_valid_after_utc > datetime.datetime.now(datetime.UTC)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not signs_certificates, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=signs_certificates, crl_sign=signs_certificates,
                         encipher_only=False, decipher_only=False)


def _make_development_apple_files(directory: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MC"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Member Space (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Member Space Development WWDR CA"),
    ])
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(signs_certificates=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, DEV_APPLE_TYPE_IDENTIFIER),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {DEV_APPLE_TYPE_IDENTIFIER}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_TEAM_IDENTIFIER),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION_NAME),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MC"),
    ])
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(ca_name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=3649))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(_key_usage(signs_certificates=False), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    # The CA's key is not kept: new development files are made all together.
    _write(directory / DEV_APPLE_KEY, _key_pem(key), 0o600)
    _write(directory / DEV_WWDR_CERTIFICATE, _pem(ca), 0o644)
    _write(directory / DEV_APPLE_CERTIFICATE, _pem(certificate), 0o644)


def development_apple_config(directory: Path, *, web_service_url: str | None = None,
                             authentication_token: str | None = None) -> AppleWalletConfig:
    """A self-signed "WWDR" CA and a pass type certificate it issued, made once under
    directory (PEM; key 0600) and reused; made again only when missing or expired."""
    directory = Path(directory)
    with _locked(directory):
        files = (DEV_WWDR_CERTIFICATE, DEV_APPLE_CERTIFICATE)
        if not all(_usable(directory / f) for f in files) or \
                not (directory / DEV_APPLE_KEY).exists():
            _make_development_apple_files(directory)
    return load_apple_config(directory / DEV_APPLE_CERTIFICATE, directory / DEV_APPLE_KEY,
                             directory / DEV_WWDR_CERTIFICATE,
                             web_service_url=web_service_url,
                             authentication_token=authentication_token)


DEV_WEB_SERVICE_KEY = "web-service.key"


def development_pass_secret(directory: Path) -> str:
    """The secret the development passes' authentication tokens derive from: 32 random
    bytes (hex), made once under directory (0600) and reused, so that passes already
    on a device stay valid across restarts."""
    directory = Path(directory)
    path = directory / DEV_WEB_SERVICE_KEY
    with _locked(directory):
        if not path.exists():
            _write(path, secrets.token_hex(32).encode(), 0o600)
    return path.read_text().strip()


def development_google_config(directory: Path, *, origins: Sequence[str] = (),
                              ) -> GoogleWalletConfig:
    """An RSA 2048 service-account key made once under directory (0600) and reused."""
    directory = Path(directory)
    path = directory / DEV_GOOGLE_KEY
    with _locked(directory):
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write(path, _key_pem(key), 0o600)
    return load_google_config(DEV_GOOGLE_ISSUER_ID, path,
                              service_account_email=DEV_GOOGLE_SERVICE_ACCOUNT, origins=origins)
