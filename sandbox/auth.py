"""Bearer secret-key authentication (§2) and key masking for logs.

[doc]: 401 control_unauthorized when the token is missing/invalid, 403
control_forbidden when a valid token is not allowed (a public key where a
secret key is required).  Sandbox rules for telling keys apart:

* well-formed secret key: ``^(test_)?sk_[A-Za-z0-9_]{4,}$``;
* a well-formed key containing ``revoked`` is treated as a revoked key -> 401;
* a token starting ``pk_`` / ``test_pk_`` is a public key -> 403;
* the auth scheme name ``Bearer`` is matched case-insensitively (RFC 7235).

Every distinct accepted key is a separate project, so ``sk_x`` and ``test_sk_x``
never share data (§2 [doc]: sandbox and production data are kept separate).
"""

from __future__ import annotations

import re

from sandbox.errors import ApiError, forbidden, unauthorized

SECRET_KEY_PATTERN = re.compile(r"^(test_)?sk_[A-Za-z0-9_]{4,}$")
PUBLIC_KEY_PREFIXES = ("test_pk_", "pk_")
_KNOWN_PREFIXES = ("test_sk_", "sk_", "test_pk_", "pk_")
# Show the last four characters only when at least this many follow the prefix,
# so a short key is never printed in full.
_MIN_REST_FOR_TAIL = 8


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate(authorization: str | None) -> str:
    """Return the secret key that identifies the project, or raise 401/403."""
    if authorization is None or not authorization.strip():
        raise unauthorized("Missing Authorization header; expected 'Bearer <secret key>'")
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("Malformed Authorization header; expected 'Bearer <secret key>'")
    if token.startswith(PUBLIC_KEY_PREFIXES):
        raise forbidden("A secret key is required for this endpoint; a public key was given")
    if not SECRET_KEY_PATTERN.match(token):
        raise unauthorized("Invalid API key provided")
    if "revoked" in token:
        raise unauthorized("This API key has been revoked")
    return token


def is_secret_key(token: str) -> bool:
    """True when ``authenticate`` would accept ``Bearer <token>``."""
    try:
        authenticate(f"Bearer {token}")
    except ApiError:
        return False
    return True


def mask_key(token: str | None) -> str | None:
    """``sk_live1234abcd`` -> ``sk_…abcd``; never returns the whole key."""
    if token is None:
        return None
    prefix = next((p for p in _KNOWN_PREFIXES if token.startswith(p)), "")
    rest = token[len(prefix) :]
    tail = rest[-4:] if len(rest) >= _MIN_REST_FOR_TAIL else ""
    return f"{prefix}…{tail}"


def key_hint(authorization: str | None) -> str | None:
    """Masked token of an Authorization header, for the request log."""
    if authorization is None:
        return None
    token = bearer_token(authorization)
    return mask_key(token if token is not None else authorization.strip() or None)
