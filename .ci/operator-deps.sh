#!/usr/bin/env bash
# Installs what the operator's tests need beyond cargo (idempotent; called from .ci/run):
#   - helm-python-sdk: Helm's Go SDK as a Python library (helm lint + template render of the chart)
#   - kubernetes-validate: Kubernetes OpenAPI schemas, to validate rendered objects and samples
#   - PyYAML, jsonschema: reading manifests and checking AkiDB objects against the CRD schemas
# The Lua health-check tests need nothing here: mlua vendors Lua 5.1 and builds it with cc.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
PACKAGES=(
  "helm-python-sdk==0.2.2"
  "kubernetes-validate==1.34.1"
  "PyYAML>=6,<7"
  "jsonschema>=4.17,<5"
)

if "$PYTHON" - <<'PY' 2>/dev/null; then
import importlib.metadata as m
want = {"helm-python-sdk": "0.2.2", "kubernetes-validate": "1.34.1"}
ok = all(m.version(k) == v for k, v in want.items())
import yaml, jsonschema  # noqa: F401
raise SystemExit(0 if ok else 1)
PY
  echo "operator-deps: Python packages already installed"
else
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"
fi

"$PYTHON" -c "import helm_python, kubernetes_validate, yaml, jsonschema; print('operator-deps: helm SDK', helm_python.helm_sdk_version())"
