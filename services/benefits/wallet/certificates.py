"""Reading and writing the keys and certificates both wallets sign with (PEM, or DER
for certificates as Apple hands them out)."""

from __future__ import annotations

import functools

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


@functools.lru_cache(maxsize=8)
def private_key_from_pem(pem: bytes) -> object:
    """Parsed once per key: loading (and checking) an RSA key costs ~40 ms of CPU, more
    than building the whole pass."""
    return serialization.load_pem_private_key(pem, None)


@functools.lru_cache(maxsize=8)
def certificate_from_pem(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def read_certificate(data: bytes) -> x509.Certificate:
    """PEM or DER (Apple hands out .cer files in DER)."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def certificate_to_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_to_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8, unencrypted: what the configurations hold in memory."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
