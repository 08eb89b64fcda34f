"""`pulumi up` that never finished: killed mid-install or mid-upgrade, or racing another up.

After a SIGKILL the Helm release is stuck `pending-install`/`pending-upgrade` and Pulumi's
state has a pending operation and the stack's lock file. The recovery (docs/reliability.md):
`pulumi cancel` (the lock), `pulumi up`, and after an interrupted first install
`pulumi refresh --clear-pending-creates` (Pulumi's bookkeeping); the release itself needs
nothing by hand (helmlife.actions.remediate).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, Project
from tests.faults.conftest import (HELM_BUSY, LOCKED, Capacity, Converged, chart, pending_operations, pulumi,
                                   release_status, stack_state, step_names, wait_for)

pytestmark = pytest.mark.e2e


def recover(project: Project, stack: str) -> str:
    """The documented recovery after a killed `pulumi up`: `pulumi cancel` (the refused up shows
    why), then `pulumi up`; returns the up's output."""
    refused = pulumi(project, "up", stack)
    assert not refused.ok and LOCKED in refused.output and "pulumi cancel" in refused.output, refused.output
    assert (r := pulumi(project, "cancel", stack)).ok, r.output
    up = pulumi(project, "up", stack)
    assert up.ok, up.output
    assert "pending operations from previous deployment" in up.output  # Pulumi's warning, nothing more
    return up.output


def test_up_killed_while_installing_converges(project: Project, cluster: Cluster, capacity: Capacity,
                                               background, converged: Converged) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("fresh", ns, timeout="20s", values=[capacity.value_setting])])
    up = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "fresh") == "pending-install", HELM_BUSY, "helm installing")
    up.kill_tree()

    assert release_status(cluster, ns, "fresh") == "pending-install"  # stuck: helm would refuse
    assert ("creating", "fresh") in pending_operations(project, "t")
    capacity.arrive()
    output = recover(project, "t")
    assert "left pending-install by a helm that is no longer running" in output
    assert "uninstalling before installing again" in output
    # Pulumi 3.259 keeps an interrupted *create* pending even after a successful up (it cannot
    # know whether the first attempt made something); helmlife's create is idempotent, so
    # dropping the record is safe, and that is the one extra step.
    assert ("creating", "fresh") in pending_operations(project, "t")
    assert (r := pulumi(project, "refresh", "t", "--clear-pending-creates")).ok, r.output
    converged("t", "fresh")
    assert cluster.deployed_revision(ns, "fresh") == 1


def test_up_killed_while_upgrading_converges(project: Project, cluster: Cluster, capacity: Capacity,
                                              background, converged: Converged) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("busy", ns, timeout="20s")])
    assert (r := pulumi(project, "up", "t")).ok, r.output
    project.write_stack("t", [chart("busy", ns, timeout="20s",
                                    values=[capacity.value_setting, {"key": "message", "value": "v2"}])])
    up = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "busy") == "pending-upgrade", HELM_BUSY, "helm upgrading")
    up.kill_tree()

    assert cluster.deployed_revision(ns, "busy") == 1  # what ran before is untouched
    assert cluster.ready_pods(ns, "busy") == 1
    assert ("updating", "busy") in pending_operations(project, "t")
    capacity.arrive()
    output = recover(project, "t")
    assert "left pending-upgrade by a helm that is no longer running" in output
    assert "rolling back to deployed revision 1 before the upgrade" in output
    converged("t", "busy")
    dep = cluster.deployment(ns, "busy")
    assert dep is not None and dep.spec.template.metadata.annotations["helmlife.dev/message"] == "v2"


def test_second_up_on_a_locked_stack_is_refused_and_the_first_completes(
        project: Project, cluster: Cluster, capacity: Capacity, background, converged: Converged) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("first", ns, timeout="120s", values=[capacity.value_setting])])
    first = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "first") == "pending-install", HELM_BUSY, "the first up's helm")

    second = pulumi(project, "up", "t")
    assert not second.ok
    assert LOCKED in second.output, second.output
    assert release_status(cluster, ns, "first") == "pending-install"  # the second touched nothing

    capacity.arrive()  # the first up's helm --wait now sees its pods ready
    assert first.wait(HELM_BUSY) == 0, first.output()
    converged("t", "first")
    assert step_names(stack_state(project, "t"))


def test_cli_process_group_killed_the_orphaned_helm_is_waited_for_not_raced(
        project: Project, cluster: Cluster, capacity: Capacity, background, converged: Converged) -> None:
    """`kill -9 -PGID` of the CLI: Pulumi runs its plugins in process groups of their own, so the
    provider and its helm live on. The next up must not remediate under a live helm's feet: it
    waits for that helm to finish (or give up), then carries on from what it left."""
    ns = project.namespace
    project.write_stack("t", [chart("orphan", ns, timeout="120s", values=[capacity.value_setting])])
    up = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "orphan") == "pending-install", HELM_BUSY, "helm installing")
    up.kill_process_group()
    # The install runs in the kubernetes plugin (helm as a library), in a process group of its own.
    helms = [p for p in up.orphans if "helm" in _cmdline(p) or "pulumi-resource-kubernetes" in _cmdline(p)]
    assert helms and all(_cmdline(p) for p in helms), "the plugin running helm should have outlived the CLI"

    assert (r := pulumi(project, "cancel", "t")).ok, r.output
    assert (r := pulumi(project, "refresh", "t", "--clear-pending-creates")).ok, r.output
    again = background("up", "t")
    wait_for(lambda: "waiting up to" in again.output(), HELM_BUSY, "the release step to wait for the orphaned helm")
    assert release_status(cluster, ns, "orphan") == "pending-install"  # nothing was remediated under it
    capacity.arrive()  # the orphaned helm's --wait succeeds
    assert again.wait(HELM_BUSY) != 0, again.output()  # it declared a new Release: says so, changes nothing
    assert "revision settled by itself (deployed)" in again.output()
    assert "run `pulumi up` again to adopt it" in again.output(), again.output()
    assert "uninstalling before installing again" not in again.output()
    assert (r := pulumi(project, "up", "t")).ok, r.output  # adopted (import), not installed again
    converged("t", "orphan")
    # the orphan's install is adopted (imported), not installed again: its first revision stays in
    # Helm's history, and pulumi-kubernetes applies the declared arguments once after an import.
    history = [int(s.metadata.labels["version"]) for s in cluster.release_secrets(ns, "orphan")]
    assert min(history) == 1 and cluster.deployed_revision(ns, "orphan") <= 2, history


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
