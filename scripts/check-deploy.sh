#!/usr/bin/env bash
# deploy/ checked offline (no cluster, no registry): the Kubernetes manifests against the API
# schemas (kubernetes-validate ships them), the manifests and Dockerfiles with the checkov
# security linter, and the manifests' variables against `make run-prod`'s
# (tests/prod/test_deploy_manifests.py). The linters live in their own virtualenv
# (.run/tools-venv), not in the project's requirements.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${TOOLS_VENV:-.run/tools-venv}"
if [ ! -x "$TOOLS/bin/checkov" ] || [ ! -x "$TOOLS/bin/kubernetes-validate" ]; then
  echo "==> Installing kubernetes-validate and checkov into $TOOLS"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet kubernetes-validate==1.37.0 checkov==3.3.30
fi
"$TOOLS/bin/kubernetes-validate" --strict --quiet deploy/k8s/*.yaml
echo "kubernetes-validate: every manifest valid (strict)"
BC_SKIP_MAPPING=TRUE "$TOOLS/bin/checkov" -d deploy --framework kubernetes dockerfile --compact --quiet \
  --skip-download
PYTHONPATH="$PWD" .venv/bin/python -m pytest -q -p no:cacheprovider tests/prod/test_deploy_manifests.py
