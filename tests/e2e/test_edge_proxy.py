"""What happens around the release, on charts/edge-proxy: the shape of a community ingress
controller (stable/-style `app`/`release` labels in 1.x, app.kubernetes.io in 2.0.0, which
changed the immutable Deployment selector; two replicas; a Service with a health port).
Issue 11, items 3 and 6 to 9."""
from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.conftest import Cluster, Project, chart

pytestmark = pytest.mark.e2e
V1, V2 = "charts/edge-proxy/1.0.0", "charts/edge-proxy/2.0.0"
UNSCHEDULABLE = {"key": "controller.nodeSelector.no-such-node", "value": "true"}


def controller(release: str) -> str:
    """The chart's fullname helper: <release>-edge-proxy-controller."""
    return f"{release}-edge-proxy-controller"


def seen(cluster: Cluster, namespace: str, release: str, event: str) -> dict[str, str]:
    cm = cluster.configmap(namespace, f"{release}-seen-{event.replace('_', '-')}")
    assert cm is not None, f"the {event} hook never ran"
    return dict(cm.data)


def release_status(project: Project, stack: str, release: str) -> dict[str, Any]:
    """The `status` the kubernetes Release (named as the release) has in the state."""
    resources = project.stack(stack).export_stack().deployment["resources"]
    return next(r["outputs"]["status"] for r in resources
                if r["type"] == "kubernetes:helm.sh/v3:Release" and r["urn"].endswith(f"::{release}"))


def updated_steps(output: str, release: str) -> set[str]:
    """The steps of `release` that the preview's diff marks as updated (`~ TYPE: (update)`, then
    its id and urn)."""
    return set(re.findall(rf"~ \S+: \(update\)\n(?:\s+\[id=[^\]]*\]\n)?\s+\[urn=[^\]]*::{re.escape(release)}"
                          rf"-([a-z-]+)\]", output))


def stack_output(project: Project, stack: str) -> dict[str, Any]:
    return json.loads(project.cli("stack", "output", "--json", "--stack", stack))


def test_breaking_reinstall_reruns_post_exec_and_validate_with_previous_version(project: Project,
                                                                                cluster: Cluster) -> None:
    """Items 3 and 7: a reinstall (revision 1 -> 1) still runs the hooks after the release,
    and they see the version deployed before the run."""
    ns = project.namespace
    spec = dict(last_breaking_version_requiring_restart="2.0.0")
    project.write_stack("t", [chart("edge", ns, V1, **spec)])
    assert (r := project.up("t")).ok, r.output
    for event in ("post_exec", "validate"):
        assert seen(cluster, ns, "edge", event) == {"runs": "1", "previous_version": "None", "target_version": "1.0.0"}

    project.write_stack("t", [chart("edge", ns, V2, **spec)])
    preview = project.preview("t")
    assert preview.ok, preview.output
    # The step table (docs/hooks.md): a new chart path and version re-run pre_exec and validate,
    # and the reinstall replaces the Release; named, so a step missing or extra fails.
    assert preview.changes == {"update": 2, "replace": 1}, preview.output
    assert updated_steps(preview.output, "edge") == {"pre-exec", "validate"}, preview.output
    assert "kubernetes:helm.sh/v3:Release: (replace)" in preview.output, preview.output
    project.clear_journal()
    up = project.up("t")
    assert up.ok, up.output
    assert "crosses breaking version 2.0.0" in up.output
    assert cluster.deployed_revision(ns, "edge") == 1 and len(cluster.release_secrets(ns, "edge")) == 1
    ran = project.steps("update")
    assert ("pre_exec", "update") in ran and ("validate", "update") in ran, ran  # validate runs post_exec hooks
    assert up.changes == preview.changes, (preview.changes, up.changes)  # up did what preview listed
    for event in ("pre_exec", "post_exec", "validate"):
        assert seen(cluster, ns, "edge", event) == {"runs": "2", "previous_version": "1.0.0", "target_version": "2.0.0"}
    # Issue 18 item 8: the pre_exec hook ran before the breaking uninstall, while 1.0.0 was deployed.
    assert cluster.configmap(ns, "edge-pre-exec-saw").data == {"deployed_helm_records": "1"}

    assert project.preview("t").changes == {}
    # The teardown hook sees the version it tears down (2.0.0), not the one 2.0.0 replaced.
    assert (d := project.destroy("t")).ok, d.output
    assert cluster.release_secrets(ns, "edge") == []
    assert seen(cluster, ns, "edge", "teardown") == {"runs": "1", "previous_version": "2.0.0",
                                                     "target_version": "2.0.0"}


def test_failed_upgrade_rolled_back_is_tried_again_by_the_next_up(project: Project, cluster: Cluster) -> None:
    """Item 6 (and item 8 on an upgrade): helm's atomic rollback makes revision 3; the Release
    records the failed upgrade (pulumi-kubernetes' partial failure), so the next up with the
    values put back runs helm again (revision 4) and then records what Helm has."""
    ns = project.namespace
    good = chart("gw", ns, V1, timeout="15s")
    project.write_stack("t", [good])
    assert (r := project.up("t")).ok, r.output
    assert stack_output(project, "t")["gw"]["revision"] == 1

    project.write_stack("t", [{**good, "values": [UNSCHEDULABLE]}])
    failed = project.up("t")
    assert not failed.ok
    assert "has been rolled back due to atomic being set" in failed.output, failed.output
    # What was not ready while helm waited, although the rollback removed the pending pod.
    assert f"Deployment/{ns}/{controller('gw')}: 2/2 available, 1 updated" in failed.output, failed.output
    assert re.search(rf"pod/{controller('gw')}-\S+: phase=Pending; PodScheduled=Unschedulable", failed.output)
    assert "Helm now has revision 3 of gw (deployed, chart 1.0.0)" in failed.output, failed.output
    assert cluster.deployed_revision(ns, "gw") == 3

    project.write_stack("t", [good])  # back to what is deployed
    preview = project.cli("preview", "--stack", "t", "--non-interactive", "--diff")  # as a user sees it
    # The state holds the failed upgrade's values: the Release updates to put the declared ones back.
    assert "kubernetes:helm.sh/v3:Release: (update)" in preview, preview
    up = project.up("t")
    assert up.ok, up.output
    assert cluster.deployed_revision(ns, "gw") == 4 and len(cluster.release_secrets(ns, "gw")) == 4  # helm ran again
    assert release_status(project, "t", "gw")["revision"] == 4
    assert stack_output(project, "t")["gw"]["revision"] == 4
    assert project.preview("t").changes == {}

    project.write_stack("t", [{**good, "values": [{"key": "controller.podLabels.tier", "value": "edge"}]}])
    up = project.up("t")
    assert up.ok, up.output
    assert re.search(r"revision\s*:\s*4 => 5", up.output), up.output  # validate's shown revision
    assert cluster.deployed_revision(ns, "gw") == 5


def test_failed_wait_names_what_was_not_ready_although_atomic_removed_it(project: Project,
                                                                         cluster: Cluster) -> None:
    """Item 8: an atomic install that cannot schedule. helm uninstalls it before returning, and
    its pods carry no app.kubernetes.io/instance label; the error still says which Deployment
    was not ready and why its pods were not."""
    ns = project.namespace
    project.write_stack("t", [chart("lb", ns, V1, timeout="15s", values=[UNSCHEDULABLE])])
    r = project.up("t")
    assert not r.ok
    assert "context deadline exceeded" in r.output, r.output
    assert f"Deployment/{ns}/{controller('lb')}: 0/2 available, 2 updated" in r.output, r.output
    pods = re.findall(rf"pod/({controller('lb')}-\S+): phase=Pending; PodScheduled=Unschedulable [^\n]*node", r.output)
    assert len(set(pods)) == 2, r.output
    assert "FailedScheduling" in r.output  # the namespace's events
    assert "Helm now has no release lb" in r.output
    assert cluster.release_secrets(ns, "lb") == [] and cluster.deployment(ns, controller("lb")) is None
    assert client.CoreV1Api(cluster.api).list_namespaced_pod(ns, label_selector="release=lb").items == []


def test_service_check_through_the_proxy_shows_the_proxy_reason(project: Project, cluster: Cluster) -> None:
    """Item 9: kwok pods serve nothing, so the API server's proxy cannot reach the Service: the
    error says what the proxy answered, not only the status."""
    ns = project.namespace
    check = {"name": "healthz", "service": controller("web"), "port": "health", "path": "/healthz", "timeout": "3s"}
    project.write_stack("t", [chart("web", ns, V1, timeout="5s", http_checks=[check])])
    r = project.up("t")
    assert not r.ok
    assert cluster.deployed_revision(ns, "web") == 1
    try:  # what the proxy itself answers, asked directly
        client.CoreV1Api(cluster.api).connect_get_namespaced_service_proxy_with_path(
            f"{controller('web')}:health", ns, "healthz", _request_timeout=5)
        pytest.fail("the API server proxy reached a kwok pod; this test needs a failing proxy call")
    except client.exceptions.ApiException as err:
        status, body = err.status, err.body.decode() if isinstance(err.body, bytes) else err.body
    if body.startswith("{"):  # a Kubernetes Status: its message is the reason
        body = json.loads(body)["message"]
    body = " ".join(body.split())
    found = re.search(rf"validate check 'healthz' failed: GET service/{controller('web')}:health/healthz "
                      rf"via the API server proxy answered {status}, expected 200: ([^\n]+)", r.output)
    assert found, r.output
    assert found.group(1).strip() and found.group(1).strip().rstrip(".") in body, (found.group(1), body)



def test_teardown_after_a_failed_upgrade_sees_the_version_still_deployed(project: Project, cluster: Cluster) -> None:
    """Issue 18 item 8: an upgrade to 1.1.0 (1.0.0 with its version bumped) cannot schedule and
    helm rolls back to 1.0.0, although pre_exec already ran for 1.1.0. The teardown hook of a
    destroy then is told the version deployed, 1.0.0."""
    ns = project.namespace
    src = project.root / "charts" / "edge-proxy"
    shutil.copytree(src / "1.0.0", src / "1.1.0")
    (src / "1.1.0" / "Chart.yaml").write_text((src / "1.0.0" / "Chart.yaml").read_text()
                                              .replace("version: 1.0.0", "version: 1.1.0"))
    project.write_stack("t", [chart("edge", ns, V1, timeout="15s")])
    assert (r := project.up("t")).ok, r.output
    project.write_stack("t", [chart("edge", ns, "charts/edge-proxy/1.1.0", timeout="15s", values=[UNSCHEDULABLE])])
    failed = project.up("t")
    assert not failed.ok and "has been rolled back due to atomic being set" in failed.output, failed.output
    assert seen(cluster, ns, "edge", "pre_exec")["target_version"] == "1.1.0"  # pre_exec ran for 1.1.0
    record = cluster.helm_release(ns, "edge")
    assert (record["status"], record["chart"]) == ("deployed", "edge-proxy-1.0.0"), record

    assert (d := project.destroy("t")).ok, d.output
    assert cluster.release_secrets(ns, "edge") == []
    assert seen(cluster, ns, "edge", "teardown")["previous_version"] == "1.0.0"
