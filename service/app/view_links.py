"""View links: a signed, read-only, short-lived link to one dyad's page, for an EHR iframe.

The link is ``/view/<tenant id>.<signed payload>``. The payload (dyad, tenant, API key,
expiry) is signed with HMAC by itsdangerous under the tenant's secret, which lives in the
database, so every server process creates and checks links alike. A link lives at most
``MAX_SECONDS``; each use checks the signature, the expiry, that the key which created it
is still active (revoking the key kills its links at once) and that the dyad is the
tenant's, and is audited with the creating key as the actor.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from service.app.audit import audit_event, audited, record
from service.app.auth import require
from service.app.ports import Store, Transact
from service.domain.errors import Forbidden, NotFound
from service.domain.records import Outcome, Principal, Scope

MAX_SECONDS = 900
_SALT = "rapport.view-link.v1"
_INVALID = "This view link is not valid."


@dataclass(frozen=True, slots=True)
class ViewLink:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who opened a valid link: read-only, as the key that created it, for one dyad."""

    principal: Principal
    dyad_id: uuid.UUID
    expires_at: datetime


class ViewLinks:
    def __init__(self, transact: Transact) -> None:
        self._transact = transact

    async def create(
        self, principal: Principal, dyad_id: uuid.UUID, seconds: int = MAX_SECONDS
    ) -> ViewLink:
        await require(self._transact, principal, Scope.READ, "view-link.create")
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=min(seconds, MAX_SECONDS))

        def work(store: Store) -> ViewLink:
            if store.dyad(principal.tenant_id, dyad_id) is None:
                raise NotFound(f"No dyad {dyad_id}.")
            secret = store.view_link_secret(principal.tenant_id, secrets.token_urlsafe(48), now)
            payload = {
                "d": str(dyad_id), "t": str(principal.tenant_id), "k": str(principal.key_id),
                "e": int(expires.timestamp()), "c": principal.client,
            }  # fmt: skip
            signed = URLSafeSerializer(secret, salt=_SALT).dumps(payload)
            record(store, principal, "view-link.create", "dyad", dyad_id)
            return ViewLink(f"{principal.tenant_id}.{signed}", expires.replace(microsecond=0))

        return await audited(self._transact, principal, "view-link.create", "dyad", dyad_id, work)

    async def open(self, token: str) -> Viewer:
        """The viewer of a valid link; ``NotFound`` for a malformed, altered or foreign
        link (nothing tells which), ``Forbidden`` (audited) for an expired one or one whose
        key was revoked."""
        tenant_part, _, signed = token.partition(".")
        try:
            tenant_id = uuid.UUID(tenant_part)
        except ValueError:
            raise NotFound(_INVALID) from None

        def work(store: Store) -> Viewer:
            secret = store.existing_view_link_secret(tenant_id)
            if secret is None:
                raise NotFound(_INVALID)
            try:
                payload = URLSafeSerializer(secret, salt=_SALT).loads(signed)
                dyad_id, key_id = uuid.UUID(payload["d"]), uuid.UUID(payload["k"])
                client = bool(payload.get("c", False))  # made with a SMART client's token
                expires = datetime.fromtimestamp(int(payload["e"]), UTC)
                if uuid.UUID(payload["t"]) != tenant_id:
                    raise ValueError("tenant mismatch")
            except (BadSignature, KeyError, TypeError, ValueError):
                raise NotFound(_INVALID) from None
            refusal = _refusal(store, tenant_id, key_id, client, expires)
            if refusal is None and store.dyad(tenant_id, dyad_id) is None:
                raise NotFound(_INVALID)
            if refusal is not None:
                event = audit_event(
                    tenant_id, str(key_id), "view-link.open", "dyad", str(dyad_id),
                    Outcome.DENIED, refusal,
                )  # fmt: skip
                store.record(event)
                return Viewer(Principal(tenant_id, key_id, frozenset()), dyad_id, expires)
            viewer = Viewer(
                Principal(tenant_id, key_id, frozenset({Scope.READ}), client), dyad_id, expires
            )
            record(store, viewer.principal, "view-link.open", "dyad", dyad_id)
            return viewer

        viewer = await self._transact(work)
        if not viewer.principal.scopes:
            # The refusal was audited in the transaction that found it.
            raise Forbidden("This view link has expired or its API key was revoked.")
        return viewer


def _refusal(
    store: Store, tenant_id: uuid.UUID, key_id: uuid.UUID, client: bool, expires: datetime
) -> str | None:
    if expires <= datetime.now(UTC):
        return "expired"
    # The signature proves the key (or SMART client) existed; both are revoked, never deleted.
    if client:
        found = store.find_smart_client(key_id)
        return None if found is not None and found.revoked_at is None else "client-revoked"
    return None if store.api_key(tenant_id, key_id).revoked_at is None else "key-revoked"
