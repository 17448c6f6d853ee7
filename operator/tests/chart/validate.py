#!/usr/bin/env python3
"""Lint and render charts/akidb-operator with helm-python-sdk (Helm's Go SDK), then validate every
rendered object, the chart's CRDs and every sample in config/samples/ against the Kubernetes
schemas (kubernetes-validate) and, for AkiDB kinds, the CRDs' openAPIV3Schema (jsonschema).

Exits non-zero with one line per problem. Run from anywhere: paths are relative to this file.
Called by operator/tests/chart.rs; dependencies come from .ci/operator-deps.sh.
"""
from __future__ import annotations

import copy
import pathlib
import sys

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "akidb-operator"
K8S_VERSION = "1.32"
# Kinds whose schema is not in kubernetes-validate and has no CRD here; checked structurally.
FOREIGN_KINDS = {"ServiceMonitor"}

problems: list[str] = []


def crd_schemas() -> dict[str, dict]:
    out = {}
    for path in sorted((REPO / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        kind = crd["spec"]["names"]["kind"]
        out[kind] = strict_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    return out


def strict_schema(s: dict) -> dict:
    """OpenAPI v3 (Kubernetes flavour) to JSON Schema: `nullable` becomes a null type, and objects
    with declared properties reject unknown fields (as `kubectl apply`'s strict field validation does)."""
    s = copy.deepcopy(s)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        for key in list(node):
            if key.startswith("x-kubernetes-"):
                node.pop(key)
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for child in node.get("properties", {}).values():
            walk(child)
        if isinstance(node.get("items"), dict):
            walk(node["items"])
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"])

    walk(s)
    s["properties"].update({"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}})
    return s


def validate(doc: dict, where: str, schemas: dict[str, dict]) -> None:
    kind = doc.get("kind")
    if kind in schemas:
        if doc.get("apiVersion") != "akidb.io/v1alpha1":
            problems.append(f"{where}: {kind} must be akidb.io/v1alpha1")
        for err in jsonschema.Draft7Validator(schemas[kind]).iter_errors(doc):
            path = "/".join(str(p) for p in err.absolute_path)
            problems.append(f"{where}: {kind} {path}: {err.message}")
        return
    if kind in FOREIGN_KINDS:
        if not doc.get("spec", {}).get("endpoints"):
            problems.append(f"{where}: {kind} without endpoints")
        return
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = "/".join(str(p) for p in e.path)
        problems.append(f"{where}: {kind} {path}: {e.message}")
    except kubernetes_validate.SchemaNotFoundError as e:
        problems.append(f"{where}: no schema for {kind}: {e}")


def docs(text: str):
    return [d for d in yaml.safe_load_all(text) if d]


def lint(values_file: pathlib.Path | None) -> None:
    values = yaml.safe_load(values_file.read_text()) if values_file else None
    report = helm.lint(str(CHART), values, strict=True, kube_version="v1.32.0")
    for m in report.get("messages", []):
        if m["severity"] >= 2:
            problems.append(f"helm lint ({values_file or 'defaults'}): {m['path']}: {m['error']}")
    for e in report.get("errors", []):
        problems.append(f"helm lint ({values_file or 'defaults'}): {e}")


def render(values_file: pathlib.Path | None, schemas: dict[str, dict]) -> list[dict]:
    values = yaml.safe_load(values_file.read_text()) if values_file else None
    chart = helm.Chart.load(str(CHART))
    rendered = chart.render(values, name="akidb", namespace="akidb-system", is_install=True)
    objects = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            if "kubectl" not in text:
                problems.append(f"{path}: NOTES.txt renders empty")
            continue
        for doc in docs(text):
            validate(doc, f"{path} ({values_file.name if values_file else 'defaults'})", schemas)
            objects.append(doc)
    for crd in chart.crds:
        for doc in docs(crd["data"]):
            validate(doc, f"chart crds/{crd['filename']}", schemas)
    return objects


def check_default_render(objects: list[dict]) -> None:
    kinds = sorted(o["kind"] for o in objects)
    want = sorted(["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"])
    if kinds != want:
        problems.append(f"default render has {kinds}, expected {want}")


def check_full_render(objects: list[dict]) -> None:
    kinds = {o["kind"] for o in objects}
    if "ServiceMonitor" not in kinds:
        problems.append("full values must render the ServiceMonitor")
    bindings = [o for o in objects if o["kind"] == "RoleBinding" and o["roleRef"]["kind"] == "ClusterRole"]
    if not bindings or bindings[0]["metadata"].get("namespace") != "vectors":
        problems.append("watchNamespace must bind the ClusterRole in that namespace only")


def main() -> int:
    schemas = crd_schemas()
    lint(None)
    lint(CHART / "ci" / "full-values.yaml")
    check_default_render(render(None, schemas))
    check_full_render(render(CHART / "ci" / "full-values.yaml", schemas))
    samples = sorted((REPO / "config" / "samples").glob("*.yaml"))
    if not samples:
        problems.append("no samples in config/samples")
    for path in samples:
        for doc in docs(path.read_text()):
            validate(doc, str(path.relative_to(REPO)), schemas)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
