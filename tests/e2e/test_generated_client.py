"""An EHR vendor's view: a client generated from the committed spec drives a real server.

The client is generated during the run, offline, from openapi/openapi.json with
openapi-python-client (from this virtualenv, post-generation hooks off), imported from a
temporary directory, and pointed at a real ``rapport serve`` process holding an API key made
with ``rapport create-api-key``. Every call goes through the generated functions and every
answer is read through the generated models, so a spec the generator cannot turn into a
working client fails here, where a vendor would.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.server import base_environment, free_port, running

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PACKAGE = "rapport_generated_client"
PHQ9 = {str(i): a for i, a in enumerate([2, 2, 1, 2, 1, 1, 1, 0, 1], start=1)}  # total 11


@dataclass(frozen=True)
class Generated:
    """The generated package, and what the generator said while making it."""

    package: ModuleType
    report: str

    def api(self, tag: str, operation: str) -> Any:
        """``rapport_generated_client.api.<tag>.<operation>``: one generated endpoint module."""
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    @property
    def models(self) -> Any:
        return importlib.import_module(f"{PACKAGE}.models")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.json"
    # No post-generation hooks: they would run formatters, and nothing here may need a network.
    # Charts are images: the generator reads them as bytes once told so (its documented
    # content_type_overrides), as a vendor's configuration would.
    images = dict.fromkeys(("image/svg+xml", "image/png"), "application/octet-stream")
    config.write_text(
        json.dumps(
            {"post_hooks": [], "package_name_override": PACKAGE, "content_type_overrides": images}
        )
    )
    made = subprocess.run(
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--path", str(SPEC), "--meta", "none", "--config", str(config),
            "--output-path", str(root / PACKAGE),
        ],
        check=False, capture_output=True, text=True, cwd=root, timeout=120,
    )  # fmt: skip
    report = made.stdout + made.stderr
    assert made.returncode == 0, f"openapi-python-client rejected the spec:\n{report}"
    sys.path.insert(0, str(root))
    try:
        yield Generated(importlib.import_module(PACKAGE), report)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real ``rapport serve`` on each engine, and a read+write token made by the CLI."""
    port = free_port()
    env = base_environment()
    env.update(RAPPORT_DATABASE_URL=database_url, RAPPORT_PORT=str(port))
    created = subprocess.run(
        ["rapport", "create-api-key", "--tenant", "generated client clinic"],
        env=env, cwd=tmp_path, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert created.returncode == 0, f"create-api-key failed:\n{created.stdout}{created.stderr}"
    token = created.stdout.strip().splitlines()[-1]
    with running(["rapport", "serve", "--no-access-log"], env, tmp_path, port) as (_, base):
        yield base, token


@pytest.fixture
def client(generated: Generated, server: tuple[str, str]) -> Iterator[Any]:
    base, token = server
    authenticated = generated.package.AuthenticatedClient(
        base_url=base, token=token, raise_on_unexpected_status=True, timeout=10
    )
    with authenticated as c:
        yield c


def test_the_committed_spec_generates_a_complete_client(generated: Generated) -> None:
    assert "Warning" not in generated.report, (
        f"the generator dropped parts of the spec:\n{generated.report}"
    )
    declared = json.loads(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]
    titles = {schema.get("title", name) for name, schema in declared.items()}
    missing = sorted(t for t in titles if not hasattr(generated.models, t))
    assert not missing, f"schemas without a generated model: {missing}"


def test_the_catalogue_and_stateless_scoring(generated: Generated, client: Any) -> None:
    models = generated.models
    listing = generated.api("instruments", "list_instruments").sync_detailed(client=client)
    assert listing.status_code == 200
    assert isinstance(listing.parsed, models.InstrumentList)
    ids = {summary.id for summary in listing.parsed.items}
    assert {"phq-9", "gad-7", "wai-sr", "wai-sr-t", "core-10"} <= ids

    score = generated.api("instruments", "score")
    body = models.ScoreRequest(responses=models.ScoreRequestResponses.from_dict(PHQ9))
    scored = score.sync_detailed("phq-9", client=client, body=body)
    assert scored.status_code == 200
    assert json.loads(scored.content)["total"] == 11
    assert isinstance(scored.parsed, models.ScoreResultOut)
    assert scored.parsed.total == 11
    assert scored.parsed.band == "moderate"
    assert scored.parsed.clinical is True
    assert [flag.code for flag in scored.parsed.flags] == ["risk"]


def test_records_and_an_idempotent_administration(generated: Generated, client: Any) -> None:
    models = generated.models
    patient = generated.api("patients", "create_patient").sync_detailed(
        client=client, body=models.PatientCreate(external_id="ehr-patient-1")
    )
    assert patient.status_code == 201
    assert isinstance(patient.parsed, models.PatientOut)
    practitioner = generated.api("practitioners", "create_practitioner").sync_detailed(
        client=client, body=models.PractitionerCreate(external_id="ehr-therapist-1")
    )
    assert practitioner.status_code == 201
    assert isinstance(practitioner.parsed, models.PractitionerOut)
    dyad = generated.api("dyads", "create_dyad").sync_detailed(
        client=client,
        body=models.DyadCreate(
            patient_id=patient.parsed.id, practitioner_id=practitioner.parsed.id
        ),
    )
    assert dyad.status_code == 201
    assert isinstance(dyad.parsed, models.DyadOut)
    assert dyad.parsed.patient_id == patient.parsed.id

    submit = generated.api("dyads", "submit_administration")
    body = models.AdministrationCreate(
        instrument="phq-9",
        session=1,
        responses=models.AdministrationCreateResponses.from_dict(PHQ9),
    )
    key = f"ehr-{uuid.uuid4()}"
    first = submit.sync_detailed(dyad.parsed.id, client=client, body=body, idempotency_key=key)
    retry = submit.sync_detailed(dyad.parsed.id, client=client, body=body, idempotency_key=key)
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert json.loads(retry.content) == json.loads(first.content)  # the original response

    listed = generated.api("dyads", "list_administrations").sync_detailed(
        dyad.parsed.id, client=client
    )
    assert listed.status_code == 200
    assert len(json.loads(listed.content)["items"]) == 1  # stored once

    assert isinstance(first.parsed, models.AdministrationOut)
    assert retry.parsed.id == first.parsed.id
    assert first.parsed.score.total == 11
    assert isinstance(listed.parsed, models.AdministrationPage)
    assert [a.id for a in listed.parsed.items] == [first.parsed.id]


def test_unknown_records_and_bad_answers_are_problems(generated: Generated, client: Any) -> None:
    models = generated.models
    unknown = uuid.uuid4()
    missing = generated.api("patients", "get_patient").sync_detailed(unknown, client=client)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.status == 404
    assert missing.parsed.code == "not-found"

    score = generated.api("instruments", "score")
    out_of_range = models.ScoreRequest(
        responses=models.ScoreRequestResponses.from_dict({**PHQ9, "1": 4})
    )
    invalid = score.sync_detailed("phq-9", client=client, body=out_of_range)
    assert invalid.status_code == 422
    assert isinstance(invalid.parsed, models.Problem)
    assert invalid.parsed.status == 422
    assert invalid.parsed.errors is not None
    assert [e.item for e in invalid.parsed.errors] == ["1"]
    assert invalid.parsed.errors[0].pointer == "/responses/1"
