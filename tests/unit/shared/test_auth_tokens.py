"""Bearer tokens: what verifies, and every way one is refused (always a 401 naming why)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth.errors import AuthenticationError
from shared.auth.principal import Principal, Role
from shared.auth.tokens import JwksVerifier, RememberingVerifier, SharedKeyVerifier, issue_token

KEY = b"k" * 48
ISSUER = AUDIENCE = "mla-tracker"
OPERATOR = Principal(
    subject="ana", scopes=frozenset({"requests:read"}), roles=frozenset({Role.OPERATOR})
)


def verifier(key: bytes = KEY) -> SharedKeyVerifier:
    return SharedKeyVerifier(key, issuer=ISSUER, audience=AUDIENCE)


def signed(principal: Principal = OPERATOR, **overrides: Any) -> str:
    return issue_token(
        overrides.pop("key", KEY),
        principal,
        issuer=overrides.pop("issuer", ISSUER),
        audience=overrides.pop("audience", AUDIENCE),
        lifetime=overrides.pop("lifetime", timedelta(minutes=5)),
        now=overrides.pop("now", None),
    )


async def refused(token: str, verifying: Any = None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await (verifying or verifier()).verify(token)
    assert caught.value.status == 401
    assert caught.value.www_authenticate.startswith('Bearer realm="mla", error="invalid_token"')
    return caught.value.detail


async def test_a_token_issued_with_the_shared_key_names_its_principal() -> None:
    authority = Principal(
        subject="cases-si", scopes=frozenset({"requests:write"}), authority="si-dsp-ljubljana"
    )
    assert await verifier().verify(signed(OPERATOR)) == OPERATOR
    assert await verifier().verify(signed(authority)) == authority


async def test_an_expired_token_is_refused_as_expired() -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert "expired" in await refused(signed(now=an_hour_ago))


async def test_a_token_signed_with_another_key_is_refused() -> None:
    assert "signature" in (await refused(signed(key=b"o" * 48))).lower()


@pytest.mark.parametrize("claim", ["issuer", "audience"])
async def test_a_token_for_another_issuer_or_audience_is_refused(claim: str) -> None:
    await refused(signed(**{claim: "someone-else"}))


async def test_an_unsigned_token_is_refused() -> None:
    claims = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": 1, "exp": 4102444800}
    await refused(jwt.encode(claims, None, algorithm="none"))


async def test_a_token_without_an_expiry_is_refused() -> None:
    claims = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": 1}
    assert "exp" in await refused(jwt.encode(claims, KEY, algorithm="HS256"))


@pytest.mark.parametrize(
    "claims",
    [{"authority": 7}, {"office_id": ""}, {"authority": "x" * 101}, {"roles": "admin"}],
)
async def test_a_token_with_malformed_claims_is_refused(claims: dict[str, Any]) -> None:
    body = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": 1, "exp": 4102444800, **claims}
    assert "malformed" in await refused(jwt.encode(body, KEY, algorithm="HS256"))


def test_unknown_roles_are_ignored_and_scopes_split() -> None:
    principal = Principal.from_claims(
        {"sub": "x", "roles": ["admin", "realm-admin"], "scope": "audit  admin"}
    )
    assert principal.roles == {Role.ADMIN}
    assert principal.scopes == {"audit", "admin"}


class _Keys:
    """PyJWKClient's face, answering with one RSA key (no HTTP)."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = jwt.PyJWK.from_dict(
            {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}
        )

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        return self.key


async def test_a_jwks_verifier_takes_the_providers_rs256_and_refuses_a_shared_key_token() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = JwksVerifier("https://idp.example/jwks", issuer=ISSUER, audience=AUDIENCE)
    jwks._client = _Keys(private)  # type: ignore[assignment]
    now = datetime.now(UTC)
    claims = {**OPERATOR.claims(), "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    claims["exp"] = now + timedelta(minutes=5)

    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    assert await jwks.verify(good) == OPERATOR
    # An HMAC token must never verify against a public key (algorithm confusion).
    await refused(signed(), jwks)


class _Counting:
    def __init__(self) -> None:
        self.checks = 0

    async def verify(self, token: str) -> Principal:
        self.checks += 1
        return await verifier().verify(token)


async def test_a_token_that_verified_is_remembered_until_it_expires() -> None:
    inner, now = _Counting(), [datetime.now(UTC).timestamp()]
    remembering = RememberingVerifier(inner, seconds=600, clock=lambda: now[0])
    token = signed(lifetime=timedelta(minutes=5))

    assert await remembering.verify(token) == OPERATOR
    assert await remembering.verify(token) == OPERATOR
    assert inner.checks == 1
    now[0] += 5 * 60 + 31  # past its expiry and the clocks' leeway: checked again
    await remembering.verify(token)  # (the check itself runs on the real clock)
    assert inner.checks == 2


async def test_a_remembered_token_is_checked_again_after_a_while_and_refusals_never_stick() -> None:
    inner, now = _Counting(), [datetime.now(UTC).timestamp()]
    remembering = RememberingVerifier(inner, seconds=60, clock=lambda: now[0])
    token = signed(lifetime=timedelta(hours=1))
    await remembering.verify(token)
    now[0] += 61  # a key withdrawn meanwhile would refuse it now
    await remembering.verify(token)
    assert inner.checks == 2

    forged = signed(key=b"o" * 48)
    await refused(forged, remembering)
    await refused(forged, remembering)
    assert inner.checks == 4


async def test_it_remembers_a_bounded_number_of_tokens() -> None:
    inner = _Counting()
    remembering = RememberingVerifier(inner, size=2)
    first, *others = [signed() for _ in range(3)]
    for token in (first, *others):
        await remembering.verify(token)
    await remembering.verify(first)  # the longest remembered was let go
    assert inner.checks == 4
