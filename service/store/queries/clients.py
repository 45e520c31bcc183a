"""SMART Backend Services: clients, accepted assertion ids, and access tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, delete, insert, select

from service.domain.records import AccessToken, Scope, SmartClient
from service.store.queries.base import Queries, owned
from service.store.tables import AccessTokenTable, ClientAssertionTable, SmartClientTable

smart_clients: Table = SmartClientTable.__table__  # type: ignore[assignment]
client_assertions: Table = ClientAssertionTable.__table__  # type: ignore[assignment]
access_tokens: Table = AccessTokenTable.__table__  # type: ignore[assignment]


class ClientQueries(Queries):
    def add_smart_client(self, client: SmartClient) -> None:
        self._c.execute(
            insert(smart_clients).values(
                id=client.id, tenant_id=client.tenant_id, jwks=client.jwks,
                jwks_url=client.jwks_url, scopes=" ".join(client.scopes),
                created_at=client.created_at, revoked_at=client.revoked_at,
            )
        )  # fmt: skip

    def find_smart_client(self, client_id: uuid.UUID) -> SmartClient | None:
        """The client of that id, whatever its tenant: the client id finds the tenant."""
        row = self._c.execute(select(smart_clients).where(smart_clients.c.id == client_id)).first()
        return None if row is None else _client(row)

    def smart_clients(self, tenant_id: uuid.UUID) -> list[SmartClient]:
        query = owned(smart_clients, tenant_id).order_by(
            smart_clients.c.created_at, smart_clients.c.id
        )
        return [_client(row) for row in self._c.execute(query)]

    def accept_assertion(
        self, tenant_id: uuid.UUID, client_id: uuid.UUID, jti: str, expires_at: datetime,
        now: datetime,
    ) -> None:  # fmt: skip
        """Remember an assertion's ``jti`` until it expires; a second use of the same one
        violates the primary key (``Conflict``). Expired ones are dropped on the way."""
        self._c.execute(
            delete(client_assertions).where(
                client_assertions.c.tenant_id == tenant_id,
                client_assertions.c.client_id == client_id,
                client_assertions.c.expires_at < now,
            )
        )
        self._c.execute(
            insert(client_assertions).values(
                client_id=client_id, jti=jti, tenant_id=tenant_id, expires_at=expires_at
            )
        )

    def add_access_token(
        self, token_id: uuid.UUID, client: SmartClient, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], granted: tuple[str, ...], now: datetime, expires_at: datetime,
    ) -> None:  # fmt: skip
        self._c.execute(
            delete(access_tokens).where(
                access_tokens.c.tenant_id == client.tenant_id,
                access_tokens.c.client_id == client.id,
                access_tokens.c.expires_at < now,
            )
        )
        self._c.execute(
            insert(access_tokens).values(
                id=token_id, tenant_id=client.tenant_id, client_id=client.id, prefix=prefix,
                secret_hash=secret_hash, scopes=",".join(sorted(scopes)),
                granted=" ".join(granted), created_at=now, expires_at=expires_at,
            )
        )  # fmt: skip

    def find_access_token(self, prefix: str) -> AccessToken | None:
        """The token of that prefix, whatever its tenant: the token finds the tenant."""
        query = (
            select(access_tokens, smart_clients.c.revoked_at)
            .join(smart_clients, smart_clients.c.id == access_tokens.c.client_id)
            .where(access_tokens.c.prefix == prefix)
        )
        row = self._c.execute(query).first()
        if row is None:
            return None
        return AccessToken(
            row.tenant_id, row.client_id, row.secret_hash,
            frozenset(Scope(s) for s in row.scopes.split(",") if s), row.expires_at,
            row.revoked_at is not None,
        )  # fmt: skip


def _client(row: Row[Any]) -> SmartClient:
    return SmartClient(
        row.id, row.tenant_id, row.jwks, row.jwks_url, tuple(row.scopes.split()),
        row.created_at, row.revoked_at,
    )  # fmt: skip
