"""Failure diagnostics without a cluster: the readiness watch keeps what failed although a
rollback makes the release ready again, the failure says what Helm has now, and a refresh
finds release drift from Helm's record and the cluster (pre_exec's `drifted`)."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from helmlife import kube, releases
from helmlife.actions import diagnose
from helmlife.spec import parse_spec
from helmlife.actions import render
from helmlife.steps import pre_exec


def test_the_watch_keeps_the_last_unready_sample_through_a_rollback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples: ready (before the upgrade), unready twice (helm waits), unready with no pod to
    say why (helm rolling back), ready (rolled back)."""
    script = [[], ["Deployment/ns/x: 1/2 available"], ["Deployment/ns/x: 0/2 available", "  pod/x-1: phase=Pending"],
              ["Deployment/ns/x: 2/2 available, 2 updated"], [], []]
    done = threading.Event()

    def fake_sample(api: Any, namespace: str, name: str) -> diagnose.Sample:
        lines = script.pop(0) if script else []
        if not script:
            done.set()
        return diagnose.Sample(0.0, lines)

    monkeypatch.setattr(diagnose, "sample", fake_sample)
    with diagnose.ReadinessWatch(None, "ns", "x", interval=0.001) as watch:
        done.wait()
    assert watch.unready is not None
    assert watch.unready.lines == ["Deployment/ns/x: 0/2 available", "  pod/x-1: phase=Pending"]
    report = watch.report()
    assert report[0].startswith("  not ready while helm waited (seen ")
    assert report[1:] == ["    Deployment/ns/x: 0/2 available", "      pod/x-1: phase=Pending"]


def test_a_failing_sample_never_fails_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    done = threading.Event()

    def broken(*args: Any) -> diagnose.Sample:
        done.set()
        raise RuntimeError("apiserver went away")

    monkeypatch.setattr(diagnose, "sample", broken)
    with diagnose.ReadinessWatch(None, "ns", "x", interval=0.001) as watch:
        done.wait()
    assert watch.report() == ["  (could not sample readiness while helm ran: apiserver went away)"]


def test_label_selector_string() -> None:
    sel = client.V1LabelSelector(match_labels={"release": "gw", "app": "edge"}, match_expressions=[
        client.V1LabelSelectorRequirement(key="tier", operator="In", values=["a", "b"]),
        client.V1LabelSelectorRequirement(key="canary", operator="DoesNotExist")])
    assert kube.label_selector(sel) == "app=edge,release=gw,tier in (a,b),!canary"


def test_deployment_readiness_is_helms() -> None:
    def deployment(available: int, updated: int, replicas: int = 2) -> Any:
        return SimpleNamespace(metadata=SimpleNamespace(generation=2), spec=SimpleNamespace(replicas=2),
                               status=SimpleNamespace(observed_generation=2, available_replicas=available,
                                                      updated_replicas=updated, replicas=replicas))

    assert kube.workload_readiness("Deployment", deployment(2, 2)) == (True, "2/2 available, 2 updated")
    assert kube.workload_readiness("Deployment", deployment(2, 1, replicas=3)) == (False, "2/2 available, 1 updated")


# --- the sampling interval and Helm's record after a failure -------------------------------------

@pytest.mark.parametrize("timeout, interval", [(300, 5.0), (60, 3.0), (10, 1.0), (0, 1.0)])
def test_sampling_is_a_twentieth_of_the_timeout_between_one_and_five_seconds(timeout: float, interval: float) -> None:
    assert diagnose.sample_interval(timeout) == interval


@pytest.mark.parametrize("timeout, first", [(300, 75.0), (180, 45.0), (15, 3.75), (2, 1.0)])
def test_sampling_starts_after_a_quarter_of_the_timeout(timeout: float, first: float) -> None:
    assert diagnose.first_sample(timeout) == first


def test_a_release_ready_before_the_first_sample_is_never_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[float] = []
    monkeypatch.setattr(diagnose, "sample", lambda *args: taken.append(1.0) or diagnose.Sample(0.0, []))
    with diagnose.ReadinessWatch(None, "ns", "x", interval=0.01, delay=60.0):
        threading.Event().wait(0.1)
    assert taken == []


def record(revision: int, status: str = "deployed") -> releases.ReleaseRecord:
    return releases.ReleaseRecord("gw", "ns", revision, status, "1.0.0", "1.0.0", "", {})


def test_after_failure_says_what_helm_has_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """With atomic, helm has rolled back (a new revision) or uninstalled by the time this runs."""
    monkeypatch.setattr(releases, "latest", lambda *args: record(3))
    assert diagnose.after_failure(None, "ns", "gw") == (
        "Helm now has revision 3 of gw (deployed, chart 1.0.0); the next `pulumi up` tries the declared state again")
    monkeypatch.setattr(releases, "latest", lambda *args: record(1, "uninstalled"))
    assert diagnose.after_failure(None, "ns", "gw") == "Helm now has no release gw in namespace ns"
    monkeypatch.setattr(releases, "latest", lambda *args: None)
    assert diagnose.after_failure(None, "ns", "gw") == "Helm now has no release gw in namespace ns"


def test_after_failure_never_hides_the_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: Any) -> None:
        raise RuntimeError("connection refused")

    monkeypatch.setattr(releases, "latest", unreachable)
    assert diagnose.after_failure(None, "ns", "gw") == "(could not read Helm's record of gw: connection refused)"


# --- release drift: what a refresh finds, from Helm's record and the cluster ----------------------

DESIRED = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gw}
spec: {replicas: 2}
---
apiVersion: v1
kind: Service
metadata: {name: gw}
"""


def refreshed(monkeypatch: pytest.MonkeyPatch, helm_has: str | None, in_cluster: set[str]) -> dict[str, Any]:
    """pre_exec's refresh when Helm's record holds `helm_has` (None: no release) and only the
    objects named in `in_cluster` still exist; the chart renders DESIRED."""
    monkeypatch.setattr(releases, "latest", lambda *args: None if helm_has is None else releases.ReleaseRecord(
        "gw", "ns", 2, "deployed", "1.0.0", "1.0.0", helm_has, {}))
    monkeypatch.setattr(kube, "object_exists", lambda api, obj, ns: obj["kind"] in in_cluster)
    monkeypatch.setattr(render, "manifest", lambda inputs, checked=True: DESIRED)
    spec = parse_spec({"name": "gw", "chart": "c", "namespace": "ns"})
    inputs = pre_exec.Inputs(spec=spec, kubeconfig="apiVersion: v1\nkind: Config\n", shape=pre_exec.SHAPE)
    inputs.__dict__["api"] = None  # the cached client: no cluster here
    found = pre_exec.refresh(inputs, pre_exec.Outputs())
    assert found is not None
    return found


def test_refresh_finds_no_drift_when_helm_and_the_cluster_match_the_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    found = refreshed(monkeypatch, DESIRED, {"Deployment", "Service"})
    assert found["drifted"] == []
    assert sorted(found["manifest"]) == ["Deployment/ns/gw", "Service/ns/gw"]


def test_refresh_names_objects_changed_by_hand_or_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    scaled = DESIRED.replace("replicas: 2", "replicas: 1")  # e.g. an atomic rollback to an older revision
    assert refreshed(monkeypatch, scaled, {"Deployment", "Service"})["drifted"] == ["~ Deployment/ns/gw"]
    # The Service was deleted from the cluster: Helm's record still lists it, the cluster does not.
    assert refreshed(monkeypatch, DESIRED, {"Deployment"})["drifted"] == ["+ Service/ns/gw"]
    # Helm has no release at all (uninstalled by hand): everything declared is missing.
    assert refreshed(monkeypatch, None, set())["drifted"] == ["+ Deployment/ns/gw", "+ Service/ns/gw"]
