"""Mutual TLS for a connector (ML Commons 3.9+): the client certificate and trust anchors from its credential.

ml-commons: common/.../connector/CertificateProcessor.java, common/.../httpclient/MLTlsClientConfigurer.java;
docs/api.md, "Where mlgate answers differently".

The certificate material lives only in the decrypted credential and in memory: Python's ``ssl`` loads a
client certificate from a file name only, so the chain and key are handed over through an anonymous
in-memory file (``memfd``), never the disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import ssl
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from mlgate.domain.errors import InvalidRequestError

CLIENT_CERT_PEM = "client_cert_pem"
CLIENT_KEY_PEM = "client_key_pem"
CLIENT_CERT_PKCS12 = "client_cert_pkcs12"
CA_CERT_PEM = "ca_cert_pem"
KEYSTORE_PASSWORD = "keystore_password"
_TLS_FIELDS = (CLIENT_CERT_PEM, CLIENT_KEY_PEM, CLIENT_CERT_PKCS12, CA_CERT_PEM, KEYSTORE_PASSWORD)
_KEYSTORE_TYPES = ("PEM", "PKCS12")

_CERT_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----[^\r\n]*\s*([A-Za-z0-9+/\s=]+?)\s*-----END CERTIFICATE-----", re.DOTALL
)
_KEY_BLOCK = re.compile(
    r"-----BEGIN PRIVATE KEY-----[^\r\n]*\s*([A-Za-z0-9+/\s=]+?)\s*-----END PRIVATE KEY-----", re.DOTALL
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_PATH_PREFIX = re.compile(r"(?:[A-Za-z]:[\\/]|~[/\\]|\.{1,2}[/\\]|/).*")
_PATH_SUFFIX = re.compile(r".*\.(pem|crt|cer|key|p12|pfx|der)", re.IGNORECASE)
_NO_FILE_PATHS = (
    "File paths are not supported for certificate fields. "
    "Provide the {what} content itself (PEM text or base64-encoded PEM), not a file path."
)
_PKCS1_HINT = (
    "Invalid PEM private key format. Only PKCS#8 format is supported (-----BEGIN PRIVATE KEY-----). "
    "If you have a PKCS#1 RSA key (-----BEGIN RSA PRIVATE KEY-----), convert it using: "
    "openssl pkcs8 -topk8 -inform PEM -outform PEM -nocrypt -in rsa_key.pem -out pkcs8_key.pem"
)


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, error_type="m_l_validation_exception")


class _BuildError(Exception):
    """Certificate material that cannot be used; reported as "Failed to build mutual TLS managers"."""


def _keystore_type(raw: str | None) -> str:
    """``PEM`` (also when unset) or ``PKCS12``, case-insensitive."""
    if raw is None:
        return "PEM"
    normalized = raw.strip().upper()
    if normalized not in _KEYSTORE_TYPES:
        raise _invalid(f"Unsupported keystore type: {raw}. Supported types are: PEM, PKCS12")
    return normalized


def tls_identity(credential: Mapping[str, str]) -> str:
    """A digest of the certificate material: a client is rebuilt when it changes (the values stay out)."""
    digest = hashlib.sha256()
    for name in _TLS_FIELDS:
        digest.update(name.encode() + b"\0" + credential.get(name, "").encode() + b"\0")
    return digest.hexdigest()


def _check(skip_ssl_verification: bool, raw_keystore_type: str | None, credential: Mapping[str, str]) -> str:
    """ML Commons' checks before any certificate is parsed; returns the keystore type."""
    if skip_ssl_verification:
        raise _invalid(
            "skip_ssl_verification cannot be enabled together with mutual_tls_enabled. Disabling server "
            "certificate validation while presenting a client certificate defeats the purpose of mutual TLS "
            f"and allows man-in-the-middle attacks. Provide a trusted CA certificate ({CA_CERT_PEM}) instead "
            "of skipping SSL verification."
        )
    if not credential:
        raise _invalid("Credentials are required when mutual TLS is enabled")
    kind = _keystore_type(raw_keystore_type)
    if kind == "PEM" and not (CLIENT_CERT_PEM in credential and CLIENT_KEY_PEM in credential):
        raise _invalid(f"For PEM keystore, provide both {CLIENT_CERT_PEM} and {CLIENT_KEY_PEM}")
    if kind == "PKCS12" and CLIENT_CERT_PKCS12 not in credential:
        raise _invalid(f"For PKCS12 keystore, provide {CLIENT_CERT_PKCS12}")
    if (credential.get("api_key") or "").strip():
        raise _invalid(
            "Mixed authentication methods are not allowed. When using mutual TLS with client certificates, "
            "API keys should not be provided. Please remove the 'api_key' from credentials when "
            "'mutual_tls_enabled' is true."
        )
    return kind


def mtls_context(
    skip_ssl_verification: bool, raw_keystore_type: str | None, credential: Mapping[str, str]
) -> ssl.SSLContext:
    """A client TLS context presenting the connector's certificate; the CA of ``ca_cert_pem`` (all of its
    certificates) replaces the system trust store when given. Raises InvalidRequestError (400)."""
    kind = _check(skip_ssl_verification, raw_keystore_type, credential)
    try:
        ca = _content(credential, CA_CERT_PEM)
        # A CA given in the credential is the only trust anchor, as in ML Commons; else the system's.
        context = ssl.create_default_context(cadata=_pem_chain(ca)) if ca else ssl.create_default_context()
        material = _pem_material(credential) if kind == "PEM" else _pkcs12_material(credential)
        _load_in_memory(context, material)
    except (_BuildError, ssl.SSLError, ValueError) as exc:
        raise _invalid(f"Failed to build mutual TLS managers: {exc}") from None
    return context


def _content(credential: Mapping[str, str], name: str) -> str | None:
    """A certificate field: absent or blank ⇒ None; bare base64 of a PEM text is decoded."""
    value = credential.get(name)
    if value is None or not value.strip():
        return None
    if name == CLIENT_CERT_PKCS12:
        return value.strip()
    stripped = re.sub(r"\s", "", value)
    if (
        "-----BEGIN" in value
        or "-----END" in value
        or len(stripped) <= 100
        or not _BASE64.fullmatch(stripped)
    ):
        return value
    try:
        decoded = base64.b64decode(stripped, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _BuildError(
            f"Certificate field '{name}' appears to be base64 encoded but contains invalid base64 data: {exc}"
        ) from None
    if "-----BEGIN" not in decoded:
        # Never echo what was decoded: it may be key material.
        raise _BuildError(
            f"Certificate field '{name}' appears to be base64 encoded but does not contain valid PEM content "
            "after decoding. Expected PEM headers (-----BEGIN...)."
        )
    return decoded


def _looks_like_path(value: str) -> bool:
    trimmed = value.strip()
    if "-----BEGIN" in trimmed or "\n" in trimmed:
        return False
    return bool(_PATH_PREFIX.fullmatch(trimmed) or _PATH_SUFFIX.fullmatch(trimmed))


def _certificates(pem: str) -> list[x509.Certificate]:
    blocks = _CERT_BLOCK.findall(pem.strip())
    if not blocks:
        if _looks_like_path(pem):
            raise _BuildError(_NO_FILE_PATHS.format(what="certificate"))
        raise _BuildError("Invalid PEM certificate format. Expected -----BEGIN CERTIFICATE----- block.")
    return [x509.load_der_x509_certificate(base64.b64decode(re.sub(r"\s", "", b))) for b in blocks]


def _pem_chain(pem: str) -> str:
    """The certificates of ``pem`` re-encoded (comments and stray text dropped)."""
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in _certificates(pem))


def _pem_material(credential: Mapping[str, str]) -> bytes:
    cert_pem, key_pem = _content(credential, CLIENT_CERT_PEM), _content(credential, CLIENT_KEY_PEM)
    if cert_pem is None or key_pem is None:
        raise _BuildError(
            "Both client certificate and private key are required for PEM keystore. "
            f"Provide {CLIENT_CERT_PEM} and {CLIENT_KEY_PEM}"
        )
    chain = _certificates(cert_pem)
    for i in range(len(chain) - 1):
        if chain[i].issuer != chain[i + 1].subject:
            raise _BuildError(
                f"Client certificate chain is not ordered correctly. Certificate at index {i} (subject: "
                f"{chain[i].subject.rfc4514_string()}) is not issued by the certificate at index {i + 1} "
                f"(subject: {chain[i + 1].subject.rfc4514_string()}). List the leaf certificate first, "
                "followed by its issuing intermediate certificates in order."
            )
    match = _KEY_BLOCK.search(key_pem.strip())
    if match is None:
        raise _BuildError(
            _NO_FILE_PATHS.format(what="private key") if _looks_like_path(key_pem) else _PKCS1_HINT
        )
    try:
        key = serialization.load_der_private_key(base64.b64decode(re.sub(r"\s", "", match.group(1))), None)
    except (ValueError, TypeError) as exc:
        raise _BuildError("Unable to parse private key with supported algorithms (RSA, EC, DSA)") from exc
    return _encode(key, chain)


def _pkcs12_material(credential: Mapping[str, str]) -> bytes:
    data = _content(credential, CLIENT_CERT_PKCS12)
    if data is None:
        raise _BuildError(f"PKCS12 certificate is required for PKCS12 keystore. Provide {CLIENT_CERT_PKCS12}")
    try:
        raw = base64.b64decode(re.sub(r"\s", "", data), validate=True)
    except binascii.Error as exc:
        raise _BuildError(f"{CLIENT_CERT_PKCS12} is not valid base64: {exc}") from None
    password = credential.get(KEYSTORE_PASSWORD)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(raw, password.encode() if password else None)
    except (ValueError, TypeError) as exc:
        raise _BuildError(f"the PKCS12 keystore cannot be read: {exc}") from None
    if key is None or cert is None:
        raise _BuildError("the PKCS12 keystore holds no private key with its certificate")
    return _encode(key, [cert, *extra])


def _encode(key: PrivateKeyTypes, chain: list[x509.Certificate]) -> bytes:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)


def _load_in_memory(context: ssl.SSLContext, material: bytes) -> None:
    if not hasattr(os, "memfd_create"):
        raise _BuildError("mutual TLS needs Linux (client certificates are kept in memory, never on disk)")
    fd = os.memfd_create("mlgate-mtls", os.MFD_CLOEXEC)
    try:
        with os.fdopen(fd, "wb", closefd=False) as memory:
            memory.write(material)
        try:
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        except ssl.SSLError as exc:
            raise _BuildError(
                f"the private key does not match the client certificate ({exc.reason})"
            ) from None
    finally:
        os.close(fd)
