"""CRDs of charts shaped like the real community ones: YAML only Helm reads, CRDs in sub-charts
and templates, a destroy refused before anything is removed, CRD upgrades. Real CLI, real
cluster; every chart is written here, under charts/."""
from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from kubernetes import client

from charts.repo_server import build_repo, serve_repo
from helmlife import helm_yaml
from tests.e2e.conftest import ROOT, Cluster, Project, chart, step_state

pytestmark = pytest.mark.e2e
# Literal names, as the chart's crds/ files declare them (not crds.chart_crds: the code under test).
BIG = {f"{plural}.big.helmlife.dev" for plural in (
    "backups", "clusters", "databases", "imagecatalogs", "nodes", "poolers", "publications", "restores",
    "scheduledbackups", "subscriptions")}
UMBRELLA = {"umbrellas.umbrella.helmlife.dev", "volumes.storage.helmlife.dev", "snapshots.backup.helmlife.dev"}
DISABLED = {"probes.metrics.helmlife.dev", "addons.extras.helmlife.dev"}
OPERATOR = {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"}
TEMPLATED = "templated.helmlife.dev"


def owned_crds(project: Project, release: str, stack: str = "t") -> list[str]:
    return step_state(project, stack, release, "pre_exec")["outputs"]["owned_crds"]


def objects(cluster: Cluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api)


def create(cluster: Cluster, group: str, plural: str, kind: str, ns: str, name: str) -> None:
    objects(cluster).create_namespaced_custom_object(group, "v1", ns, plural, {
        "apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": name}, "spec": {}})


def release_intact(cluster: Cluster, ns: str, release: str) -> bool:
    return cluster.deployed_revision(ns, release) == 1 and cluster.deployment(ns, release) is not None


@pytest.fixture
def chart_repo(tmp_path: Path) -> Iterator[str]:
    """A chart repository serving umbrella-operator 1.0.0 and broken-operator 1.0.0 (a copy
    with one CRD file that no YAML parser, Helm's included, can read)."""
    src = tmp_path / "repo-src"
    shutil.copytree(ROOT / "charts" / "umbrella-operator", src / "umbrella-operator" / "1.0.0")
    broken = src / "broken-operator" / "1.0.0"
    shutil.copytree(ROOT / "charts" / "umbrella-operator", broken)
    (broken / "Chart.yaml").write_text((broken / "Chart.yaml").read_text().replace("name: umbrella-operator",
                                                                                 "name: broken-operator"))
    (broken / "charts" / "storage" / "crds" / "extra.yaml").write_text("kind: [unclosed\n")
    build_repo(tmp_path / "repo", src)
    url, stop = serve_repo(tmp_path / "repo")
    yield url
    stop()


def test_crds_with_yaml_only_helm_reads_are_owned_and_removed(project: Project, cluster: Cluster) -> None:
    """big-operator: ten large CRDs, an unquoted `- =` among their enums (PyYAML's safe loader
    refused it and preview died naming neither chart nor file)."""
    ns = project.namespace
    declared = set(re.findall(r"^  name: (\S+)$", "".join(
        p.read_text() for p in (ROOT / "charts" / "big-operator" / "crds").glob("*.yaml")), re.M))
    assert declared == BIG, declared  # the chart still ships exactly these
    assert not BIG & cluster.crd_names()
    project.write_stack("t", [chart("big", ns, "charts/big-operator")])
    preview = project.preview("t")
    assert preview.ok, preview.output
    assert (r := project.up("t")).ok, r.output
    assert sorted(owned_crds(project, "big")) == sorted(BIG) and BIG <= cluster.crd_names()
    assert (r := project.destroy("t")).ok, r.output
    assert not BIG & cluster.crd_names()


def test_an_unreadable_crd_file_fails_preview_naming_chart_and_file(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    broken = project.root / "charts" / "broken-operator"
    shutil.copytree(project.root / "charts" / "umbrella-operator", broken)
    (broken / "charts" / "storage" / "crds" / "extra.yaml").write_text("kind: [unclosed\n")
    project.write_stack("t", [chart("broken", ns, "charts/broken-operator")])
    r = project.preview("t")
    assert not r.ok
    assert "broken: pre_exec: charts/broken-operator/charts/storage/crds/extra.yaml: not valid YAML" in r.output, r.output
    assert not (UMBRELLA & cluster.crd_names())


def test_repository_chart_crds_are_read_from_the_pulled_chart(project: Project, cluster: Cluster,
                                                              chart_repo: str) -> None:
    """A repository chart: its CRDs (sub-charts' included, `- =` enums too) are read from the
    pulled chart; one that helm could not parse fails preview, not `up` halfway."""
    ns = project.namespace
    project.write_stack("t", [chart("broken", ns, {"repo": chart_repo, "name": "broken-operator", "version": "1.0.0"})])
    r = project.preview("t")
    assert not r.ok
    assert "broken-operator-1.0.0/charts/storage/crds/extra.yaml: not valid YAML" in r.output, r.output

    project.write_stack("t", [chart("umbrella", ns, {"repo": chart_repo, "name": "umbrella-operator", "version": "1.0.0"})])
    assert (r := project.preview("t")).ok, r.output
    assert (r := project.up("t")).ok, r.output
    assert sorted(owned_crds(project, "umbrella")) == sorted(UMBRELLA)
    assert (r := project.destroy("t")).ok, r.output
    assert not UMBRELLA & cluster.crd_names()


def test_sub_chart_crds_are_owned_and_disabled_ones_left_alone(project: Project, cluster: Cluster) -> None:
    """umbrella-operator: CRDs in its crds/, in an enabled sub-chart, in an aliased sub-chart
    packaged as .tgz; the sub-charts disabled by a condition and by a tag own nothing, even
    when their CRD exists in the cluster (installed by someone else)."""
    ns = project.namespace
    subcharts = project.root / "charts" / "umbrella-operator" / "charts"
    with tarfile.open(subcharts / "backup-0.1.0.tgz", "w:gz") as tar:
        tar.add(subcharts / "backup", arcname="backup")
    shutil.rmtree(subcharts / "backup")
    probes = helm_yaml.load((subcharts / "metrics" / "crds" / "probes.metrics.helmlife.dev.yaml").read_text())
    client.ApiextensionsV1Api(cluster.api).create_custom_resource_definition(probes)
    try:
        project.write_stack("t", [chart("umbrella", ns, "charts/umbrella-operator")])
        assert (r := project.up("t")).ok, r.output
        assert sorted(owned_crds(project, "umbrella")) == sorted(UMBRELLA)
        live = cluster.crd_names()
        assert UMBRELLA <= live and "addons.extras.helmlife.dev" not in live  # helm agrees
        assert (r := project.destroy("t")).ok, r.output
        live = cluster.crd_names()
        assert not UMBRELLA & live
        assert "probes.metrics.helmlife.dev" in live  # not the chart's to delete
    finally:
        client.ApiextensionsV1Api(cluster.api).delete_custom_resource_definition("probes.metrics.helmlife.dev")


def test_template_crds_are_not_uninstalled_with_custom_resources(project: Project, cluster: Cluster) -> None:
    """templated-crds: `helm uninstall` deletes its template CRD (Gizmo) and every Gizmo with it.
    The Sprocket the chart itself creates does not count: the uninstall deletes it first."""
    ns = project.namespace
    project.write_stack("t", [chart("tpl", ns, "charts/templated-crds")])
    assert (r := project.up("t")).ok, r.output
    assert {f"gizmos.{TEMPLATED}", f"sprockets.{TEMPLATED}"} <= cluster.crd_names()
    assert owned_crds(project, "tpl") == [f"sprockets.{TEMPLATED}"]  # the template CRD is the release's
    create(cluster, TEMPLATED, "gizmos", "Gizmo", ns, "mine")

    refused = project.destroy("t")
    assert not refused.ok
    assert "refusing to delete CRDs that still hold custom resources" in refused.output
    assert f"gizmos.{TEMPLATED}: Gizmo/{ns}/mine" in refused.output, refused.output
    assert "Nothing was uninstalled or deleted" in refused.output
    assert cluster.deployed_revision(ns, "tpl") == 1
    assert objects(cluster).get_namespaced_custom_object(TEMPLATED, "v1", ns, "gizmos", "mine")

    objects(cluster).delete_namespaced_custom_object(TEMPLATED, "v1", ns, "gizmos", "mine")
    assert (r := project.destroy("t")).ok, r.output
    assert not {f"gizmos.{TEMPLATED}", f"sprockets.{TEMPLATED}"} & cluster.crd_names()
    assert cluster.release_secrets(ns, "tpl") == []


def test_a_refused_destroy_removes_nothing(project: Project, cluster: Cluster) -> None:
    """validate's delete checks the CRDs pre_exec's delete would remove before the Release uninstalls: a refusal
    leaves the application running. With `action: destroy` preview already says so."""
    ns = project.namespace
    op = chart("op", ns, "charts/demo-operator/1.0.0")
    project.write_stack("t", [op])
    assert (r := project.up("t")).ok, r.output
    create(cluster, "demo.helmlife.dev", "widgets", "Widget", ns, "keep-me")

    project.write_stack("t", [{**op, "action": "destroy"}])
    preview = project.preview("t")
    assert not preview.ok
    assert "widgets.demo.helmlife.dev: " in preview.output and f"Widget/{ns}/keep-me" in preview.output, preview.output
    up = project.up("t")
    assert not up.ok and "Nothing was uninstalled or deleted" in up.output, up.output
    assert release_intact(cluster, ns, "op") and OPERATOR <= cluster.crd_names()

    down = project.destroy("t")
    assert not down.ok and "refusing to delete CRDs that still hold custom resources" in down.output
    assert release_intact(cluster, ns, "op") and OPERATOR <= cluster.crd_names()

    objects(cluster).delete_namespaced_custom_object("demo.helmlife.dev", "v1", ns, "widgets", "keep-me")
    assert (r := project.up("t")).ok, r.output  # action: destroy goes through now
    assert cluster.release_secrets(ns, "op") == [] and not OPERATOR & cluster.crd_names()


def test_a_renamed_release_keeps_its_crds_and_their_objects(project: Project, cluster: Cluster) -> None:
    """A rename replaces the release, not the CRDs: the old release's uninstall must not be
    refused for CRDs the new release now owns; its destroy then checks them."""
    ns = project.namespace
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0")])
    assert (r := project.up("t")).ok, r.output
    create(cluster, "demo.helmlife.dev", "widgets", "Widget", ns, "keep-me")

    project.write_stack("t", [chart("op2", ns, "charts/demo-operator/1.0.0")])
    assert (r := project.up("t")).ok, r.output
    assert cluster.release_secrets(ns, "op") == [] and cluster.deployed_revision(ns, "op2") == 1
    assert OPERATOR <= cluster.crd_names()

    refused = project.destroy("t")
    assert not refused.ok and f"Widget/{ns}/keep-me" in refused.output
    assert cluster.deployed_revision(ns, "op2") == 1
    objects(cluster).delete_namespaced_custom_object("demo.helmlife.dev", "v1", ns, "widgets", "keep-me")
    assert (r := project.destroy("t")).ok, r.output
    assert not OPERATOR & cluster.crd_names()


def printer_columns(cluster: Cluster) -> list[Any]:
    crd = client.ApiextensionsV1Api(cluster.api).read_custom_resource_definition("widgets.demo.helmlife.dev")
    return [c.name for c in crd.spec.versions[0].additional_printer_columns or []]


@pytest.mark.parametrize("mode", ["skip", "apply"])
def test_crd_upgrade(project: Project, cluster: Cluster, mode: str) -> None:
    """demo-operator 2.0.0's Widget CRD gains printer columns; 1.0.0 -> 2.0.0 crosses its breaking
    version, so the release is reinstalled. Helm leaves the existing CRD alone (skip); apply
    brings it to 2.0.0."""
    ns = project.namespace
    spec = dict(last_breaking_version_requiring_restart="2.0.0", force_crd_deletion=True, crd_upgrade=mode)
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", **spec)])
    assert (r := project.up("t")).ok, r.output
    assert printer_columns(cluster) == []
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/2.0.0", **spec)])
    assert (r := project.up("t")).ok, r.output
    assert "crosses breaking version 2.0.0" in r.output
    assert printer_columns(cluster) == ([] if mode == "skip" else ["Size", "Age"])
