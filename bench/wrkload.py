"""``wrk`` driven by a generated Lua script: varying paths and bodies, and counted statuses.

The score benchmark sends one constant body. The store and GraphQL benchmarks need more: a
request spread over several paths (dyads), a session number that changes from request to
request, optionally a unique ``Idempotency-Key`` per request, and an exact count of the
responses with the expected status (201 for a stored administration), so that the number of
rows in the database can be checked against it afterwards.

The script keeps per-thread counters (``sent``, ``expected``, ``other``) that the ``done``
hook sums with ``thread:get``; latency percentiles come from wrk's own histogram. A request
still in flight when wrk stops is counted in ``sent`` but in neither status counter: the
server may still complete it, so a stored-row count lies between ``expected`` and
``sent - other``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from score_endpoint import wrk

LUA = """\
local paths = {{{paths}}}
local headers = {{{headers}}}
local body_prefix = [==[{prefix}]==]
local body_suffix = [==[{suffix}]==]
local sessions = {sessions}
local idempotency = {idempotency}
local nonce = "{nonce}"
local expect = {expect}
local method = "{method}"
local threads = {{}}
local n = 0
tid = 0
sent = 0
expected = 0
other = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  local path = paths[(n % #paths) + 1]
  local body = body_prefix
  if sessions > 0 then
    local session = math.floor(n / #paths) % sessions + 1
    body = body_prefix .. session .. body_suffix
  end
  local h = {{}}
  for k, v in pairs(headers) do h[k] = v end
  if idempotency then
    h["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. n
  end
  n = n + 1
  sent = sent + 1
  if method == "GET" then
    return wrk.format("GET", path, h, nil)
  end
  return wrk.format(method, path, h, body)
end

function response(status, hdrs, body)
  if status == expect then
    expected = expected + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local s, e, o = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    e = e + t:get("expected")
    o = o + t:get("other")
  end
  local err = summary.errors
  io.write(string.format(
    'RESULT {{"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"sent":%d,"expected":%d,"other":%d}}\\n',
    summary.requests, summary.duration, err.connect + err.read + err.write + err.timeout,
    err.status, math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), s, e, o))
end
"""


@dataclass(frozen=True, slots=True)
class Requests:
    """What to send: requests (POST unless ``method`` says otherwise) cycling over ``paths``.

    With ``sessions`` > 0 the body is ``prefix + str(session) + suffix`` where request n
    (0-based) goes to ``paths[n % len(paths)]`` with session ``n // len(paths) % sessions + 1``,
    so each path sees sessions 1, 2, 3... in order. With ``sessions`` == 0 the body is
    ``prefix`` unchanged.
    """

    paths: tuple[str, ...]
    headers: dict[str, str]
    prefix: str
    suffix: str = ""
    sessions: int = 0
    idempotency_nonce: str | None = None  # a unique Idempotency-Key per request when set
    expect: int = 200
    method: str = "POST"  # GET sends no body

    def body(self, n: int) -> str:
        if self.sessions <= 0:
            return self.prefix
        session = n // len(self.paths) % self.sessions + 1
        return f"{self.prefix}{session}{self.suffix}"

    def path(self, n: int) -> str:
        return self.paths[n % len(self.paths)]

    def lua(self) -> str:
        def quote(s: str) -> str:
            return json.dumps(s)  # a JSON string literal is a valid Lua string literal here

        return LUA.format(
            paths=", ".join(quote(p) for p in self.paths),
            headers=", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in self.headers.items()),
            prefix=self.prefix,
            suffix=self.suffix,
            sessions=self.sessions,
            idempotency="true" if self.idempotency_nonce else "false",
            nonce=self.idempotency_nonce or "",
            expect=self.expect,
            method=self.method,
        )


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int  # completed responses, any status
    seconds: float
    socket_errors: int
    status_errors: int  # wrk's count of status >= 400
    p50_ms: float
    p90_ms: float
    p99_ms: float
    sent: int
    expected: int  # responses with the expected status
    other: int  # responses with any other status

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def expected_rps(self) -> float:
        return self.expected / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.other


def run_wrk(
    prefix: list[str],
    base_url: str,
    requests: Requests,
    script: Path,
    seconds: float,
    connections: int = 50,
    threads: int = 1,
) -> WrkResult:
    """Drive ``base_url`` for ``seconds`` (whole seconds, at least 1); bounded by a timeout."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk); it has no fallback here")
    script.write_text(requests.lua())
    raw = wrk(prefix, base_url + requests.paths[0], script, seconds, connections, threads)
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        socket_errors=raw["socket_errors"],
        status_errors=raw["status_errors"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        sent=raw["sent"],
        expected=raw["expected"],
        other=raw["other"],
    )
