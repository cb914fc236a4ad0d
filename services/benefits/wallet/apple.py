"""Apple Wallet: the card as a signed .pkpass.

A ZIP of pass.json, images, fr/en pass.strings, manifest.json (SHA-1 of every other
file) and a detached PKCS#7 signature of the manifest made with the pass type
certificate and carrying Apple's WWDR intermediate certificate. Made offline; the
development configuration (`development`) signs with self-made certificates: its passes
are structurally valid and verifiable offline, but no device accepts them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from services.benefits.wallet.card import (
    BACKGROUND,
    CONTACT_EMAIL,
    DEFAULT_LANGUAGE,
    FOREGROUND,
    LABEL,
    LANGUAGES,
    ORGANIZATION_NAME,
    CardForPass,
    beneficiaries_text,
    end_of_day,
    rights_text,
    same_text,
    supported_language,
    text,
    validity_text,
)
from services.benefits.wallet.certificates import (
    certificate_from_pem,
    certificate_to_pem,
    key_to_pem,
    private_key_from_pem,
    public_key_der,
    read_certificate,
)
from services.benefits.wallet.images import pass_images

PKPASS_MEDIA_TYPE = "application/vnd.apple.pkpass"

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
    t = _Localizer(supported_language(language))

    def field(key: str, label: dict[str, str], value: dict[str, str]) -> dict[str, str]:
        return {"key": key, "label": t(label), "value": t(value)}

    data: dict[str, object] = {
        "formatVersion": 1,
        "passTypeIdentifier": config.pass_type_identifier,
        "teamIdentifier": config.team_identifier,
        "serialNumber": card.serial,
        "organizationName": config.organization_name,
        "description": t(text("description")),
        "backgroundColor": _rgb(BACKGROUND),
        "foregroundColor": _rgb(FOREGROUND),
        "labelColor": _rgb(LABEL),
        "expirationDate": end_of_day(card.valid_until).isoformat(),
        "sharingProhibited": True,
        "generic": {
            "headerFields": [field("fund", text("fund"), same_text(card.fund))],
            "primaryFields": [field("member", text("member"), same_text(card.member_name))],
            "secondaryFields": [
                field("registration_number", text("registration_number"),
                      same_text(card.registration_number)),
                field("validity", text("validity"), validity_text(card)),
            ],
            "auxiliaryFields": [field("rights", text("rights"), rights_text(card))],
            "backFields": [
                field("beneficiaries", text("beneficiaries"), beneficiaries_text(card)),
                field("how_to_use", text("how_to_use"), text("how_to_use.text")),
                field("contact", text("contact"),
                      same_text(f"{config.organization_name}\n{CONTACT_EMAIL}")),
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


def build_pkpass(card: CardForPass, config: AppleWalletConfig,
                 language: str = DEFAULT_LANGUAGE) -> bytes:
    """The signed .pkpass (serve it as PKPASS_MEDIA_TYPE). `language` is the language of
    pass.json; fr.lproj and en.lproj translate it on the device."""
    data, strings = pass_json(card, config, language)
    files: dict[str, bytes] = {
        "pass.json": json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
        **pass_images(card.fund),
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
    certificate = certificate_from_pem(config.certificate_pem)
    wwdr = certificate_from_pem(config.wwdr_certificate_pem)
    key = _signing_key(private_key_from_pem(config.private_key_pem))
    return (pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(certificate, key, hashes.SHA256())
            .add_certificate(wwdr)
            .sign(serialization.Encoding.DER,
                  [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


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
    certificate = read_certificate(Path(certificate_path).read_bytes())
    wwdr = read_certificate(Path(wwdr_certificate_path).read_bytes())
    key = _signing_key(serialization.load_pem_private_key(
        Path(private_key_path).read_bytes(), private_key_password))
    if public_key_der(key.public_key()) != public_key_der(certificate.public_key()):
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
        certificate_pem=certificate_to_pem(certificate),
        private_key_pem=key_to_pem(key),
        wwdr_certificate_pem=certificate_to_pem(wwdr),
        web_service_url=web_service_url,
        authentication_token=authentication_token,
    )

