"""Tests for services.benefits.wallet (Apple .pkpass, Google Wallet save link)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from services.benefits.wallet.apple import (
    PKPASS_MEDIA_TYPE,
    AppleWalletConfig,
    build_pkpass,
    load_apple_config,
    pass_authentication_token,
)
from services.benefits.wallet.card import CardForPass
from services.benefits.wallet.development import (
    DEV_APPLE_CERTIFICATE,
    DEV_APPLE_KEY,
    DEV_GOOGLE_KEY,
    DEV_WWDR_CERTIFICATE,
    development_apple_config,
    development_google_config,
)
from services.benefits.wallet.google import (
    GoogleWalletConfig,
    google_save_url,
    load_google_config,
)

QR = "eyJhbGciOiJFZERTQSIsImtpZCI6ImFiYyJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl"
NOW = datetime.datetime(2025, 3, 1, 9, 30, tzinfo=datetime.UTC)
EXPECTED_FILES = {
    "pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "logo.png",
    "logo@2x.png", "fr.lproj/pass.strings", "en.lproj/pass.strings",
}
SIGNING_TIME_OID = bytes.fromhex("06092a864886f70d010905")  # 1.2.840.113549.1.9.5
MESSAGE_DIGEST_ATTR = bytes.fromhex("06092a864886f70d010904") + bytes.fromhex("31220420")


def make_card(**overrides: object) -> CardForPass:
    values: dict[str, object] = {
        "serial": "0b9f7c1e-2d3a-4c5b-8e6f-7a8b9c0d1e2f",
        "member_name": "Marie ROCHER",
        "registration_number": "1234567",
        "fund": "CCSS",
        "valid_from": datetime.date(2025, 1, 1),
        "valid_until": datetime.date(2025, 12, 31),
        "rights_status": "open",
        "beneficiaries": ("Paul ROCHER", "Léa ROCHER"),
        "qr_payload": QR,
    }
    values.update(overrides)
    return CardForPass(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wallet-dev")


@pytest.fixture(scope="module")
def apple(dev_dir: Path) -> AppleWalletConfig:
    return development_apple_config(dev_dir)


@pytest.fixture(scope="module")
def google(dev_dir: Path) -> GoogleWalletConfig:
    return development_google_config(dev_dir, origins=("https://members.caisses-sociales.mc",))


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def pkpass(apple: AppleWalletConfig) -> dict[str, bytes]:
    return unzip(build_pkpass(make_card(), apple))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def openssl_verify(directory: Path, manifest: bytes, signature: bytes, ca: Path,
                   ) -> subprocess.CompletedProcess[bytes]:
    (directory / "manifest.json").write_bytes(manifest)
    (directory / "signature").write_bytes(signature)
    return subprocess.run(
        ["openssl", "smime", "-verify", "-inform", "DER", "-binary",
         "-content", str(directory / "manifest.json"), "-in", str(directory / "signature"),
         "-CAfile", str(ca), "-purpose", "any", "-out", str(directory / "out")],
        capture_output=True, timeout=60, check=False)


# -- Apple ------------------------------------------------------------------------------

def test_media_type() -> None:
    assert PKPASS_MEDIA_TYPE == "application/vnd.apple.pkpass"


def test_pkpass_holds_the_expected_files(pkpass: dict[str, bytes]) -> None:
    assert set(pkpass) == EXPECTED_FILES


def test_pass_json_required_keys_and_barcode(pkpass: dict[str, bytes]) -> None:
    data = json.loads(pkpass["pass.json"])
    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == "pass.mc.caisses-sociales.registration-card"
    assert data["teamIdentifier"]
    assert data["serialNumber"] == make_card().serial
    assert data["organizationName"] == "Caisses Sociales de Monaco"
    assert data["description"] == "Carte d'immatriculation"
    assert data["barcodes"] == [{"format": "PKBarcodeFormatQR", "message": QR,
                                 "messageEncoding": "iso-8859-1", "altText": "1234567"}]
    assert data["backgroundColor"].startswith("rgb(")
    assert "webServiceURL" not in data and "authenticationToken" not in data


def test_pass_json_fields(pkpass: dict[str, bytes]) -> None:
    generic = json.loads(pkpass["pass.json"])["generic"]
    assert [f["value"] for f in generic["headerFields"]] == ["CCSS"]
    assert [f["value"] for f in generic["primaryFields"]] == ["Marie ROCHER"]
    assert [f["value"] for f in generic["secondaryFields"]] == [
        "1234567", "01/01/2025 – 31/12/2025"]
    assert [f["value"] for f in generic["auxiliaryFields"]] == ["Ouverts"]
    back = {f["key"]: f["value"] for f in generic["backFields"]}
    assert back["beneficiaries"] == "Paul ROCHER\nLéa ROCHER"
    assert "QR code" in back["how_to_use"]
    assert "tsa@caisses-sociales.mc" in back["contact"]
    for fields in generic.values():
        assert all({"key", "label", "value"} <= set(f) for f in fields)


def test_expiration_is_the_end_of_the_last_day_in_monaco(apple: AppleWalletConfig) -> None:
    winter = json.loads(unzip(build_pkpass(make_card(), apple))["pass.json"])
    summer = json.loads(unzip(build_pkpass(
        make_card(valid_until=datetime.date(2026, 7, 31)), apple))["pass.json"])
    assert winter["expirationDate"] == "2025-12-31T23:59:59+01:00"
    assert summer["expirationDate"] == "2026-07-31T23:59:59+02:00"


def test_pass_strings_translate_the_labels(pkpass: dict[str, bytes]) -> None:
    en = pkpass["en.lproj/pass.strings"].decode("utf-8")
    fr = pkpass["fr.lproj/pass.strings"].decode("utf-8")
    assert '"Carte d\'immatriculation" = "Registration card";' in en
    assert '"N° d\'immatriculation" = "Registration number";' in en
    assert '"Ouverts" = "Open";' in en
    assert '"Paul ROCHER\\nLéa ROCHER" = "Paul ROCHER\\nLéa ROCHER";' in en
    assert '"Carte d\'immatriculation" = "Carte d\'immatriculation";' in fr
    data = json.loads(pkpass["pass.json"])
    labels = [f["label"] for fields in data["generic"].values() for f in fields]
    assert all(f'"{label}" = ' in en for label in labels)


def test_english_pass(apple: AppleWalletConfig) -> None:
    files = unzip(build_pkpass(make_card(rights_status="suspended", beneficiaries=()),
                               apple, language="en-GB"))
    data = json.loads(files["pass.json"])
    assert data["description"] == "Registration card"
    assert data["generic"]["auxiliaryFields"][0] == {"key": "rights", "label": "Rights",
                                                     "value": "Suspended"}
    assert data["generic"]["backFields"][0]["value"] == "None"
    assert '"Suspended" = "Suspendus";' in files["fr.lproj/pass.strings"].decode()


def test_unknown_rights_status_is_shown_as_it_is(apple: AppleWalletConfig) -> None:
    data = json.loads(unzip(build_pkpass(make_card(rights_status="pending"), apple))["pass.json"])
    assert data["generic"]["auxiliaryFields"][0]["value"] == "pending"


def test_manifest_hashes_every_other_file(pkpass: dict[str, bytes]) -> None:
    manifest = json.loads(pkpass["manifest.json"])
    assert set(manifest) == EXPECTED_FILES - {"manifest.json", "signature"}
    for path, digest in manifest.items():
        assert digest == hashlib.sha1(pkpass[path]).hexdigest()  # noqa: S324


def test_images_are_pngs_of_the_right_sizes(pkpass: dict[str, bytes]) -> None:
    assert png_size(pkpass["icon.png"]) == (29, 29)
    assert png_size(pkpass["icon@2x.png"]) == (58, 58)
    width, height = png_size(pkpass["logo.png"])
    assert height == 50 and 0 < width <= 160
    assert png_size(pkpass["logo@2x.png"]) == (width * 2, 100)


def test_content_is_deterministic(apple: AppleWalletConfig, pkpass: dict[str, bytes]) -> None:
    again = unzip(build_pkpass(make_card(), apple))
    assert again["manifest.json"] == pkpass["manifest.json"]
    other = unzip(build_pkpass(make_card(fund="CAMTI"), apple))
    assert other["icon.png"] != pkpass["icon.png"]


def test_signature_embeds_the_pass_and_wwdr_certificates(apple: AppleWalletConfig,
                                                          pkpass: dict[str, bytes]) -> None:
    certificates = pkcs7.load_der_pkcs7_certificates(pkpass["signature"])
    assert x509.load_pem_x509_certificate(apple.certificate_pem) in certificates
    assert x509.load_pem_x509_certificate(apple.wwdr_certificate_pem) in certificates


def test_signature_has_signing_time_and_the_manifest_digest(pkpass: dict[str, bytes]) -> None:
    signature = pkpass["signature"]
    assert SIGNING_TIME_OID in signature
    at = signature.index(MESSAGE_DIGEST_ATTR) + len(MESSAGE_DIGEST_ATTR)
    assert signature[at:at + 32] == hashlib.sha256(pkpass["manifest.json"]).digest()
    assert pkpass["manifest.json"] not in signature  # detached


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_signature_verifies_with_openssl(tmp_path: Path, dev_dir: Path,
                                         pkpass: dict[str, bytes]) -> None:
    ca = dev_dir / DEV_WWDR_CERTIFICATE
    result = openssl_verify(tmp_path, pkpass["manifest.json"], pkpass["signature"], ca)
    assert result.returncode == 0, result.stderr.decode()
    manifest = json.loads(pkpass["manifest.json"])
    manifest["pass.json"] = hashlib.sha1(b"forged").hexdigest()  # noqa: S324
    tampered = json.dumps(manifest, indent=2, sort_keys=True).encode()
    result = openssl_verify(tmp_path, tampered, pkpass["signature"], ca)
    assert result.returncode != 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_signature_does_not_verify_against_another_ca(tmp_path: Path,
                                                      pkpass: dict[str, bytes]) -> None:
    development_apple_config(tmp_path / "other")
    ca = tmp_path / "other" / DEV_WWDR_CERTIFICATE
    result = openssl_verify(tmp_path, pkpass["manifest.json"], pkpass["signature"], ca)
    assert result.returncode != 0


def test_web_service_token_is_per_pass(apple: AppleWalletConfig) -> None:
    config = dataclasses.replace(apple, web_service_url="https://members.example/api/wallet",
                                 authentication_token="s3cret-s3cret-s3cret")
    data = json.loads(unzip(build_pkpass(make_card(), config))["pass.json"])
    other = json.loads(unzip(build_pkpass(make_card(serial="other"), config))["pass.json"])
    assert data["webServiceURL"] == "https://members.example/api/wallet"
    assert data["authenticationToken"] == pass_authentication_token(config, make_card().serial)
    assert len(data["authenticationToken"]) >= 16
    assert data["authenticationToken"] != other["authenticationToken"]
    assert "s3cret" not in data["authenticationToken"]


def test_web_service_settings_are_checked(apple: AppleWalletConfig) -> None:
    with pytest.raises(ValueError, match="go together"):
        dataclasses.replace(apple, web_service_url="https://members.example/api/wallet")
    with pytest.raises(ValueError, match="16"):
        dataclasses.replace(apple, web_service_url="https://x", authentication_token="short")


def test_qr_payload_must_be_latin_1(apple: AppleWalletConfig) -> None:
    with pytest.raises(ValueError, match="ISO-8859-1"):
        build_pkpass(make_card(qr_payload="€"), apple)


# -- Google -----------------------------------------------------------------------------

def decode(url: str, config: GoogleWalletConfig) -> dict[str, object]:
    prefix = "https://pay.google.com/gp/v/save/"
    assert url.startswith(prefix)
    public = serialization.load_pem_private_key(config.private_key_pem, None).public_key()
    return jwt.decode(url.removeprefix(prefix), public, algorithms=["RS256"],  # type: ignore[arg-type]
                      audience="google")


def test_google_jwt_verifies_and_has_the_claims(google: GoogleWalletConfig) -> None:
    claims = decode(google_save_url(make_card(), google, now=NOW), google)
    assert claims["iss"] == "wallet-dev@memberspace.iam.gserviceaccount.com"
    assert claims["aud"] == "google"
    assert claims["typ"] == "savetowallet"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["origins"] == ["https://members.caisses-sociales.mc"]
    header = jwt.get_unverified_header(google_save_url(make_card(), google, now=NOW)
                                       .rsplit("/", 1)[1])
    assert header["alg"] == "RS256"


def test_google_generic_object(google: GoogleWalletConfig) -> None:
    claims = decode(google_save_url(make_card(), google, now=NOW), google)
    [obj] = claims["payload"]["genericObjects"]  # type: ignore[index]
    assert obj["id"] == "3388000000000000000.0b9f7c1e-2d3a-4c5b-8e6f-7a8b9c0d1e2f"
    assert obj["classId"] == "3388000000000000000.registration_card"
    assert obj["state"] == "ACTIVE"
    assert obj["cardTitle"]["defaultValue"] == {"language": "fr",
                                                "value": "Carte d'immatriculation"}
    assert obj["header"]["defaultValue"]["value"] == "Marie ROCHER"
    assert obj["subheader"]["defaultValue"]["value"] == "CCSS"
    assert obj["barcode"] == {"type": "QR_CODE", "value": QR, "alternateText": "1234567"}
    assert obj["hexBackgroundColor"].startswith("#") and len(obj["hexBackgroundColor"]) == 7
    modules = {m["id"]: m for m in obj["textModulesData"]}
    assert modules["registration_number"]["body"] == "1234567"
    assert modules["validity"]["body"] == "01/01/2025 – 31/12/2025"
    assert modules["beneficiaries"]["body"] == "Paul ROCHER\nLéa ROCHER"
    assert obj["validTimeInterval"] == {"start": {"date": "2025-01-01T00:00:00+01:00"},
                                        "end": {"date": "2025-12-31T23:59:59+01:00"}}


def test_google_object_id_is_sanitised(google: GoogleWalletConfig) -> None:
    claims = decode(google_save_url(make_card(serial="card 42/é:x"), google, now=NOW), google)
    [obj] = claims["payload"]["genericObjects"]  # type: ignore[index]
    assert obj["id"] == "3388000000000000000.card_42___x"


def test_google_english(google: GoogleWalletConfig) -> None:
    claims = decode(google_save_url(make_card(), google, now=NOW, language="en"), google)
    [obj] = claims["payload"]["genericObjects"]  # type: ignore[index]
    assert obj["cardTitle"]["defaultValue"] == {"language": "en", "value": "Registration card"}
    assert obj["cardTitle"]["translatedValues"] == [{"language": "fr",
                                                     "value": "Carte d'immatriculation"}]


def test_google_needs_an_aware_time(google: GoogleWalletConfig) -> None:
    with pytest.raises(ValueError, match="timezone"):
        google_save_url(make_card(), google, now=datetime.datetime(2025, 3, 1))


# -- configuration ----------------------------------------------------------------------

def test_development_config_is_made_once(tmp_path: Path) -> None:
    apple = development_apple_config(tmp_path)
    google = development_google_config(tmp_path)
    files = {name: (tmp_path / name).read_bytes() for name in
             (DEV_WWDR_CERTIFICATE, DEV_APPLE_CERTIFICATE, DEV_APPLE_KEY, DEV_GOOGLE_KEY)}
    assert development_apple_config(tmp_path) == apple
    assert development_google_config(tmp_path) == google
    assert {name: (tmp_path / name).read_bytes() for name in files} == files
    for key in (DEV_APPLE_KEY, DEV_GOOGLE_KEY):
        assert (tmp_path / key).stat().st_mode & 0o777 == 0o600
    certificate = x509.load_pem_x509_certificate(apple.certificate_pem)
    wwdr = x509.load_pem_x509_certificate(apple.wwdr_certificate_pem)
    assert certificate.issuer == wwdr.subject
    certificate.verify_directly_issued_by(wwdr)


def test_load_apple_config_checks_key_and_identifiers(tmp_path: Path, dev_dir: Path,
                                                      apple: AppleWalletConfig,
                                                      google: GoogleWalletConfig) -> None:
    certificate, key, wwdr = (dev_dir / DEV_APPLE_CERTIFICATE, dev_dir / DEV_APPLE_KEY,
                              dev_dir / DEV_WWDR_CERTIFICATE)
    der = tmp_path / "pass.cer"
    der.write_bytes(x509.load_pem_x509_certificate(certificate.read_bytes())
                    .public_bytes(serialization.Encoding.DER))
    loaded = load_apple_config(der, key, wwdr, web_service_url="https://x",
                               authentication_token="0123456789abcdef")
    assert loaded.certificate_pem == apple.certificate_pem
    assert loaded.pass_type_identifier == apple.pass_type_identifier
    other_key = tmp_path / "other.pem"
    other_key.write_bytes(google.private_key_pem)
    with pytest.raises(ValueError, match="does not belong"):
        load_apple_config(certificate, other_key, wwdr)
    with pytest.raises(ValueError, match="pass type identifier"):
        load_apple_config(certificate, key, wwdr, pass_type_identifier="pass.other")
    with pytest.raises(ValueError, match="not issued"):
        load_apple_config(certificate, key, certificate)


def test_load_google_config_from_a_service_account_file(tmp_path: Path,
                                                        google: GoogleWalletConfig) -> None:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({"type": "service_account", "client_email": "sa@x.iam",
                                "private_key": google.private_key_pem.decode()}))
    config = load_google_config("3388000000000000001", path, origins=["https://a.example"])
    assert config.service_account_email == "sa@x.iam"
    assert config.origins == ("https://a.example",)
    claims = decode(google_save_url(make_card(), config, now=NOW), config)
    assert claims["iss"] == "sa@x.iam"
    with pytest.raises(ValueError, match="numeric"):
        load_google_config("issuer", path)
