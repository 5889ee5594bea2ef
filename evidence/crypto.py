"""Witness identity at rest: AES-256-GCM with keys from the environment, a key id on every value.

A sealed value reads `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The associated data binds
each value to its witness code and field name, so a ciphertext copied into another row or column
fails to decrypt instead of showing the wrong person's identity.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"
NONCE_BYTES = 12


class UndecryptableValue(Exception):
    """A stored value cannot be decrypted: unknown key id, wrong key, or tampered ciphertext."""


def _keys() -> dict[str, bytes]:
    configured = getattr(settings, "WITNESS_KEYS", {}) or {}
    if not configured:
        raise ImproperlyConfigured(
            "WITNESS_KEYS is not set: witness identity cannot be stored or read. "
            "Set WITNESS_KEYS=kid:base64key (32 random bytes) and WITNESS_KEY_ID=kid."
        )
    keys = {}
    for kid, encoded in configured.items():
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"WITNESS_KEYS: key {kid!r} is not valid base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"WITNESS_KEYS: key {kid!r} must be 32 bytes (AES-256)")
        keys[kid] = key
    return keys


def current_key_id() -> str:
    keys = _keys()
    kid = getattr(settings, "WITNESS_KEY_ID", "") or next(reversed(keys))
    if kid not in keys:
        raise ImproperlyConfigured("WITNESS_KEY_ID names a key that WITNESS_KEYS does not hold")
    return kid


def _aad(code: str, field: str) -> bytes:
    return f"witness:{code}:{field}".encode()


def encrypt(plaintext: str, *, code: str, field: str, key_id: str | None = None) -> str:
    """Seal one identity value under the current key (or `key_id`). Empty stays empty."""
    if not plaintext:
        return ""
    kid = key_id or current_key_id()
    key = _keys()[kid]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), _aad(code, field))
    return f"{PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def key_id_of(value: str) -> str | None:
    if not value:
        return None
    parts = value.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None


def decrypt(value: str, *, code: str, field: str) -> str:
    if not value:
        return ""
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise UndecryptableValue("not a sealed value")
    _prefix, kid, payload = parts
    key = _keys().get(kid)
    if key is None:
        raise UndecryptableValue(f"no key with id {kid!r} is configured")
    try:
        raw = base64.b64decode(payload, validate=True)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(code, field)).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag):
        raise UndecryptableValue(f"the value does not decrypt under key {kid!r}") from None
