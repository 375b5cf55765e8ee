"""Standard Webhooks signatures, checked against the specification's published vector."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import pytest

from services.notify.domain.signature import InvalidSecretError, key_of, new_secret, sign

# The test vector of the Standard Webhooks reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_signature_matches_the_specifications_test_vector() -> None:
    assert sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_any_change_of_id_timestamp_or_body_changes_the_signature() -> None:
    original = sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY)
    assert sign(SECRET, "msg_other", TIMESTAMP, BODY) != original
    assert sign(SECRET, MESSAGE_ID, TIMESTAMP + 1, BODY) != original
    assert sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY + b" ") != original


def test_a_new_secret_carries_its_key_in_standard_base64() -> None:
    key = bytes(range(32))
    secret = new_secret(key)
    assert secret == "whsec_" + base64.b64encode(key).decode()
    assert key_of(secret) == key


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"too short").decode(),
        "whsec_" + base64.b64encode(bytes(65)).decode(),
    ],
)
def test_a_secret_that_is_not_whsec_base64_of_24_to_64_bytes_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        key_of(secret)


def test_the_verification_recipe_in_the_readme_accepts_what_notify_signs() -> None:
    readme = Path(__file__).resolve().parents[3] / "services" / "notify" / "README.md"
    recipe = re.search(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert recipe is not None
    namespace: dict[str, Any] = {}
    exec(recipe.group(1), namespace)
    verify = namespace["verify"]
    now, body = int(time.time()), b'{"specversion": "1.0"}'
    headers = {
        "webhook-id": "d-1",
        "webhook-timestamp": str(now),
        "webhook-signature": "v1,c29tZXRoaW5nIGVsc2U= " + sign(SECRET, "d-1", now, body),
    }
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body.replace(b"1.0", b"1.1"))
    assert not verify(SECRET, {**headers, "webhook-timestamp": str(now - 3600)}, body)
