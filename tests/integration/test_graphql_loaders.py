"""DataLoaders: a nested GraphQL query costs the same SQL for 1 dyad as for 50.

Every nested field of ``Dyad`` (patient, practitioner, administrations, alerts) resolves
through a per-request DataLoader, which asks the store once for all the dyads of the page.
Counting the statements the engine sends during one request proves it: an N+1 resolver
would send 49 more statements for 50 dyads than for one.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Api
from tests.integration.graphql_support import (
    Statements,
    counting,
    data,
    new_dyad,
    phq9,
    submit,
)

NESTED = """
query($first: Int!) {
  dyads(first: $first) {
    id
    patient { externalId }
    practitioner { externalId }
    administrations { id score { total } }
    alerts { kind }
  }
}
"""


async def _tenant_with_dyads(client: httpx.AsyncClient, count: int) -> None:
    """``count`` dyads, each with two PHQ-9s; the second endorses item 9 (a risk alert)."""
    dyads = await asyncio.gather(*(new_dyad(client) for _ in range(count)))
    # Session 1 everywhere before session 2: administrations list in the order they were
    # stored, which concurrent submissions to one dyad would leave open.
    for session, answers in ((1, phq9(8)), (2, phq9(9, item9=1))):
        stored = await asyncio.gather(
            *(submit(client, d.dyad_id, "phq-9", session, answers) for d in dyads)
        )
        assert all(s["__typename"] == "Administration" for s in stored), stored


async def _measured(api: Api, client: httpx.AsyncClient, count: int) -> Statements:
    # A first request warms what is not per request (the API key cache, parser and
    # validation caches); the second is the one measured.
    await data(client, NESTED, {"first": count})
    with counting(api.services.database.engine) as seen:
        answer = await data(client, NESTED, {"first": count})
    dyads = answer["dyads"]
    assert len(dyads) == count
    for dyad in dyads:  # the query really resolved every nested field of every dyad
        assert dyad["patient"]["externalId"].endswith("-patient")
        assert dyad["practitioner"]["externalId"].endswith("-practitioner")
        assert [a["score"]["total"] for a in dyad["administrations"]] == [8, 9]
        assert [a["kind"] for a in dyad["alerts"]] == ["risk"]
    return seen


def _work(queries: list[str]) -> list[str]:
    return [q for q in queries if not q.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]


async def test_a_nested_query_costs_the_same_sql_for_1_and_for_50_dyads(api: Api) -> None:
    one = await api.client_for("loaders-one")
    fifty = await api.client_for("loaders-fifty")
    await _tenant_with_dyads(one, 1)
    await _tenant_with_dyads(fifty, 50)

    small = await _measured(api, one, 1)
    large = await _measured(api, fifty, 50)

    assert small.queries, "the listener saw no statement: it is not on the engine in use"
    # SQLite's writer wraps each of several units of work it commits together in a savepoint:
    # how the request's audit writes happen to be grouped, not what the dyads cost.
    small_work, large_work = _work(small.queries), _work(large.queries)
    assert len(large_work) == len(small_work), (
        f"1 dyad: {len(small_work)} statements, 50 dyads: {len(large_work)}\n"
        + "\n".join(large_work)
    )
    # Batched reads: no SELECT is sent twice in one request (an N+1 resolver repeats one).
    selects = [s for s in large.queries if s.lstrip().upper().startswith("SELECT")]
    assert selects
    assert len(set(selects)) == len(selects), "\n".join(selects)
