"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A subscriber's secret is `whsec_` followed by the base64 of 24 to 64 random bytes. Every
attempt is signed: `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
keyed with the decoded secret, so a receiver can check that the body came from us, unchanged,
and recently (it rejects a timestamp far from its clock).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64


class InvalidSecretError(ValueError):
    """A secret that is not `whsec_<base64 of 24..64 bytes>`."""


def new_secret(key: bytes) -> str:
    """The secret for `key` (random bytes the caller draws) in `whsec_<base64>` form."""
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecretError(f"a key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes")
    return PREFIX + base64.b64encode(key).decode("ascii")


def key_of(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret, or `InvalidSecretError` saying what is wrong."""
    if not secret.startswith(PREFIX):
        raise InvalidSecretError("a secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise InvalidSecretError("after 'whsec_' a secret is standard base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecretError(
            f"a secret decodes to {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
