"""A SMART backend client as an EHR builds one: its own keys, assertions signed with PyJWT
(a JOSE library independent of the joserfc that Rapport verifies with)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class ClientKey:
    kid: str
    alg: str  # RS384 or ES384
    private: Any = field(repr=False)

    @classmethod
    def new(cls, alg: str = "RS384", kid: str | None = None) -> ClientKey:
        private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg.startswith("RS")
            else ec.generate_private_key(ec.SECP384R1())
        )
        return cls(kid or f"key-{uuid.uuid4().hex[:8]}", alg, private)

    def public_jwk(self) -> dict[str, Any]:
        algorithm = (
            jwt.algorithms.RSAAlgorithm if self.alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        )
        jwk: dict[str, Any] = algorithm.to_jwk(self.private.public_key(), as_dict=True)
        return jwk | {"kid": self.kid, "alg": self.alg, "use": "sig"}


def jwks(*keys: ClientKey) -> str:
    return json.dumps({"keys": [k.public_jwk() for k in keys]})


def assertion(
    key: ClientKey, client_id: str, audience: str, *, lifetime: float = 240,
    jti: str | None = None, **overrides: Any,
) -> str:  # fmt: skip
    now = time.time()
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": int(now + lifetime),
        "jti": uuid.uuid4().hex if jti is None else jti,
    } | overrides
    return jwt.encode(
        claims, key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"}
    )


def token_form(signed: str, scope: str = "system/*.rs system/*.cud") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": scope,
    }
