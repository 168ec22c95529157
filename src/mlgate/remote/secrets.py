"""Credential encryption at rest: AES-256-GCM under the node's master key.

Each credential value is encrypted on its own (as ML Commons does) with a fresh 96-bit nonce; the
stored form is ``base64(nonce || ciphertext+tag)``. The credential key is bound as associated data so
a ciphertext cannot be moved to another key unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mlgate.domain.errors import ExecutionError

_NONCE = 12


class CredentialCipher:
    """Encrypts and decrypts connector credential maps."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._aead = AESGCM(master_key)

    def encrypt(self, credential: Mapping[str, str]) -> dict[str, str]:
        """Encrypt every value; keys stay in clear."""
        out = {}
        for key, value in credential.items():
            nonce = os.urandom(_NONCE)
            sealed = self._aead.encrypt(nonce, value.encode(), key.encode())
            out[key] = base64.b64encode(nonce + sealed).decode()
        return out

    def decrypt(self, stored: Mapping[str, str]) -> dict[str, str]:
        """Decrypt every value; a tampered or foreign ciphertext is an error naming only the key."""
        out = {}
        for key, value in stored.items():
            try:
                raw = base64.b64decode(value, validate=True)
                out[key] = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], key.encode()).decode()
            except (InvalidTag, ValueError, binascii.Error) as exc:
                raise ExecutionError(f"Failed to decrypt credential [{key}]") from exc
        return out


def load_master_key(data_dir: Path, from_env: str | None) -> bytes:
    """The master key: from ``MLGATE_MASTER_KEY`` (base64) or a 0600 file created on first start."""
    if from_env:
        key = base64.b64decode(from_env)
        if len(key) != 32:
            raise ValueError("MLGATE_MASTER_KEY must be 32 bytes, base64-encoded")
        return key
    path = data_dir / "master.key"
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    # O_EXCL + mode 0600 at creation: the key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode())
        handle.flush()
        os.fsync(handle.fileno())
    return key
