"""The cluster's control plane stops in the middle of `pulumi up`, then comes back."""
from __future__ import annotations

import pytest
import yaml

from tests.e2e.conftest import Cluster, Project
from tests.faults.conftest import Capacity, Converged, chart, control_plane, pending_operations, pulumi, release_status, wait_for

pytestmark = pytest.mark.e2e


def test_api_server_stopped_during_up_names_the_cluster_and_a_rerun_converges(
        project: Project, cluster: Cluster, capacity: Capacity, background, converged: Converged) -> None:
    ns = project.namespace
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    context, server = kubeconfig["current-context"], kubeconfig["clusters"][0]["cluster"]["server"]
    project.write_stack("t", [chart("steady", ns, timeout="20s", values=[capacity.value_setting])])
    up = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "steady") == "pending-install", 240, "helm installing")
    control_plane("stop")
    try:
        assert up.wait(300) != 0
        failed = up.output()
    finally:
        control_plane("start")
    assert f"cannot reach the Kubernetes cluster of context {context!r} at {server}" in failed, failed
    assert pending_operations(project, "t") == []  # the CLI saw the failure and recorded it: nothing to clear

    capacity.arrive()
    r = pulumi(project, "up", "t")  # no recovery step: the lock was released, the release is remediated
    assert r.ok, r.output
    converged("t", "steady")
