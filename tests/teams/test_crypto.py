import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from teams import crypto
from teams.crypto import DecryptionError, Keyring, parse_keyring

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()


def ring(spec: str) -> Keyring:
    return parse_keyring(spec)


def test_it_round_trips_a_secret():
    keyring = ring(f"a:{KEY_A}")
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=keyring)
    assert crypto.decrypt(token, associated_data="row-1", keyring=keyring) == "sk_live_secret"


def test_it_never_stores_plaintext_and_uses_a_fresh_nonce():
    keyring = ring(f"a:{KEY_A}")
    first = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=keyring)
    second = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=keyring)
    assert "sk_live" not in first
    assert first != second
    assert first.startswith("v1:a:")


def test_it_detects_tampering():
    keyring = ring(f"a:{KEY_A}")
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=keyring)
    prefix, payload = token.rsplit(":", 1)
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(DecryptionError, match="failed authentication"):
        crypto.decrypt(f"{prefix}:{flipped}", associated_data="row-1", keyring=keyring)


def test_it_refuses_a_value_moved_to_another_row():
    keyring = ring(f"a:{KEY_A}")
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=keyring)
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, associated_data="row-2", keyring=keyring)


def test_it_refuses_the_wrong_key():
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=ring(f"a:{KEY_A}"))
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, associated_data="row-1", keyring=ring(f"a:{KEY_B}"))


def test_it_names_an_unknown_key_id():
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=ring(f"old:{KEY_A}"))
    with pytest.raises(DecryptionError, match="'old'"):
        crypto.decrypt(token, associated_data="row-1", keyring=ring(f"new:{KEY_B}"))


def test_it_decrypts_with_any_key_and_encrypts_with_the_first():
    old_ring = ring(f"old:{KEY_A}")
    token = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=old_ring)
    rotated = ring(f"new:{KEY_B},old:{KEY_A}")
    assert crypto.decrypt(token, associated_data="row-1", keyring=rotated) == "sk_live_secret"
    assert crypto.needs_rotation(token, rotated)
    fresh = crypto.encrypt("sk_live_secret", associated_data="row-1", keyring=rotated)
    assert crypto.key_id_of(fresh) == "new"
    assert not crypto.needs_rotation(fresh, rotated)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "holds no key"),
        ("nokeyid", "key-id:base64key"),
        ("a:!!!notbase64", "not valid base64"),
        (f"a:{base64.b64encode(b'short').decode()}", "32 bytes"),
        (f"a:{KEY_A},a:{KEY_B}", "twice"),
        (f"bad id:{KEY_A}", "key-id:base64key"),
    ],
)
def test_it_rejects_a_malformed_key_ring(spec: str, message: str):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_keyring(spec)


@pytest.mark.parametrize("token", ["plaintext", "v1:a", "v2:a:abcd", "v1:a:", "v1:a:AAAA"])
def test_it_never_falls_back_to_plaintext(token: str):
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, associated_data="row-1", keyring=ring(f"a:{KEY_A}"))
