"""A synthetic dyad for the chart tests, the browser test, the benchmark and the README image.

One adult patient and one practitioner; each session has a PHQ-9, a WAI-SR (client) and a
WAI-SR-T (therapist). PHQ-9 falls from 21 to about 6 with seeded noise and endorses item 9
at session 2 (a risk alert); the client's WAI-SR rises slowly, with a rupture at session 7
(a fall from about 44 to 26) repaired at session 8; the therapist rates a few points lower,
and much lower at session 4 (a discordant session).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx


def spread(total: int, items: int, low: int, high: int) -> dict[str, int]:
    """``items`` answers between ``low`` and ``high`` summing to ``total``."""
    values, left = [low] * items, total - low * items
    for i in range(items):
        add = min(high - low, left)
        values[i] += add
        left -= add
    assert left == 0, "total out of range"
    return {str(i): v for i, v in enumerate(values, start=1)}


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    answers = spread(total - item9, 8, 0, 3)
    return {**answers, "9": item9}


def wai(total: int) -> dict[str, int]:
    return spread(total, 12, 1, 5)


def plan(sessions: int, seed: int = 7) -> list[tuple[int, int, int, int]]:
    """(session, PHQ-9, WAI-SR, WAI-SR-T) per session."""
    rng = random.Random(seed)
    rows = []
    for s in range(1, sessions + 1):
        progress = min(1.0, (s - 1) / max(1, min(sessions, 12) - 1))
        phq = round(21 - 15 * progress + rng.uniform(-1.5, 1.5))
        client = round(40 + 8 * progress + rng.uniform(-1, 1))
        therapist = client - 4 + rng.randint(-1, 1)
        if s == 7:
            client = 26  # a rupture, repaired at the next session
        if s == 4:
            therapist = client - 16  # discordant
        rows.append((s, max(0, min(26, phq)), max(12, min(60, client)), max(12, therapist)))
    return rows


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, json=body)
    assert response.status_code == 201, f"{path}: {response.text}"
    identifier: str = response.json()["id"]
    return identifier


async def seed_dyad(client: httpx.AsyncClient, sessions: int = 12) -> tuple[str, str]:
    """Create the synthetic dyad through the public API; (dyad id, practitioner id)."""
    tag = uuid.uuid4().hex[:8]
    patient = await created(client, "/v1/patients", {"external_id": f"chart-{tag}"})
    practitioner = await created(client, "/v1/practitioners", {"external_id": f"t-{tag}"})
    dyad = await created(
        client, "/v1/dyads", {"patient_id": patient, "practitioner_id": practitioner}
    )
    for session, phq, client_total, therapist_total in plan(sessions):
        path = f"/v1/dyads/{dyad}/administrations"
        risk = 1 if session == 2 else 0
        for instrument, answers in (
            ("phq-9", phq9(phq, risk)), ("wai-sr", wai(client_total)),
            ("wai-sr-t", wai(therapist_total)),
        ):  # fmt: skip
            body = {"instrument": instrument, "session": session, "responses": answers}
            await created(client, path, body)
    return dyad, practitioner
