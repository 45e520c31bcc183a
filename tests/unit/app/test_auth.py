"""API keys: issued once, checked on every request, revoked for good; scopes refuse."""

from __future__ import annotations

import pytest

from service.app.auth import Authenticator, issue_api_key, list_api_keys, revoke_api_key
from service.app.records import NewPatient
from service.domain.errors import Forbidden, NotFound, Unauthenticated
from service.domain.records import Outcome, Scope
from tests.unit.app.conftest import Clinic


async def test_a_key_is_issued_for_a_tenant_created_on_first_use(clinic: Clinic) -> None:
    token = await issue_api_key(clinic.transact, "clinic-a", frozenset({Scope.READ}))
    again = await issue_api_key(clinic.transact, "clinic-a", frozenset(Scope))

    first = await clinic.authenticator.authenticate(f"Bearer {token}")
    second = await clinic.authenticator.authenticate(f"bearer {again}")

    assert token.startswith("rap_")
    assert first.tenant_id == second.tenant_id
    assert first.scopes == frozenset({Scope.READ})
    assert second.scopes == frozenset(Scope)
    assert [t.name for t in clinic.database.rows("tenants")] == ["clinic-a"]
    # Only a hash of the secret is kept.
    secret = token.split("_", 2)[2]  # rap_<prefix>_<secret>; the secret may hold "_"
    assert all(secret not in k.secret_hash for k in clinic.database.rows("api_keys"))
    assert [(e.actor, e.object_id) for e in clinic.events("api-key.create")] == [
        ("cli", str(first.key_id)), ("cli", str(second.key_id)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic abc", "Bearer not-a-token", "Bearer rap_000000000000_secret"],
)
async def test_anything_but_a_known_token_is_unauthenticated(
    clinic: Clinic, header: str | None
) -> None:
    await issue_api_key(clinic.transact, "clinic-a", frozenset(Scope))
    with pytest.raises(Unauthenticated):
        await clinic.authenticator.authenticate(header)


async def test_a_known_prefix_with_a_wrong_secret_is_refused(clinic: Clinic) -> None:
    token = await issue_api_key(clinic.transact, "clinic-a", frozenset(Scope))
    with pytest.raises(Unauthenticated):
        await clinic.authenticator.authenticate(f"Bearer {token}x")


async def test_a_revoked_key_is_refused_once_the_cached_check_expires(clinic: Clinic) -> None:
    token = await issue_api_key(clinic.transact, "clinic-a", frozenset(Scope))
    cached = Authenticator(clinic.transact, cache_seconds=3600)
    uncached = Authenticator(clinic.transact, cache_seconds=0)
    await cached.authenticate(f"Bearer {token}")

    revoked = await revoke_api_key(clinic.transact, token)  # a leaked token, pasted whole
    repeated = await revoke_api_key(clinic.transact, revoked.key.prefix)

    assert revoked.revoked_now
    assert not repeated.revoked_now
    assert revoked.key.revoked_at is not None
    with pytest.raises(Unauthenticated):
        await uncached.authenticate(f"Bearer {token}")
    # The documented bound: a process that checked the key keeps it for its cache time.
    await cached.authenticate(f"Bearer {token}")
    assert len(clinic.events("api-key.revoke")) == 1


async def test_revoking_an_unknown_prefix_does_not_echo_a_secret(clinic: Clinic) -> None:
    with pytest.raises(NotFound, match="'abc123'"):
        await revoke_api_key(clinic.transact, "abc123")
    with pytest.raises(NotFound) as raised:
        await revoke_api_key(clinic.transact, "Bearer rap_abc_SECRET")
    assert "SECRET" not in str(raised.value)


async def test_keys_are_listed_per_tenant_oldest_first(clinic: Clinic) -> None:
    for scopes in ({Scope.READ}, {Scope.WRITE}):
        await issue_api_key(clinic.transact, "clinic-a", frozenset(scopes))
    await issue_api_key(clinic.transact, "clinic-b", frozenset(Scope))

    keys = await list_api_keys(clinic.transact, "clinic-a")

    assert [k.scopes for k in keys] == [frozenset({Scope.READ}), frozenset({Scope.WRITE})]
    with pytest.raises(NotFound):
        await list_api_keys(clinic.transact, "clinic-c")


async def test_each_scope_guards_its_use_cases_and_refusals_are_audited(clinic: Clinic) -> None:
    writer = await clinic.principal("clinic-a", Scope.WRITE)
    reader = await clinic.principal("clinic-a", Scope.READ)

    patient = await clinic.records.create_patient(writer, NewPatient("mrn-1"))
    with pytest.raises(Forbidden):
        await clinic.records.patient(writer, patient.id)
    assert await clinic.records.patient(reader, patient.id) == patient
    with pytest.raises(Forbidden):
        await clinic.records.create_patient(reader, NewPatient("mrn-2"))

    denied = clinic.events(outcome=Outcome.DENIED)
    assert [(e.action, e.object_id, e.actor) for e in denied] == [
        ("patient.read", "read", str(writer.key_id)),
        ("patient.create", "write", str(reader.key_id)),
    ]
