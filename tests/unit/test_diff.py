"""Which inputs make which step re-run: the contract `pulumi preview` shows."""
from __future__ import annotations

from helmlife.steps import crds, post_exec, pre_exec, prerequisites, release, validate
from helmlife.steps.base import UNKNOWN, step_diff

BASE = {
    "release": "demo", "namespace": "ns", "action": "deploy", "spec": {"name": "demo", "chart": {"path": "c"}},
    "project_dir": "/a", "kubeconfig": "kc", "kube_context": "", "payload": {}, "hooks": [],
    "chart_version": "1.0.0", "chart_digest": "d1", "values_digest": "v1", "values": {"a": 1},
    "secret_values": {}, "adopt": [], "breaking_version": "2.0.0", "revision": 1, "crds": ["w.x.io"],
}


def changed(module, **news):
    res = step_diff(module, BASE, {**BASE, **news})
    return res.changes


def test_values_change_reruns_pre_exec_and_release_not_crds() -> None:
    assert changed(pre_exec, values_digest="v2")
    assert changed(release, values={"a": 2})
    assert not changed(crds, values={"a": 2})
    assert not changed(post_exec, values={"a": 2})


def test_version_change() -> None:
    assert changed(pre_exec, chart_version="2.0.0")
    assert changed(release, chart_version="2.0.0")
    assert changed(prerequisites, chart_version="2.0.0")


def test_payload_alone_does_not_rerun_anything() -> None:
    for step in (pre_exec, release, post_exec, validate, crds):
        assert not changed(step, payload={"x": 1}), step.__name__


def test_project_dir_is_not_a_trigger() -> None:
    for step in (prerequisites, pre_exec, release, post_exec, validate, crds):
        assert not changed(step, project_dir="/elsewhere"), step.__name__


def test_new_revision_reruns_post_exec_and_validate() -> None:
    assert changed(post_exec, revision=UNKNOWN)
    assert changed(validate, revision=2)


def test_skip_never_changes() -> None:
    for step in (prerequisites, pre_exec, release, post_exec, validate, crds):
        assert not changed(step, action="skip", chart_version="9.9.9", values={"z": 1}), step.__name__


def test_rename_replaces() -> None:
    res = step_diff(release, BASE, {**BASE, "namespace": "other"})
    assert res.changes and res.replaces == ["namespace"]


def test_kubeconfig_change_refreshes_credentials() -> None:
    assert changed(crds, kubeconfig="new")


def test_placeholder_from_skip_runs_on_deploy() -> None:
    olds = {**BASE, "skipped": True}
    assert step_diff(release, olds, BASE).changes


def test_breaking_version_crossing() -> None:
    assert pre_exec.crosses_breaking("1.0.0", "2.0.0", "2.0.0")
    assert pre_exec.crosses_breaking("1.5.0", "3.0.0", "2.0.0")
    assert not pre_exec.crosses_breaking("2.0.0", "2.1.0", "2.0.0")
    assert not pre_exec.crosses_breaking("1.0.0", "1.9.0", "2.0.0")
    assert not pre_exec.crosses_breaking(None, "2.0.0", "2.0.0")
    assert not pre_exec.crosses_breaking("1.0.0", "2.0.0", None)


def test_crd_record_never_replaced() -> None:
    res = step_diff(crds, BASE, {**BASE, "namespace": "moved", "release": "renamed"})
    assert res.changes and not res.replaces
