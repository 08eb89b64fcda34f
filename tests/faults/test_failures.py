"""Steps that fail on purpose: what must still hold on the cluster and in the stack."""
from __future__ import annotations

import threading
from typing import Iterator

import pytest
from kubernetes import client

from helmlife.releases import decode
from helmlife.steps.base import unwrap
from tests.e2e.conftest import Cluster, Project
from tests.faults.conftest import Converged, chart, declared_steps, pulumi, stack_state, step_names

pytestmark = pytest.mark.e2e
CRDS = {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"}
GROUP = "demo.helmlife.dev"


class Watch:
    """Samples the release while updates run: is something deployed and serving right now?"""

    def __init__(self, cluster: Cluster, namespace: str, release: str) -> None:
        self.cluster, self.namespace, self.release = cluster, namespace, release
        self.gaps: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            ready = self.cluster.ready_pods(self.namespace, self.release)
            history = [s.metadata.labels["status"] for s in self.cluster.release_secrets(self.namespace, self.release)]
            self.samples += 1
            if ready < 1 or not {"deployed", "superseded"} & set(history):
                self.gaps.append(f"ready pods {ready}, revisions {history}")

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def history(cluster: Cluster, namespace: str, release: str) -> list[tuple[int, str, str]]:
    """Helm's record of the release, oldest first: (revision, status, description)."""
    secrets = sorted(cluster.release_secrets(namespace, release), key=lambda s: int(s.metadata.labels["version"]))
    return [(r["version"], r["info"]["status"], r["info"]["description"])
            for r in (decode(s.data["release"]) for s in secrets)]


def test_validate_fails_then_the_fixed_chart_passes_and_the_release_never_went_away(
        project: Project, cluster: Cluster, converged: Converged) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("gated", ns)])
    first = pulumi(project, "up", "t")
    assert not first.ok and "gate.open is not true: the smoke test fails" in first.output, first.output
    assert cluster.deployed_revision(ns, "gated") == 1

    with Watch(cluster, ns, "gated") as watch:
        again = pulumi(project, "up", "t")  # nothing changed: validate runs again and fails again
        assert not again.ok and "gate.open is not true" in again.output
        project.write_stack("t", [chart("gated", ns, values=[{"key": "gate.open", "value": True}])])
        fixed = pulumi(project, "up", "t")
        assert fixed.ok, fixed.output
    assert watch.samples > 0 and watch.gaps == [], watch.gaps
    # One install, one upgrade: no rollback (helm records "Rollback to N"), no reinstall (revision 1 again).
    revisions = history(cluster, ns, "gated")
    assert [(v, status) for v, status, _ in revisions] == [(1, "superseded"), (2, "deployed")], revisions
    assert not any("rollback" in text.lower() or "uninstall" in text.lower() for _, _, text in revisions), revisions
    state = converged("t", "gated")
    validate = next(r for r in state["resources"] if r["urn"].endswith("::gated-validate"))
    assert unwrap(validate["outputs"])["checks_passed"] == ["workloads-ready", "hook:tests.faults.fault_hooks:gate"]


@pytest.fixture
def custom_resources(cluster: Cluster, project: Project) -> Iterator[list[tuple[str, str, str]]]:
    """(plural, namespace, name) of the custom resources a test makes; deleted afterwards."""
    made: list[tuple[str, str, str]] = []
    yield made
    objs = client.CustomObjectsApi(cluster.api)
    for plural, ns, name in made:
        try:
            objs.delete_namespaced_custom_object(GROUP, "v1", ns, plural, name)
        except client.exceptions.ApiException:
            pass


def test_crd_cleanup_refused_while_custom_resources_exist_keeps_every_one(
        project: Project, cluster: Cluster, custom_resources: list[tuple[str, str, str]]) -> None:
    ns = project.namespace
    op = chart("op", ns, "charts/demo-operator/1.0.0")
    project.write_stack("t", [op])
    assert (r := pulumi(project, "up", "t")).ok, r.output
    core, objs = client.CoreV1Api(cluster.api), client.CustomObjectsApi(cluster.api)
    other = f"{ns}-other"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        for plural, kind, where, name in [("widgets", "Widget", ns, "w1"), ("widgets", "Widget", other, "w2"),
                                          ("gadgets", "Gadget", ns, "g1")]:
            objs.create_namespaced_custom_object(GROUP, "v1", where, plural, {
                "apiVersion": f"{GROUP}/v1", "kind": kind, "metadata": {"name": name}, "spec": {"size": 1}})
            custom_resources.append((plural, where, name))

        def all_still_there() -> None:
            for plural, where, name in custom_resources:
                assert objs.get_namespaced_custom_object(GROUP, "v1", where, plural, name)["metadata"]["name"] == name
            assert CRDS <= cluster.crd_names()

        refused = pulumi(project, "destroy", "t")
        assert not refused.ok and "force_crd_deletion" in refused.output, refused.output
        all_still_there()
        state = stack_state(project, "t")
        assert not state.get("pending_operations")
        assert "op-pre-exec" in step_names(state)  # whichever step refused, the CRDs' owner stays

        project.write_stack("t", [])  # the chart removed from the program: the same refusal
        removed = pulumi(project, "up", "t")
        assert not removed.ok and "force_crd_deletion" in removed.output, removed.output
        all_still_there()

        for plural, where, name in custom_resources:
            objs.delete_namespaced_custom_object(GROUP, "v1", where, plural, name)
        assert (r := pulumi(project, "destroy", "t")).ok, r.output
        assert not CRDS & cluster.crd_names()
        assert step_names(stack_state(project, "t")) == set()
        assert cluster.release_secrets(ns, "op") == []
    finally:
        core.delete_namespace(other)


def test_retryable_hook_succeeds_within_its_bound_and_a_permanent_one_stops_at_once(
        project: Project, cluster: Cluster, converged: Converged) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("flaky", ns)])
    up = pulumi(project, "up", "t")
    assert up.ok, up.output
    assert "(attempt 2/4)" in up.output and "(attempt 3/4)" not in up.output  # retried twice, then passed
    assert cluster.configmap(ns, "flaky-attempts").data["attempts"] == "1,2,3"
    converged("t", "flaky")

    project.write_stack("t", [chart("flaky", ns), chart("doomed", ns)])
    up = pulumi(project, "up", "t")
    assert not up.ok
    assert "validate hook tests.faults.fault_hooks:broken_for_good failed: the database schema is from the future" in up.output
    assert cluster.configmap(ns, "doomed-attempts").data["attempts"] == "1"  # retries=5 unused
    assert "asked to retry" not in up.output
    assert cluster.deployed_revision(ns, "doomed") == 1  # the release stays as helm deployed it
    state = stack_state(project, "t")
    assert not state.get("pending_operations")
    assert step_names(state) == declared_steps("flaky", "doomed") - {"doomed-validate"}  # failed create: not recorded
    assert cluster.configmap(ns, "flaky-attempts").data["attempts"] == "1,2,3"  # flaky did not run again
