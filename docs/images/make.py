"""Draw the README's chart images from the synthetic dyad of tests/charts_support.py.

Runs Rapport in-process on a throwaway SQLite database, stores 12 sessions through the
public API and saves the PNG answers of the chart routes, exactly as a client gets them:

    .venv/bin/python docs/images/make.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.charts_support import seed_dyad  # noqa: E402
from tests.conftest import running_api  # noqa: E402


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_api(f"sqlite:///{tmp}/images.db") as api:
            client = await api.client_for("readme")
            dyad, _ = await seed_dyad(client, 12)
            for name, query in (("progress", "?instrument=phq-9"), ("alliance", "")):
                response = await client.get(f"/v1/dyads/{dyad}/charts/{name}.png{query}")
                response.raise_for_status()
                (HERE / f"{name}.png").write_bytes(response.content)
                print(f"wrote docs/images/{name}.png ({len(response.content)} bytes)")


if __name__ == "__main__":
    asyncio.run(main())
