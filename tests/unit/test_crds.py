"""Which CRDs a chart installs, read as Helm reads them (helmlife.crds, helmlife.helm_yaml)."""
from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from helmlife import crds, helm_yaml

ROOT = Path(__file__).resolve().parents[2]
UMBRELLA = ROOT / "charts" / "umbrella-operator"
UMBRELLA_DEFAULT = {"umbrellas.umbrella.helmlife.dev", "volumes.storage.helmlife.dev", "snapshots.backup.helmlife.dev"}


def names(root: Path, values: dict | None = None) -> set[str]:
    return {c.name for c in crds.chart_crds(root, values or {})}


def package(chart: Path, dest: Path) -> Path:
    """A .tgz laid out as `helm package` writes it: every path under `<name>/`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(chart, arcname=chart.name)
    dest.write_bytes(buf.getvalue())
    return dest


def test_yaml_scalars_as_go_yaml_reads_them() -> None:
    doc = helm_yaml.load("ops: [=, ==, '!=']\nwhen: 2001-12-14\nflag: yes\nn: 010\n")
    assert doc == {"ops": ["=", "==", "!="], "when": "2001-12-14", "flag": True, "n": 8}


def test_big_operator_crds_parse_with_their_enum_token() -> None:
    found = crds.chart_crds(ROOT / "charts" / "big-operator", {})
    assert len(found) == 10
    assert any("- =\n" in path.read_text() for path in (ROOT / "charts" / "big-operator" / "crds").iterdir())


def test_sub_chart_crds_follow_conditions_tags_and_aliases() -> None:
    assert names(UMBRELLA) == UMBRELLA_DEFAULT  # metrics: condition false; extras: tag false
    assert "probes.metrics.helmlife.dev" in names(UMBRELLA, {"metrics": {"enabled": True}})
    assert "addons.extras.helmlife.dev" in names(UMBRELLA, {"tags": {"extras": True}})
    # The sub-chart's own default (storage/values.yaml enabled: true) is what the condition reads.
    assert "volumes.storage.helmlife.dev" not in names(UMBRELLA, {"storage": {"enabled": False}})
    # backup is aliased `snapshots`: its condition and values live under the alias.
    assert "snapshots.backup.helmlife.dev" not in names(UMBRELLA, {"snapshots": {"enabled": False}})


def test_a_condition_overrides_tags() -> None:
    cvals = {"tags": {"t": False}, "sub": {"on": True}}
    assert crds.enabled({"tags": ["t"], "condition": "sub.on"}, cvals, "")
    assert not crds.enabled({"tags": ["t"]}, cvals, "")
    assert crds.enabled({"tags": ["t", "u"]}, {"tags": {"t": False, "u": True}}, "")
    assert crds.enabled({"condition": "missing.path,sub.on"}, cvals, "")  # the first path holding a boolean


def test_packaged_sub_charts_and_packaged_charts(tmp_path: Path) -> None:
    chart = tmp_path / "umbrella-operator"
    shutil.copytree(UMBRELLA, chart)
    package(chart / "charts" / "backup", chart / "charts" / "backup-0.1.0.tgz")
    shutil.rmtree(chart / "charts" / "backup")
    assert names(chart) == UMBRELLA_DEFAULT
    assert names(package(chart, tmp_path / "umbrella-operator-1.0.0.tgz")) == UMBRELLA_DEFAULT


def test_an_unparseable_crd_file_is_named(tmp_path: Path) -> None:
    chart = tmp_path / "broken"
    shutil.copytree(UMBRELLA, chart)
    (chart / "charts" / "storage" / "crds" / "bad.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(crds.ChartFileError, match=r"charts/broken/charts/storage/crds/bad\.yaml: not valid YAML"):
        crds.chart_crds(chart, {}, origin="charts/broken")


def test_the_digest_follows_the_content(tmp_path: Path) -> None:
    chart = tmp_path / "umbrella-operator"
    shutil.copytree(UMBRELLA, chart)
    before = crds.digest(crds.chart_crds(chart, {}))
    (chart / "templates" / "configmap.yaml").write_text("# templates do not count\n")
    assert crds.digest(crds.chart_crds(chart, {})) == before
    path = chart / "crds" / "umbrellas.umbrella.helmlife.dev.yaml"
    path.write_text(path.read_text().replace("served: true", "served: false"))
    assert crds.digest(crds.chart_crds(chart, {})) != before


def test_what_an_uninstall_deletes_from_a_manifest() -> None:
    from helmlife.kube import manifest_objects

    manifest = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.x.io}
spec: {versions: [{name: v1, schema: {openAPIV3Schema: {enum: [=]}}}]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: kept.x.io, annotations: {helm.sh/resource-policy: keep}}
---
apiVersion: x.io/v1
kind: Gizmo
metadata: {name: default}
"""
    assert [str(r) for r in manifest_objects(manifest, "ns")] == [
        "CustomResourceDefinition/ns/gizmos.x.io", "CustomResourceDefinition/ns/kept.x.io", "Gizmo/ns/default"]
    assert [r.name for r in manifest_objects(manifest, "ns", uninstalled_only=True)] == ["gizmos.x.io", "default"]


def test_a_document_with_null_metadata_is_not_an_object() -> None:
    from helmlife.kube import manifest_objects

    manifest = "kind: ConfigMap\nmetadata:\n---\nkind: ConfigMap\nmetadata:\n  name: kept\n"
    assert [r.name for r in manifest_objects(manifest, "ns")] == ["kept"]
