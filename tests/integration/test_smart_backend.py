"""SMART Backend Services: a client with registered keys gets a short-lived access token at
/auth/token, which then works like an API key with the mapped scopes; every way the
specification says an assertion must be refused is refused with an OAuth 2 error."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jwt.algorithms import RSAAlgorithm

from service.app import smart
from service.app.smart import register_client
from tests.conftest import Api
from tests.integration.smart_support import ClientKey, assertion, jwks, token_form

TOKEN_URL = "http://rapport.test/auth/token"  # the in-process client's base URL


async def _client(api: Api, *keys: ClientKey, scopes: tuple[str, ...] = smart.DEFAULT_SCOPES,
                  jwks_url: str | None = None, tenant: str = "clinic-a") -> str:  # fmt: skip
    client_id = await register_client(api.services.transact, tenant, jwks(*keys), jwks_url, scopes)
    return str(client_id)


async def _token(api: Api, form: dict[str, str]) -> httpx.Response:
    return await api.http.post("/auth/token", data=form)


def _bearer(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_a_signed_assertion_gets_a_token_that_works_on_every_face(api: Api, alg: str) -> None:
    key = ClientKey.new(alg)
    client_id = await _client(api, key)
    answer = await _token(api, token_form(assertion(key, client_id, TOKEN_URL)))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("rat_")
    assert 0 < body["expires_in"] <= 300
    assert set(body["scope"].split()) == {"system/*.rs", "system/*.cud"}
    assert answer.headers["cache-control"] == "no-store"
    auth = _bearer(answer)

    created = await api.http.post("/v1/patients", json={"external_id": "MRN-S1"}, headers=auth)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    assert (await api.http.get(f"/v1/patients/{patient_id}", headers=auth)).status_code == 200
    query = {"query": f'{{ patient(id: "{patient_id}") {{ externalId }} }}'}
    graphql = await api.http.post("/graphql", json=query, headers=auth)
    assert graphql.json()["data"]["patient"]["externalId"] == "MRN-S1"
    fhir = await api.http.get("/fhir/R4/Questionnaire/phq-9", headers=auth)
    assert fhir.status_code == 200

    # The audit trail names the client, not an API key.
    events = await api.services.transact(
        lambda store: store.audit_events(_tenant_of(store, client_id))
    )
    actors = {e.actor for e in events if e.action == "patient.create"}
    assert actors == {f"client:{client_id}"}


def _tenant_of(store: Any, client_id: str) -> uuid.UUID:
    client = store.find_smart_client(uuid.UUID(client_id))
    assert client is not None
    return client.tenant_id  # type: ignore[no-any-return]


async def test_a_read_only_token_cannot_write(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key, scopes=("system/*.rs",))
    auth = _bearer(
        await _token(api, token_form(assertion(key, client_id, TOKEN_URL), "system/*.rs"))
    )
    refused = await api.http.post("/v1/patients", json={"external_id": "MRN-S2"}, headers=auth)
    assert refused.status_code == 403
    assert (await api.http.get("/v1/patients", headers=auth)).status_code == 200


async def test_a_client_gets_no_scope_it_was_not_registered_for(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key, scopes=("system/Observation.rs",))
    # Asked for more than allowed: only what is covered is granted.
    wide = await _token(
        api, token_form(assertion(key, client_id, TOKEN_URL), "system/Observation.r system/*.cud")
    )
    assert wide.status_code == 200
    assert wide.json()["scope"] == "system/Observation.r"
    nothing = await _token(api, token_form(assertion(key, client_id, TOKEN_URL), "system/*.cud"))
    assert (nothing.status_code, nothing.json()["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("replayed-jti", "invalid_client"),
        ("expired", "invalid_client"),
        ("too-far-ahead", "invalid_client"),
        ("wrong-audience", "invalid_client"),
        ("unknown-kid", "invalid_client"),
        ("other-key-same-kid", "invalid_client"),
        ("sub-not-client", "invalid_client"),
        ("unknown-client", "invalid_client"),
        ("rs256", "invalid_client"),
        ("no-jti", "invalid_client"),
        ("not-a-jwt", "invalid_client"),
    ],
)
async def test_assertions_the_specification_refuses_are_refused(
    api: Api, case: str, error: str
) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key)
    signer, claims, kwargs = key, {}, {}
    if case == "expired":
        kwargs["lifetime"] = -5
    elif case == "too-far-ahead":
        kwargs["lifetime"] = 600
    elif case == "wrong-audience":
        claims["aud"] = "https://elsewhere.example/auth/token"
    elif case == "unknown-kid":
        signer = ClientKey.new()
    elif case == "other-key-same-kid":
        signer = ClientKey.new(kid=key.kid)
    elif case == "sub-not-client":
        claims["sub"] = str(uuid.uuid4())
    elif case == "unknown-client":
        client_id = str(uuid.uuid4())
    elif case == "rs256":
        signer = ClientKey(key.kid, "RS256", key.private)
    elif case == "no-jti":
        claims["jti"] = ""
    signed = assertion(signer, client_id, TOKEN_URL, **kwargs, **claims)
    if case == "not-a-jwt":
        signed = "not.a.jwt"
    if case == "replayed-jti":
        signed = assertion(key, client_id, TOKEN_URL, jti="once")
        assert (await _token(api, token_form(signed))).status_code == 200
    answer = await _token(api, token_form(signed))
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert "access_token" not in answer.json()


async def test_a_jti_is_accepted_once_under_concurrent_retries(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key)
    form = token_form(assertion(key, client_id, TOKEN_URL, jti="concurrent"))
    answers = await asyncio.gather(*(_token(api, form) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [401] * 7


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:other"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "user/*.rs"}, "invalid_scope"),
        ({"scope": "system/Banana.rs"}, "invalid_scope"),
    ],
)
async def test_malformed_requests_get_oauth_errors(
    api: Api, form: dict[str, str], error: str
) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key)
    answer = await _token(api, token_form(assertion(key, client_id, TOKEN_URL)) | form)
    assert (answer.status_code, answer.json()["error"]) == (400, error)


async def test_the_form_must_be_form_encoded_with_each_parameter_once(api: Api) -> None:
    as_json = await api.http.post("/auth/token", json={"grant_type": "client_credentials"})
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    twice = await api.http.post(
        "/auth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")


async def test_access_tokens_expire(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smart, "ACCESS_TOKEN_SECONDS", 1)
    key = ClientKey.new()
    client_id = await _client(api, key)
    auth = _bearer(await _token(api, token_form(assertion(key, client_id, TOKEN_URL))))
    assert (await api.http.get("/v1/patients", headers=auth)).status_code == 200
    await asyncio.sleep(1.2)
    assert (await api.http.get("/v1/patients", headers=auth)).status_code == 401


async def test_api_keys_keep_working_beside_tokens(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key)
    _bearer(await _token(api, token_form(assertion(key, client_id, TOKEN_URL))))
    client = await api.client_for("clinic-a")
    assert (await client.get("/v1/patients")).status_code == 200
    forged = {"Authorization": "Bearer rat_000000000000_forged"}
    assert (await api.http.get("/v1/patients", headers=forged)).status_code == 401


async def test_a_token_reads_only_its_own_tenant(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key, tenant="clinic-b")
    other = await api.client_for("clinic-a")
    created = await other.post("/v1/patients", json={"external_id": "MRN-A"})
    auth = _bearer(await _token(api, token_form(assertion(key, client_id, TOKEN_URL))))
    foreign = await api.http.get(f"/v1/patients/{created.json()['id']}", headers=auth)
    assert foreign.status_code == 404
    assert (await api.http.get("/v1/patients", headers=auth)).json()["items"] == []


@pytest.fixture
def key_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A real HTTP server publishing a client's key set at /jwks.json."""
    published: dict[str, str] = {"jwks": '{"keys": []}'}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = published["jwks"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", published
    server.shutdown()


async def test_a_rotated_key_is_found_at_the_registered_jwks_url(
    api: Api, key_server: tuple[str, dict[str, str]]
) -> None:
    url, published = key_server
    first, rotated = ClientKey.new(), ClientKey.new("ES384")
    client_id = await _client(api, first, jwks_url=url)
    published["jwks"] = jwks(rotated)
    answer = await _token(api, token_form(assertion(rotated, client_id, TOKEN_URL)))
    assert answer.status_code == 200, answer.text
    stranger = ClientKey.new()
    refused = await _token(api, token_form(assertion(stranger, client_id, TOKEN_URL)))
    assert refused.status_code == 401


async def test_the_smart_configuration_advertises_the_endpoint(api: Api) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/R4/.well-known/smart-configuration"):
        answer = await api.http.get(path)
        assert answer.status_code == 200
        config = answer.json()
        assert config["token_endpoint"] == TOKEN_URL
        assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
        assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {
            "RS384", "ES384",
        }  # fmt: skip
        assert "system/*.rs" in config["scopes_supported"]
        assert "client-confidential-asymmetric" in config["capabilities"]


@pytest.mark.parametrize(
    "bad",
    [
        '{"keys": []}',
        "not json",
        '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}',
    ],
)
async def test_registration_refuses_unusable_key_sets(api: Api, bad: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        await register_client(api.services.transact, "clinic-a", bad, None, smart.DEFAULT_SCOPES)


async def test_registration_refuses_private_keys(api: Api) -> None:
    key = ClientKey.new()
    private = RSAAlgorithm.to_jwk(key.private, as_dict=True) | {"kid": key.kid}
    with pytest.raises(ValueError, match="private key"):
        await register_client(
            api.services.transact, "clinic-a", json.dumps({"keys": [private]}), None,
            smart.DEFAULT_SCOPES,
        )  # fmt: skip


async def test_a_token_makes_a_view_link_that_opens(api: Api) -> None:
    key = ClientKey.new()
    client_id = await _client(api, key)
    auth = _bearer(await _token(api, token_form(assertion(key, client_id, TOKEN_URL))))
    patient = await api.http.post("/v1/patients", json={"external_id": "V-1"}, headers=auth)
    practitioner = await api.http.post(
        "/v1/practitioners", json={"external_id": "V-2"}, headers=auth
    )
    dyad = await api.http.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
        headers=auth,
    )
    link = await api.http.post(f"/v1/dyads/{dyad.json()['id']}/view-links", json={}, headers=auth)
    assert link.status_code == 201, link.text
    page = await api.http.get(link.json()["url"])
    assert page.status_code == 200, page.text[:300]
