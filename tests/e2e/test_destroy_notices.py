"""What a destroy will do to CRDs is said before it happens: CRDs a chart keeps
(`helm.sh/resource-policy: keep`) are named at preview and at destroy, and with `action:
destroy` preview already refuses while custom resources remain. Charts shaped like a
certificate controller (template CRDs kept by default) and an operator (its CRD in crds/, a
custom resource of it among its templates), written under tests/e2e/charts."""
from __future__ import annotations

from typing import Iterator

import pytest
from kubernetes import client

from tests.e2e.conftest import ROOT, Cluster, Project, chart

pytestmark = pytest.mark.e2e
KEPT = str(ROOT / "tests" / "e2e" / "charts" / "kept-crds")
OPERATOR = str(ROOT / "tests" / "e2e" / "charts" / "hooked-operator")
KEPT_CRDS = ["certificates.kept.helmlife.dev", "issuers.kept.helmlife.dev"]  # templates/crds.yaml


def custom(cluster: Cluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api)


@pytest.fixture
def kept_crds_removed(cluster: Cluster) -> Iterator[None]:
    """The kept CRDs outlive the release by design; the test removes them when it is done."""
    yield
    for name in KEPT_CRDS:
        try:
            client.ApiextensionsV1Api(cluster.api).delete_custom_resource_definition(name)
        except client.exceptions.ApiException:
            pass


def test_crds_kept_by_resource_policy_are_named_at_preview_and_destroy(project: Project, cluster: Cluster,
                                                                       kept_crds_removed: None) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("certs", ns, KEPT)])
    project.stack("t")
    shown = project.cli("preview", "--stack", "t", "--non-interactive")  # as a user sees it
    assert "helm.sh/resource-policy: keep will stay in the cluster after a destroy" in shown, shown
    assert all(name in shown for name in KEPT_CRDS), shown
    diff = project.preview("t")  # --diff leaves out the provider's log; the release's plan says it
    assert f"a destroy keeps CRDs {', '.join(KEPT_CRDS)} (helm.sh/resource-policy: keep)" in diff.output, diff.output

    assert (up := project.up("t")).ok, up.output
    custom(cluster).create_namespaced_custom_object("kept.helmlife.dev", "v1", ns, "certificates", {
        "apiVersion": "kept.helmlife.dev/v1", "kind": "Certificate", "metadata": {"name": "site"}, "spec": {}})

    project.write_stack("t", [chart("certs", ns, KEPT, action="destroy")])
    shown = project.cli("preview", "--stack", "t", "--non-interactive")
    assert "helm.sh/resource-policy: keep will stay in the cluster after a destroy" in shown, shown
    assert f"certificates.kept.helmlife.dev (holding Certificate/{ns}/site)" in shown, shown

    down = project.destroy("t")
    assert down.ok, down.output
    # Said by validate's delete, before the Release's uninstall (docs/design.md, CRDs a chart keeps).
    assert "helm.sh/resource-policy: keep will stay in the cluster after a destroy" in down.output, down.output
    assert f"certificates.kept.helmlife.dev (holding Certificate/{ns}/site)" in down.output, down.output
    assert "issuers.kept.helmlife.dev" in down.output
    assert cluster.release_secrets(ns, "certs") == []
    assert set(KEPT_CRDS) <= cluster.crd_names()  # what the message says is true
    assert custom(cluster).get_namespaced_custom_object("kept.helmlife.dev", "v1", ns, "certificates", "site")


def test_action_destroy_preview_refuses_for_an_operators_custom_resources(project: Project,
                                                                         cluster: Cluster) -> None:
    """The chart's own Engine (a template) goes with the uninstall and does not count; one a user
    made does, and preview names it, before anything runs."""
    ns = project.namespace
    project.write_stack("t", [chart("op", ns, OPERATOR)])
    assert (up := project.up("t")).ok, up.output
    custom(cluster).create_namespaced_custom_object("hooked.helmlife.dev", "v1", ns, "engines", {
        "apiVersion": "hooked.helmlife.dev/v1", "kind": "Engine", "metadata": {"name": "mine"}, "spec": {}})

    project.write_stack("t", [chart("op", ns, OPERATOR, action="destroy")])
    preview = project.preview("t")
    assert not preview.ok
    assert "refusing to delete CRDs that still hold custom resources" in preview.output, preview.output
    assert f"engines.hooked.helmlife.dev: Engine/{ns}/mine" in preview.output, preview.output
    assert f"Engine/{ns}/op-default" not in preview.output
    assert cluster.deployed_revision(ns, "op") == 1

    custom(cluster).delete_namespaced_custom_object("hooked.helmlife.dev", "v1", ns, "engines", "mine")
    assert (preview := project.preview("t")).ok, preview.output
    assert (up := project.up("t")).ok, up.output
    assert cluster.release_secrets(ns, "op") == [] and "engines.hooked.helmlife.dev" not in cluster.crd_names()
