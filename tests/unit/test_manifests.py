"""Manifests as diffable maps: keys, masking markers, change lists and the summary block."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from helmlife import manifests
from helmlife.preview_summary import Chart, Step, manifest_block

MANIFEST = """\
---
apiVersion: v1
kind: Secret
metadata: {name: app-auth}
stringData: {token: s3cr3t-value}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: other}
spec:
  replicas: 1
  template: {metadata: {annotations: {note: "hello s3cr3t-value"}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
"""


def test_keys_name_kind_namespace_and_name() -> None:
    assert sorted(manifests.objects(MANIFEST, "ns")) == ["ClusterRole/reader", "Deployment/other/app",
                                                        "Secret/ns/app-auth"]


def test_secret_data_and_secret_values_are_masked() -> None:
    masked = manifests.mask(manifests.objects(MANIFEST, "ns"), ["s3cr3t-value"])
    assert masked["Secret/ns/app-auth"]["stringData"]["token"] == "[secret #1]"
    assert masked["Deployment/other/app"]["spec"]["template"]["metadata"]["annotations"]["note"] == "[secret #1]"
    assert masked["Deployment/other/app"]["spec"]["replicas"] == 1
    assert "s3cr3t-value" not in repr(masked)


def test_markers_stay_while_the_value_stays_and_move_when_it_changes() -> None:
    deployed = manifests.objects(MANIFEST, "ns")
    stored = manifests.mask(deployed, ["s3cr3t-value"])
    again = manifests.mask(deployed, ["s3cr3t-value"], deployed, stored)
    assert again == stored  # no diff between previews of an unchanged release
    changed = manifests.objects(MANIFEST.replace("token: s3cr3t-value", "token: n3w-value"), "ns")
    after = manifests.mask(changed, ["n3w-value", "s3cr3t-value"], deployed, stored)
    assert after["Secret/ns/app-auth"]["stringData"]["token"] == "[secret #2]"
    assert after["Deployment/other/app"] == stored["Deployment/other/app"]
    assert manifests.changes(stored, after) == [("~", "Secret/ns/app-auth")]


def test_short_secret_values_are_not_used_to_mask() -> None:
    assert manifests.secret_strings({"a": "on", "b": {"c": 8080, "d": "longer"}}) == ["8080", "longer"]


def test_changes_are_in_kind_namespace_name_order() -> None:
    old = {"Service/a/x": {"v": 1}, "Deployment/b/y": {"v": 1}, "Deployment/a/z": {"v": 1}}
    new = {"Deployment/b/y": {"v": 2}, "Deployment/a/z": {"v": 1}, "ConfigMap/a/w": {}}
    assert manifests.changes(old, new) == [("+", "ConfigMap/a/w"), ("~", "Deployment/b/y"), ("-", "Service/a/x")]


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(), max_size=4),
       st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(), max_size=4))
def test_changes_cover_exactly_the_differing_keys(old: dict[str, int], new: dict[str, int]) -> None:
    wrap = {k: {"v": v} for k, v in old.items()}, {k: {"v": v} for k, v in new.items()}
    found = {k for _, k in manifests.changes(*wrap)}
    assert found == {k for k in old.keys() | new.keys() if old.get(k) != new.get(k) or (k in old) != (k in new)}


def test_summary_block_lists_objects_and_diffs_and_stays_within_budget() -> None:
    old = {"Deployment/ns/app": {"spec": {"replicas": 1}}, "Service/ns/app": {"spec": {}}}
    new = {"Deployment/ns/app": {"spec": {"replicas": 2}}, "ConfigMap/ns/app": {"data": {}}}
    # pre_exec records the render as `manifest` (the Release itself has no rendered objects in its inputs).
    chart = Chart("app", steps={"pre_exec": Step("pre_exec", "update", old_inputs={"manifest": old},
                                                 new_inputs={"manifest": new})})
    block = manifest_block(chart)
    assert block is not None and "<details><summary><code>app</code>: 1 added, 1 removed, 1 changed</summary>" in block
    assert "+ ConfigMap/ns/app\n~ Deployment/ns/app\n" in block and "-  replicas: 1\n+  replicas: 2" in block
    big = {f"ConfigMap/ns/c{i}": {"data": {"k": "v" * 50}} for i in range(500)}
    cut = manifest_block(Chart("big", steps={"pre_exec": Step("pre_exec", "create", new_inputs={"manifest": big})}),
                         budget=2000)
    assert cut is not None and len(cut) < 2300 and "pulumi preview --diff" in cut
