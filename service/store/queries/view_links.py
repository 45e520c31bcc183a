"""Each tenant's view-link signing secret (service.app.view_links)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table

from service.store.queries.base import Queries, owned
from service.store.tables import ViewLinkSecretTable

view_link_secrets: Table = ViewLinkSecretTable.__table__  # type: ignore[assignment]


class ViewLinkQueries(Queries):
    def view_link_secret(self, tenant_id: uuid.UUID, candidate: str, now: datetime) -> str:
        """The tenant's secret; ``candidate`` becomes it when the tenant has none yet.

        Insert-or-keep, then read: two processes creating the first link at once agree on
        one secret (the primary key keeps the first insert, the other reads it)."""
        self._c.execute(
            self._insert(view_link_secrets)
            .values(tenant_id=tenant_id, secret=candidate, created_at=now)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        query = owned(view_link_secrets, tenant_id)
        secret: str = self._c.execute(query).one().secret
        return secret

    def existing_view_link_secret(self, tenant_id: uuid.UUID) -> str | None:
        """The tenant's secret, or None: checking a link never creates one."""
        row = self._c.execute(owned(view_link_secrets, tenant_id)).one_or_none()
        return None if row is None else str(row.secret)
