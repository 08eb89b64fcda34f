"""Failure diagnostics without a cluster: the readiness watch keeps what failed although a
rollback makes the release ready again, and Helm's record decides release drift."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from helmlife import kube, releases
from helmlife.actions import diagnose
from helmlife.spec import parse_spec
from helmlife.steps import release


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


# --- release drift from Helm's record ------------------------------------------------------------

def record(revision: int, last_deployed: str | None, status: str = "deployed") -> releases.ReleaseRecord:
    return releases.ReleaseRecord("gw", "ns", revision, status, "1.0.0", "1.0.0", "", {}, last_deployed)


def drifted(monkeypatch: pytest.MonkeyPatch, helm_has: releases.ReleaseRecord | None, **recorded: Any) -> bool:
    monkeypatch.setattr(releases, "latest", lambda *args: helm_has)
    monkeypatch.setattr(releases, "head", lambda *args: helm_has and (helm_has.revision, helm_has.status))
    spec = parse_spec({"name": "gw", "chart": "c", "namespace": "ns"})
    inputs = release.Inputs(spec=spec, kubeconfig="kc")
    inputs.__dict__["api"] = None  # the cached client: no cluster here
    return release.drifted(inputs, release.Outputs(**recorded))


def test_helm_at_another_revision_than_recorded_is_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    assert drifted(monkeypatch, record(3, "t3"), revision=1, last_deployed="t1")  # atomic rollback after a failure
    assert drifted(monkeypatch, record(1, "t9"), revision=1, last_deployed="t1")  # reinstalled by hand
    assert drifted(monkeypatch, None, revision=1, last_deployed="t1")  # gone
    assert not drifted(monkeypatch, record(1, "t1"), revision=1, last_deployed="t1")
    assert not drifted(monkeypatch, record(4, "t4"), revision=4, last_deployed="t4")  # from the labels alone


def test_state_without_last_deployed_compares_the_revision_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not drifted(monkeypatch, record(2, "t2"), revision=2)
    assert drifted(monkeypatch, record(3, "t3"), revision=2)
