"""Encryption at rest for project secret keys: AES-256-GCM with a key ring.

A stored value looks like ``v1:<key id>:<base64url(nonce || ciphertext+tag)>``.
The key id says which key decrypts it, so several keys can be live during a
rotation; the first key of ``QONADMIN_ENCRYPTION_KEYS`` encrypts, every key
decrypts. Each value is bound to its row through GCM associated data, so a value
copied onto another row does not decrypt. Any failure is an error: never a
fallback to plaintext.
"""

import base64
import binascii
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

FORMAT_VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(Exception):
    """A stored secret could not be decrypted (unknown key id, tampered, or wrong row)."""


@dataclass(frozen=True)
class Keyring:
    primary_id: str
    keys: dict[str, bytes]

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise DecryptionError(f"no encryption key with id {key_id!r} is configured") from None


def generate_key() -> str:
    """A fresh 256-bit key, base64-encoded, for QONADMIN_ENCRYPTION_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _decode_key(key_id: str, encoded: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(encoded.replace("+", "-").replace("/", "_") + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"QONADMIN_ENCRYPTION_KEYS: key {key_id!r} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"QONADMIN_ENCRYPTION_KEYS: key {key_id!r} must decode to {KEY_BYTES} bytes, not {len(raw)}"
        )
    return raw


def parse_keyring(spec: str) -> Keyring:
    """Parse ``id:base64key[,id:base64key…]``; the first entry is the one that encrypts."""
    keys: dict[str, bytes] = {}
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        key_id, separator, encoded = entry.partition(":")
        if not separator or not _KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "QONADMIN_ENCRYPTION_KEYS entries must look like 'key-id:base64key' "
                "(key id: letters, digits, '-' or '_', at most 32)"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"QONADMIN_ENCRYPTION_KEYS names key id {key_id!r} twice")
        keys[key_id] = _decode_key(key_id, encoded.strip())
    if not keys:
        raise ImproperlyConfigured("QONADMIN_ENCRYPTION_KEYS holds no key")
    return Keyring(primary_id=next(iter(keys)), keys=keys)


@cache
def get_keyring() -> Keyring:
    return parse_keyring(settings.QONADMIN_ENCRYPTION_KEYS)


@receiver(setting_changed)
def _forget_keyring(*, setting: str, **kwargs: object) -> None:
    if setting == "QONADMIN_ENCRYPTION_KEYS":
        get_keyring.cache_clear()


def encrypt(plaintext: str, *, associated_data: str, keyring: Keyring | None = None) -> str:
    ring = keyring or get_keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.key(ring.primary_id)).encrypt(nonce, plaintext.encode(), associated_data.encode())
    payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{FORMAT_VERSION}:{ring.primary_id}:{payload}"


def key_id_of(token: str) -> str:
    _version, key_id, _ = _split(token)
    return key_id


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != FORMAT_VERSION or not _KEY_ID.match(parts[1]):
        raise DecryptionError("stored secret is not in the v1:<key id>:<data> format")
    return parts[0], parts[1], parts[2]


def decrypt(token: str, *, associated_data: str, keyring: Keyring | None = None) -> str:
    ring = keyring or get_keyring()
    _, key_id, payload = _split(token)
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("stored secret is not valid base64") from None
    if len(raw) <= NONCE_BYTES:
        raise DecryptionError("stored secret is truncated")
    try:
        plain = AESGCM(ring.key(key_id)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data.encode())
    except InvalidTag:
        raise DecryptionError("stored secret failed authentication (tampered, or bound to another row)") from None
    return plain.decode()


def needs_rotation(token: str, keyring: Keyring | None = None) -> bool:
    ring = keyring or get_keyring()
    return key_id_of(token) != ring.primary_id
