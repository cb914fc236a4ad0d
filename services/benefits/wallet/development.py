"""Development wallet keys: made once under a directory, reused, made again when gone
or expired. Passes signed with them are structurally valid and verifiable offline, but
no device or Google account accepts them.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from services.benefits.wallet.apple import AppleWalletConfig, load_apple_config
from services.benefits.wallet.card import ORGANIZATION_NAME
from services.benefits.wallet.certificates import certificate_to_pem, key_to_pem
from services.benefits.wallet.google import GoogleWalletConfig, load_google_config

DEV_APPLE_TYPE_IDENTIFIER = "pass.mc.caisses-sociales.registration-card"
DEV_TEAM_IDENTIFIER = "DEV0000000"
DEV_GOOGLE_ISSUER_ID = "3388000000000000000"
DEV_GOOGLE_SERVICE_ACCOUNT = "wallet-dev@memberspace.iam.gserviceaccount.com"
DEV_WWDR_CERTIFICATE = "wallet-dev-wwdr-ca.pem"
DEV_APPLE_CERTIFICATE = "wallet-dev-pass-certificate.pem"
DEV_APPLE_KEY = "wallet-dev-pass-key.pem"
DEV_GOOGLE_KEY = "wallet-dev-google-key.pem"
DEV_WEB_SERVICE_KEY = "web-service.key"


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


def _issue(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey,
           issuer_key: rsa.RSAPrivateKey, days: int, *, ca: bool) -> x509.Certificate:
    """A certificate for `key` signed by `issuer_key`, valid from yesterday for `days`."""
    now = datetime.datetime.now(datetime.UTC)
    identifier = (x509.SubjectKeyIdentifier.from_public_key(key.public_key()) if ca else
                  x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()))
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                           critical=True)
            .add_extension(_key_usage(signs_certificates=ca), critical=True)
            .add_extension(identifier, critical=False)
            .sign(issuer_key, hashes.SHA256()))


def _make_development_apple_files(directory: Path) -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MC"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Member Space (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Member Space Development WWDR CA"),
    ])
    ca = _issue(ca_name, ca_name, ca_key, ca_key, 3650, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, DEV_APPLE_TYPE_IDENTIFIER),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {DEV_APPLE_TYPE_IDENTIFIER}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_TEAM_IDENTIFIER),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION_NAME),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MC"),
    ])
    certificate = _issue(name, ca_name, key, ca_key, 3649, ca=False)
    # The CA's key is not kept: new development files are made all together.
    _write(directory / DEV_APPLE_KEY, key_to_pem(key), 0o600)
    _write(directory / DEV_WWDR_CERTIFICATE, certificate_to_pem(ca), 0o644)
    _write(directory / DEV_APPLE_CERTIFICATE, certificate_to_pem(certificate), 0o644)


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
            _write(path, key_to_pem(key), 0o600)
    return load_google_config(DEV_GOOGLE_ISSUER_ID, path,
                              service_account_email=DEV_GOOGLE_SERVICE_ACCOUNT, origins=origins)

