"""API keys: issue them, and turn a bearer token into a Principal.

A token is ``rap_<prefix>_<secret>``: the prefix finds the key, and only a SHA-256 of the
secret is stored. The secret has 256 bits of entropy, so a fast hash is the right one (a
slow password hash defends low-entropy secrets and would cost every request). Validated
tokens are cached for a short time; a revoked key stops working within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from service.app.audit import audit_event
from service.app.ports import Store, Transact
from service.domain.errors import Forbidden, Unauthenticated
from service.domain.ids import new_id
from service.domain.records import Outcome, Principal, Scope

TOKEN_PREFIX = "rap"  # noqa: S105 - a public marker, not a secret
CACHE_SECONDS = 30.0
_CACHE_LIMIT = 10_000


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_api_key(transact: Transact, tenant_name: str, scopes: frozenset[Scope]) -> str:
    """Create the tenant if new and a key for it; return the token (shown once)."""
    if not tenant_name.strip():
        raise ValueError("tenant name must not be empty")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)

    def work(store: Store) -> None:
        tenant = store.ensure_tenant(tenant_name.strip(), new_id(), now)
        key_id = new_id()
        store.add_api_key(key_id, tenant.id, prefix, _hash(secret), scopes, now)
        store.record(
            audit_event(tenant.id, "cli", "api-key.create", "api-key", str(key_id), Outcome.SUCCESS)
        )

    await transact(work)
    return f"{TOKEN_PREFIX}_{prefix}_{secret}"


class Authenticator:
    def __init__(self, transact: Transact, cache_seconds: float = CACHE_SECONDS) -> None:
        self._transact = transact
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        token = _bearer(authorization)
        cached = self._cache.get(token)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        parts = token.split("_", 2)  # the secret itself may contain underscores
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise Unauthenticated("The bearer token is not a Rapport API key.")
        prefix, secret = parts[1], parts[2]
        key = await self._transact(lambda store: store.find_api_key(prefix))
        if key is None or key.revoked or not hmac.compare_digest(key.secret_hash, _hash(secret)):
            raise Unauthenticated("The bearer token is unknown or revoked.")
        principal = Principal(key.tenant_id, key.id, key.scopes)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = (principal, now + self._cache_seconds)
        return principal


async def require(transact: Transact, principal: Principal, scope: Scope, action: str) -> None:
    """Refuse, and audit the refusal, when the key lacks ``scope``."""
    if principal.can(scope):
        return
    event = audit_event(
        principal.tenant_id, str(principal.key_id), action, "scope", scope.value, Outcome.DENIED
    )
    await transact(lambda store: store.record(event))
    raise Forbidden(f"This API key lacks the '{scope}' scope needed for {action}.")


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <token>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <token>'.")
    return token.strip()
