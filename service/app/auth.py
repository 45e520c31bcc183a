"""API keys: issue them, and turn a bearer token into a Principal.

A token is ``rap_<prefix>_<secret>``: the prefix finds the key, and only a SHA-256 of the
secret is stored. The secret has 256 bits of entropy, so a fast hash is the right one (a
slow password hash defends low-entropy secrets and would cost every request). Validated
tokens are cached for ``RAPPORT_API_KEY_CACHE_SECONDS`` (default ``CACHE_SECONDS``) in each
server process; a revoked key stops working in every process within that time (revocation is
read from the database; there is no cross-process invalidation: the bound is the design).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from service.app import smart
from service.app.audit import audit_event
from service.app.ports import Store, Transact
from service.domain.errors import Forbidden, NotFound, Unauthenticated
from service.domain.ids import new_id
from service.domain.records import ApiKeySummary, Outcome, Principal, Scope

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


async def list_api_keys(transact: Transact, tenant_name: str) -> list[ApiKeySummary]:
    """The tenant's keys, oldest first; ``NotFound`` when no tenant has that name."""

    def work(store: Store) -> list[ApiKeySummary]:
        tenant = store.tenant_by_name(tenant_name.strip())
        if tenant is None:
            raise NotFound(f"No tenant is named '{tenant_name}'.")
        return store.api_keys(tenant.id)

    return await transact(work)


@dataclass(frozen=True, slots=True)
class Revocation:
    key: ApiKeySummary
    revoked_now: bool  # False when the key was revoked before: nothing changed


async def revoke_api_key(transact: Transact, prefix_or_token: str) -> Revocation:
    """Revoke the key of that prefix (or whole token) and audit it; idempotent.

    A server process that validated the key keeps accepting it for at most ``CACHE_SECONDS``.
    """
    prefix = _prefix_of(prefix_or_token)
    now = datetime.now(UTC)

    def work(store: Store) -> Revocation:
        found = store.find_api_key(prefix)  # the prefix finds the tenant; the rest is scoped
        if found is None:
            # Echo the value only when it has a prefix's shape: a mangled token pasted here
            # ("Bearer rap_...") must not end up in a terminal log with its secret.
            shown = f" '{prefix}'" if re.fullmatch(r"[0-9a-f]{1,12}", prefix) else ""
            raise NotFound(
                f"No API key has the prefix{shown} (the 12 characters after 'rap_' in a token)."
            )
        revoked_now = store.revoke_api_key(found.tenant_id, found.id, now)
        if revoked_now:
            store.record(
                audit_event(
                    found.tenant_id, "cli", "api-key.revoke", "api-key", str(found.id),
                    Outcome.SUCCESS,
                )
            )  # fmt: skip
        return Revocation(store.api_key(found.tenant_id, found.id), revoked_now)

    return await transact(work)


class Authenticator:
    """Checks bearer tokens; a valid one is remembered for ``cache_seconds`` (a revoked key
    therefore works at most that long after its revocation, README.md)."""

    def __init__(
        self, transact: Transact, cache_seconds: float = CACHE_SECONDS,
        cache_limit: int = _CACHE_LIMIT,
    ) -> None:  # fmt: skip
        self._transact = transact
        self._cache_seconds = cache_seconds
        self._cache_limit = cache_limit
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        token = _bearer(authorization)
        cached = self._cache.get(token)
        now = time.monotonic()
        if cached is not None:
            if cached[1] > now:
                return cached[0]
            del self._cache[token]  # expired: the token is not kept in memory any longer
        principal, good_until = await self._check(token, now)
        if len(self._cache) >= self._cache_limit:
            # Expired entries go first; only a cache full of live ones starts over.
            self._cache = {t: entry for t, entry in self._cache.items() if entry[1] > now}
            if len(self._cache) >= self._cache_limit:
                self._cache.clear()
        self._cache[token] = (principal, min(now + self._cache_seconds, good_until))
        return principal

    async def _check(self, token: str, now: float) -> tuple[Principal, float]:
        """The token's principal, and the monotonic time until which it may be trusted."""
        if token.startswith(f"{smart.TOKEN_PREFIX}_"):
            return await self._check_access_token(token, now)
        parts = _split(token)
        if parts is None:
            raise Unauthenticated("The bearer token is not a Rapport API key or access token.")
        prefix, secret = parts
        key = await self._transact(lambda store: store.find_api_key(prefix), read_only=True)
        if key is None or key.revoked or not hmac.compare_digest(key.secret_hash, _hash(secret)):
            refused = Unauthenticated("The bearer token is unknown or revoked.")
            if key is not None:  # a known key: its tenant's trail records the attempt
                event = audit_event(
                    key.tenant_id, str(key.id), "authenticate", "api-key", str(key.id),
                    Outcome.UNAUTHENTICATED, "revoked" if key.revoked else "wrong-secret",
                )  # fmt: skip
                await self._transact(lambda store: store.record(event))
                refused.audited = True
            raise refused
        return Principal(key.tenant_id, key.id, key.scopes), now + self._cache_seconds

    async def _check_access_token(self, token: str, now: float) -> tuple[Principal, float]:
        parts = token.split("_", 2)
        if len(parts) != 3:
            raise Unauthenticated("The bearer token is not a Rapport access token.")
        found = await self._transact(
            lambda store: store.find_access_token(parts[1]), read_only=True
        )
        left = 0.0 if found is None else (found.expires_at - datetime.now(UTC)).total_seconds()
        if (
            found is None
            or found.client_revoked
            or left <= 0
            or not hmac.compare_digest(found.secret_hash, smart.token_hash(parts[2]))
        ):
            raise Unauthenticated("The access token is unknown, expired or revoked.")
        principal = Principal(found.tenant_id, found.client_id, found.scopes, client=True)
        return principal, now + left


async def require(transact: Transact, principal: Principal, scope: Scope, action: str) -> None:
    """Refuse, and audit the refusal, when the key lacks ``scope``."""
    if principal.can(scope):
        return
    event = audit_event(
        principal.tenant_id, principal.actor, action, "scope", scope.value, Outcome.DENIED
    )
    await transact(lambda store: store.record(event))
    refused = Forbidden(f"This API key lacks the '{scope}' scope needed for {action}.")
    refused.audited = True
    raise refused


def _split(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of ``rap_<prefix>_<secret>``; None when it is not a token."""
    parts = token.split("_", 2)  # the secret itself may contain underscores
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    return parts[1], parts[2]


def _prefix_of(prefix_or_token: str) -> str:
    """The prefix of a whole token (an operator may paste a leaked one), else the value."""
    value = prefix_or_token.strip()
    parts = _split(value)
    return value if parts is None else parts[0]


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <token>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <token>'.")
    return token.strip()
