"""Keeping each dyad's alliance summary up to date, so calibration never rescans history.

Every store or void of a client or therapist form of a pair (WAI-SR with WAI-SR-T, HAq-II
with HAq-II-T, and pairs from extra instrument files) recomputes that one session's
difference from the session's own administrations, then the dyad's summary from its paired
sessions (service.domain.calibration), in the same transaction as the change. The dyad's row
is locked first, so two forms of one session stored at the same moment pair each other.

At startup (``rapport migrate`` and ``rapport serve``), ``ensure_current`` rebuilds every
summary from the administrations when they were built for another rule or other pairs (or
never: the first start after migration 0017), in one transaction that writers of pairs wait
for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from service.app.instruments import InstrumentService
from service.app.ports import Store, Transact
from service.domain.calibration import DyadDifferences, forms_key, session_differences
from service.domain.progress import Observation


class AllianceSummaries:
    def __init__(self, instruments: InstrumentService) -> None:
        self._pairs = instruments.concordance_pairs()
        self._client_of = {form: c for c, t in self._pairs.items() for form in (c, t)}
        self.key = forms_key(self._pairs)

    def refresh(
        self, store: Store, tenant_id: uuid.UUID, dyad_id: uuid.UUID, session: int,
        instrument: str,
    ) -> None:  # fmt: skip
        """After an administration of ``instrument`` in ``session`` was stored or voided."""
        client = self._client_of.get(instrument)
        if client is None:
            return
        therapist = self._pairs[client]
        store.lock_dyad(tenant_id, dyad_id)
        forms: dict[str, list[Observation]] = {client: [], therapist: []}
        for name, rated in store.session_ratings(tenant_id, dyad_id, session, list(forms)):
            forms[name].append(rated.observation)
        difference = session_differences(forms[client], forms[therapist]).get(session)
        store.save_alliance_pair(tenant_id, dyad_id, client, session, difference)
        differences = store.alliance_differences(tenant_id, dyad_id, client)
        store.save_alliance_summary(tenant_id, dyad_id, client, DyadDifferences.of(differences))

    async def ensure_current(self, transact: Transact, *, force: bool = False) -> bool:
        """Rebuild every summary unless they were built for this catalogue's pairs (or
        ``force``); True when it rebuilt them."""
        key = self.key
        current = await transact(lambda store: store.alliance_forms_key(), read_only=True)
        if current == key and not force:
            return False

        def work(store: Store) -> bool:
            store.lock_alliance_summaries()
            if store.alliance_forms_key() == key and not force:  # another process did it
                return False
            self.rebuild(store)
            store.set_alliance_forms_key(key, datetime.now(UTC))
            return True

        return await transact(work)

    def rebuild(self, store: Store) -> None:
        """Every tenant's summaries from its administrations."""
        store.clear_alliance_summaries()
        names = sorted(self._client_of)
        for tenant_id in sorted(store.tenant_names()):
            pairs: list[tuple[uuid.UUID, str, int, float]] = []
            summaries: list[tuple[uuid.UUID, str, DyadDifferences]] = []
            for dyad_id, history in store.paired_histories(tenant_id, names):
                for client, therapist in self._pairs.items():
                    by_session = session_differences(
                        [o for name, o in history if name == client],
                        [o for name, o in history if name == therapist],
                    )
                    pairs.extend((dyad_id, client, s, d) for s, d in sorted(by_session.items()))
                    summary = DyadDifferences.of([d for _, d in sorted(by_session.items())])
                    if summary is not None:
                        summaries.append((dyad_id, client, summary))
            store.add_alliance_rows(tenant_id, pairs, summaries)


__all__ = ["AllianceSummaries"]
