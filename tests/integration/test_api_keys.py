"""Revoking an API key: the API refuses it once the authentication cache has expired.

On SQLite and PostgreSQL. Time is advanced by replacing the clock the authenticator reads
(``time`` in ``service.app.auth`` only; the event loop keeps the real one), not by sleeping.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from service.app import auth
from service.app.auth import CACHE_SECONDS, list_api_keys, revoke_api_key
from service.domain.errors import NotFound
from service.domain.records import Scope
from service.store.repository import SqlStore
from tests.conftest import Api


async def _status(api: Api, token: str) -> int:
    response = await api.http.get("/v1/patients", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.json()["code"] == "unauthenticated"
    return response.status_code


def _advance_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    real = time.monotonic
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: real() + seconds))


def _prefix(token: str) -> str:
    return token.split("_")[1]


async def _audit_events(api: Api, tenant_name: str) -> list[Any]:
    def read(connection: Any) -> list[Any]:
        store = SqlStore(connection)
        tenant = store.tenant_by_name(tenant_name)
        assert tenant is not None
        return list(store.audit_events(tenant.id))

    return await api.services.database.read(read)


async def test_a_revoked_key_is_refused_once_the_cache_expires(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaked = await api.token("clinic-a", Scope.READ)
    kept = await api.token("clinic-a", Scope.READ)
    assert await _status(api, leaked) == await _status(api, kept) == 200  # both now cached

    revocation = await revoke_api_key(api.services.transact, _prefix(leaked))
    assert revocation.revoked_now
    assert await _status(api, leaked) == 200  # validated less than CACHE_SECONDS ago: the bound

    _advance_clock(monkeypatch, CACHE_SECONDS + 1)
    assert await _status(api, leaked) == 401
    assert await _status(api, kept) == 200  # the tenant's other key still works
    graphql = await api.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {leaked}"}
    )
    assert graphql.status_code == 401  # every face shares the authenticator


async def test_a_key_revoked_before_use_is_refused_at_once(api: Api) -> None:
    token = await api.token("clinic-a")
    await revoke_api_key(api.services.transact, token)  # a whole token names its key too
    assert await _status(api, token) == 401


async def test_revocation_is_audited_once_and_idempotent(api: Api) -> None:
    token = await api.token("clinic-a")
    other_tenant = await api.token("clinic-b")
    first = await revoke_api_key(api.services.transact, _prefix(token))
    again = await revoke_api_key(api.services.transact, f"  {token}\n")
    assert (first.revoked_now, again.revoked_now) == (True, False)
    assert first.key == again.key  # revoked_at unchanged by the second call
    assert first.key.revoked_at is not None
    assert first.key.prefix == _prefix(token)

    revokes = [e for e in await _audit_events(api, "clinic-a") if e.action == "api-key.revoke"]
    assert [(e.actor, e.object_type, e.object_id, e.outcome) for e in revokes] == [
        ("cli", "api-key", str(first.key.id), "success")
    ]
    assert await _status(api, other_tenant) == 200


async def test_listing_shows_one_tenants_keys_and_their_state(api: Api) -> None:
    reader = await api.token("clinic-a", Scope.READ)
    writer = await api.token("clinic-a")
    await api.token("clinic-b")
    await revoke_api_key(api.services.transact, reader)

    keys = await list_api_keys(api.services.transact, "clinic-a")
    assert [(k.prefix, k.scopes, k.revoked_at is None) for k in keys] == [
        (_prefix(reader), frozenset({Scope.READ}), False),
        (_prefix(writer), frozenset(Scope), True),
    ]
    assert all(k.created_at.tzinfo is not None for k in keys)


async def test_unknown_prefixes_and_tenants_are_not_found(api: Api) -> None:
    await api.token("clinic-a")
    with pytest.raises(NotFound, match="prefix 'feedfacecafe'"):
        await revoke_api_key(api.services.transact, "feedfacecafe")
    with pytest.raises(NotFound, match="No tenant"):
        await list_api_keys(api.services.transact, "clinic-z")
    # A mangled token is not echoed back with its secret.
    with pytest.raises(NotFound) as mangled:
        await revoke_api_key(api.services.transact, "Bearer rap_feedfacecafe_s3cr3t-value")
    assert "s3cr3t" not in str(mangled.value)


async def test_the_key_cache_forgets_expired_tokens_before_live_ones(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full cache first drops what has expired; a live key stays cached (no lookup)."""
    lookups = 0

    async def counting(work: Any, *, read_only: bool = False) -> Any:
        nonlocal lookups
        lookups += 1
        return await api.services.transact(work, read_only=read_only)

    authenticator = auth.Authenticator(counting, cache_seconds=CACHE_SECONDS, cache_limit=2)
    old, live, new = [await api.token(f"clinic-{n}") for n in "abc"]
    await authenticator.authenticate(f"Bearer {old}")
    _advance_clock(monkeypatch, CACHE_SECONDS / 2 + 1)
    await authenticator.authenticate(f"Bearer {live}")
    _advance_clock(monkeypatch, CACHE_SECONDS + 2)  # `old` has expired, `live` has not
    await authenticator.authenticate(f"Bearer {new}")  # the cache is full: `old` goes
    assert lookups == 3
    await authenticator.authenticate(f"Bearer {live}")
    assert lookups == 3  # still cached
    await authenticator.authenticate(f"Bearer {old}")
    assert lookups == 4  # expired: looked up again
