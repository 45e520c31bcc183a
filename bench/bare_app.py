"""The baseline for the endpoint benchmark: FastAPI validating the same body, and nothing more.

One POST route on the same path as Rapport's score endpoint, taking the same pydantic
``ScoreRequest`` model, returning a small constant JSON document. It is served by uvicorn with
the settings ``rapport serve`` uses (uvloop, httptools, no access log, no server header), so
the difference between the two servers is Rapport's own work: dependency lookup, scoring,
rendering and serialising the result.

Run: ``.venv/bin/python bench/bare_app.py --port 8001``
"""

from __future__ import annotations

import argparse
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Path
from starlette.responses import Response

from service.api.rest.schemas.scoring import ScoreRequest

CONSTANT = b'{"ok":true}'

app = FastAPI(title="bare", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.post("/v1/instruments/{instrument_id}/score")
async def score(instrument_id: Annotated[str, Path(max_length=64)], body: ScoreRequest) -> Response:
    return Response(CONSTANT, media_type="application/json")


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve the bare baseline app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
