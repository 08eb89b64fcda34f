"""A deploy that times out waiting for something other than a pod says what it waited for.
Real CLI, real cluster: nothing on kwok assigns LoadBalancer addresses, so the ingress-shaped
chart's controller Service of type LoadBalancer never becomes ready, as on a cluster without a
load-balancer controller; the kwok cluster has no storage class or volume, so the data store
chart's claim is never bound; and its migration hook Job, pinned to a node that does not exist,
never completes."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ROOT, Cluster, Project, chart

pytestmark = pytest.mark.e2e
INGRESS = str(ROOT / "tests" / "e2e" / "charts" / "ingress-shape")
DATA = str(ROOT / "tests" / "e2e" / "charts" / "data-shape")


def test_a_load_balancer_without_an_address_is_named(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("edge", ns, INGRESS, timeout="15s",
                                    values=[{"key": "controller.service.type", "value": "LoadBalancer"}])])
    up = project.up("t")
    assert not up.ok
    assert "context deadline exceeded" in up.output, up.output
    assert "not ready while helm waited" in up.output, up.output
    assert f"Service/{ns}/edge-controller: no load-balancer address" in up.output, up.output
    assert cluster.release_secrets(ns, "edge") == []  # atomic: the failed install is gone


def test_a_claim_never_bound_is_named(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("store", ns, DATA, timeout="15s")])
    up = project.up("t")
    assert not up.ok
    assert "context deadline exceeded" in up.output, up.output
    assert f"PersistentVolumeClaim/{ns}/store-data: not bound (Pending)" in up.output, up.output
    assert cluster.release_secrets(ns, "store") == []


def test_a_hook_job_never_complete_is_named(project: Project, cluster: Cluster) -> None:
    """helm waits for a hook Job whatever `wait` says; the Job carries no release annotation."""
    ns = project.namespace
    project.write_stack("t", [chart("store", ns, DATA, timeout="15s",
                                    values=[{"key": "migration.enabled", "value": True},
                                            {"key": "migration.nodeSelector.no-such-node", "value": "true"}])])
    up = project.up("t")
    assert not up.ok
    assert "not ready while helm waited" in up.output, up.output
    assert f"Job/{ns}/store-migrate: not complete (hook; 1 active, 0 succeeded, 0 failed)" in up.output, up.output
    # and why: its pod, which nothing schedules
    assert re.search(r"pod/store-migrate-\S+: phase=Pending; PodScheduled=Unschedulable", up.output), up.output
    assert cluster.release_secrets(ns, "store") == []  # atomic: the failed install is gone
