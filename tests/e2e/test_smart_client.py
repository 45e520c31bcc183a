"""An EHR's backend, end to end: registered with `rapport register-client`, it signs an
assertion with PyJWT, gets a token from a real server and stores through it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.e2e.server import VENV_BIN, base_environment, free_port, running
from tests.e2e.server import rapport as _rapport
from tests.integration.smart_support import ClientKey, assertion, jwks, token_form


def test_a_registered_client_gets_a_token_and_stores_with_it(tmp_path: Path) -> None:
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'smart.db'}",
        "RAPPORT_PORT": str(port),
        "RAPPORT_PUBLIC_URL": f"http://localhost:{port}",  # the URL the EHR was given
    }
    key = ClientKey.new("ES384")
    (tmp_path / "jwks.json").write_text(jwks(key))
    registered = _rapport(
        "register-client", "--tenant", "Clinic", "--jwks", str(tmp_path / "jwks.json"),
        "--scope", "system/*.rs", "--scope", "system/*.cud", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    client_id = registered.stdout.strip().splitlines()[-1]
    uuid.UUID(client_id)
    private = tmp_path / "private.json"
    private.write_text(
        '{"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB", "d": "AQ"}]}'
    )
    refused = _rapport(
        "register-client", "--tenant", "Clinic", "--jwks", str(private), env=env, cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "private key" in refused.stderr

    with running([f"{VENV_BIN}/rapport", "serve", "--no-migrate"], env, tmp_path, port) as (
        _,
        base,
    ):
        config = httpx.get(f"{base}/.well-known/smart-configuration").json()
        token_url = config["token_endpoint"]
        assert token_url == f"http://localhost:{port}/auth/token"
        answer = httpx.post(
            f"{base}/auth/token", data=token_form(assertion(key, client_id, token_url))
        )
        assert answer.status_code == 200, answer.text
        auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        patient = httpx.post(f"{base}/v1/patients", json={"external_id": "E-1"}, headers=auth)
        assert patient.status_code == 201
        # An assertion aimed at the address the server happens to be reached on, rather than
        # the configured public URL, is refused: the audience is the configured one.
        wrong = assertion(key, client_id, f"{base}/auth/token")
        assert httpx.post(f"{base}/auth/token", data=token_form(wrong)).status_code == 401
