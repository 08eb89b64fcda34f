"""What preview records and checks is what the cluster gets: renders at the cluster's Kubernetes
and API versions without hook objects (also when helmlife falls back to `helm template`), and
every rendered object passed through the API server's dry run. Charts shaped like an ingress
controller and an operator, written under tests/e2e/charts; real CLI, real cluster."""
from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.e2e.conftest import ROOT, TOOLS, Cluster, Project, chart
from helmlife.kube import read_or_none
from helmlife.steps.base import unwrap

pytestmark = pytest.mark.e2e
INGRESS = str(ROOT / "tests" / "e2e" / "charts" / "ingress-shape")
OPERATOR = str(ROOT / "tests" / "e2e" / "charts" / "hooked-operator")


def pre_existing_configmap(cluster: Cluster, ns: str, name: str) -> None:
    """A ConfigMap made outside Helm, as a cluster often has for an ingress controller."""
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name),
                                                             data={"proxy-body-size": "8m"}))


def helm_get(cluster: Cluster, what: str, release: str, ns: str) -> dict[str, dict[str, Any]]:
    """`helm get manifest|hooks`: Helm's own record, as "Kind/name" -> object."""
    out = subprocess.run([str(TOOLS / "bin" / "helm"), "get", what, release, "-n", ns, "--kubeconfig",
                          str(cluster.kubeconfig)], check=True, capture_output=True, text=True).stdout
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(out) if d}


def previewed_manifest(project: Project, release: str) -> dict[str, dict[str, Any]]:
    """What `pulumi preview` rendered for the release (pre_exec's manifest, compared against
    Helm's record by the next preview), as "Kind/name" -> object."""
    preview = json.loads(project.cli("preview", "--stack", "t", "--json", "--non-interactive"))
    step = next(s for s in preview["steps"] if s["urn"].endswith(f"::{release}-pre-exec"))
    manifest = unwrap(step["newState"]["inputs"])["manifest"]
    return {f"{k.split('/')[0]}/{k.split('/')[-1]}": v for k, v in manifest.items()}


def test_a_chart_with_a_kubernetes_floor_and_adopt_previews_and_deploys(project: Project, cluster: Cluster) -> None:
    """ingress-shape declares kubeVersion >=1.25.0-0; with adopt: set, preview renders with
    `helm template`, which without the cluster's version assumed v1.20 and refused the chart."""
    ns = project.namespace
    pre_existing_configmap(cluster, ns, "edge-controller")
    project.write_stack("t", [chart("edge", ns, INGRESS, adopt=["ConfigMap/edge-controller"])])
    preview = project.preview("t")
    assert preview.ok, preview.output
    assert "incompatible with Kubernetes" not in preview.output
    previewed = previewed_manifest(project, "edge")

    up = project.up("t")
    assert up.ok, up.output
    assert cluster.deployed_revision(ns, "edge") == 1
    adopted = client.CoreV1Api(cluster.api).read_namespaced_config_map("edge-controller", ns)
    assert adopted.metadata.annotations["meta.helm.sh/release-name"] == "edge"
    assert adopted.data == {"proxy-body-size": "1m"}  # the chart's value, applied by helm
    assert sorted(previewed) == sorted(helm_get(cluster, "manifest", "edge", ns))
    # no false diff: the first refresh after the clean install changes nothing, nor does a preview
    refresh = project.run("refresh", "t")
    assert refresh.ok and refresh.changes == {}, refresh.output
    assert project.preview("t").changes == {}


@pytest.mark.parametrize("adopt", [True, False], ids=["helm-template", "upgrade-dry-run"])
def test_a_value_of_the_wrong_type_fails_preview_naming_object_and_field(project: Project, cluster: Cluster,
                                                                         adopt: bool) -> None:
    """ingress-shape has no values schema: `replicaCount: two` reaches the Deployment. The API
    server's dry run refuses it at preview, nothing is applied, and `up` stops before any step.
    With adopt: (and its live ConfigMap) preview renders with `helm template`; without, the
    namespace does not exist yet either."""
    ns = project.namespace
    if adopt:
        pre_existing_configmap(cluster, ns, "edge-controller")
    spec = dict(values=[{"key": "controller.replicaCount", "value": "two"}],
                adopt=["ConfigMap/edge-controller"] if adopt else [])
    project.write_stack("t", [chart("edge", ns, INGRESS, **spec)])
    preview = project.preview("t")
    assert not preview.ok
    assert f"edge: pre_exec: chart {INGRESS}" in preview.output, preview.output
    assert f"Deployment/{ns}/edge-controller" in preview.output and "spec.replicas" in preview.output, preview.output

    up = project.up("t")
    assert not up.ok and f"Deployment/{ns}/edge-controller" in up.output, up.output
    # `up --skip-preview`: pre_exec's run waits for the render its check started and fails before
    # its hooks, the namespace, the adoption or the Release (a plain `pulumi up` fails at its preview).
    assert project.steps() == [("pre_exec", "create")], "nothing may run before the objects pass"
    assert cluster.release_secrets(ns, "edge") == []
    if not adopt:
        assert read_or_none(client.CoreV1Api(cluster.api).read_namespace, ns) is None
    if adopt:
        cm = client.CoreV1Api(cluster.api).read_namespaced_config_map("edge-controller", ns)
        assert "meta.helm.sh/release-name" not in (cm.metadata.annotations or {})  # not adopted


def test_an_operator_chart_records_what_helm_installs(project: Project, cluster: Cluster) -> None:
    """hooked-operator: a custom resource of its own CRD (so preview renders with `helm
    template`), a post-install hook and fields rendered from .Capabilities. What preview
    renders is Helm's release manifest: a refresh after a clean install changes nothing, and the
    next change shows only the object it changes."""
    ns = project.namespace
    project.write_stack("t", [chart("op", ns, OPERATOR)])
    assert (preview := project.preview("t")).ok, preview.output
    recorded = previewed_manifest(project, "op")
    assert (up := project.up("t")).ok, up.output
    installed, hooks = helm_get(cluster, "manifest", "op", ns), helm_get(cluster, "hooks", "op", ns)
    assert "ConfigMap/op-post-install" in hooks and "ConfigMap/op-post-install" not in installed
    assert sorted(recorded) == sorted(installed)
    version = client.VersionApi(cluster.api).get_code().git_version
    capabilities = recorded["ConfigMap/op-capabilities"]["data"]
    assert capabilities == installed["ConfigMap/op-capabilities"]["data"]
    assert capabilities["kubeVersion"] == version and capabilities["engineApi"] == "true"

    refresh = project.run("refresh", "t")
    assert refresh.ok and refresh.changes == {}, refresh.output
    assert project.preview("t").changes == {}

    project.write_stack("t", [chart("op", ns, OPERATOR, values=[{"key": "message", "value": "changed"}])])
    preview = json.loads(project.cli("preview", "--stack", "t", "--json", "--non-interactive"))
    step = next(s for s in preview["steps"] if s["urn"].endswith("::op-pre-exec"))
    # after `up`, the reference is Helm's record: the preview shows it as manifest_before
    old, new = (unwrap(step["newState"]["inputs"])[key] for key in ("manifest_before", "manifest"))
    assert sorted(old) == sorted(new)
    assert [k for k in old if old[k] != new[k]] == [f"ConfigMap/{ns}/op-settings"]
