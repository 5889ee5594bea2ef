"""The keys of the audit chains: HMAC-SHA256 per entry, Ed25519 signatures on checkpoints.

The keys live outside the database (settings, from the environment), so somebody who can write the
database but does not hold a key cannot make a changed, inserted or deleted entry verify again.

- `AUDIT_KEYS="kid:base64,..."` (32+ random bytes each) and `AUDIT_KEY_ID` (the key new entries are
  keyed with; default the last). Each entry records the id of its key, and verification accepts every
  configured key, so a rotation is: add the new key, point AUDIT_KEY_ID at it, keep the old one for as
  long as entries made with it must verify (for ever, in practice: they are never re-keyed).
- With DEBUG and no keys, a development key is generated under var/ (as for WITNESS_KEYS).
- Without DEBUG and without AUDIT_KEYS, the key is derived from SECRET_KEY (HKDF, id `sk-<8 hex>`)
  and its SECRET_KEY_FALLBACKS, so nothing breaks on upgrade; `check --deploy` warns (audit.W001):
  a dedicated key can be held apart from the web servers' secret.
- The checkpoint signing key (Ed25519) is derived from the chain key of the same id, so there is no
  second secret to keep; its public key (`manage.py audit_checkpoint --public-key`) lets anyone check
  a checkpoint's signature without being able to make one.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_BYTES = 32


class UnknownKey(Exception):
    """An entry or checkpoint names a key id that is not configured."""


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def _derived_from_secret_key(secret: str) -> tuple[str, bytes]:
    key = _hkdf(secret.encode("utf-8"), b"casualty-records audit chain v1")
    return "sk-" + hashlib.sha256(key).hexdigest()[:8], key


def keys() -> dict[str, bytes]:
    """Every configured chain key by id (the current one and those kept to verify older entries)."""
    configured = tuple((getattr(settings, "AUDIT_KEYS", {}) or {}).items())
    secrets = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []))
    return dict(_keys(configured, secrets))  # a copy: callers never change the cached one


@functools.lru_cache(maxsize=8)
def _keys(configured: tuple[tuple[str, str], ...], secrets: tuple[str, ...]) -> dict[str, bytes]:
    """Decoded (or derived) once per configuration: verification asks for a key per entry."""
    found: dict[str, bytes] = {}
    for kid, encoded in configured:
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"AUDIT_KEYS: key {kid!r} is not valid base64") from None
        if len(key) < MIN_KEY_BYTES:
            raise ImproperlyConfigured(f"AUDIT_KEYS: key {kid!r} must be at least {MIN_KEY_BYTES} bytes")
        found[kid] = key
    if found:
        return found
    for secret in secrets:
        kid, key = _derived_from_secret_key(secret)
        found.setdefault(kid, key)
    return found


def current_key_id() -> str:
    configured = keys()
    if getattr(settings, "AUDIT_KEYS", None):
        kid = getattr(settings, "AUDIT_KEY_ID", "") or next(reversed(configured))
        if kid not in configured:
            raise ImproperlyConfigured("AUDIT_KEY_ID names a key that AUDIT_KEYS does not hold")
        return kid
    return next(iter(configured))  # derived from the current SECRET_KEY


def uses_derived_key() -> bool:
    return not getattr(settings, "AUDIT_KEYS", None)


def _key(kid: str) -> bytes:
    key = keys().get(kid)
    if key is None:
        raise UnknownKey(f"no audit key with id {kid!r} is configured")
    return key


def mac(kid: str, chain: str, entry_hash: str) -> str:
    """HMAC-SHA256 of one entry's hash (which covers its content and its predecessor's hash)."""
    message = f"audit-chain:v1:{chain}:{entry_hash}".encode()
    return hmac.new(_key(kid), message, hashlib.sha256).hexdigest()


def mac_matches(kid: str, chain: str, entry_hash: str, claimed: str) -> bool:
    return hmac.compare_digest(mac(kid, chain, entry_hash), claimed or "")


def signing_key(kid: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_hkdf(_key(kid), b"casualty-records audit checkpoint ed25519"))


def public_key_text(kid: str) -> str:
    raw = signing_key(kid).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the public key is not a base64 Ed25519 key (32 bytes)") from exc
