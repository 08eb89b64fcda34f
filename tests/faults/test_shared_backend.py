"""The team path: Pulumi state in a shared S3-compatible bucket (scripts/objectstore's SeaweedFS),
driven through the real CLI from more than one checkout and more than one run at a time.

Every test asserts on the cluster and on the bucket, read through the S3 API: a preview from
another checkout, two runs racing for one stack (Pulumi's lock object in the bucket), two stacks
at once on two clusters, promotion reading the source stack's history from the bucket, the store
going away in the middle of an `up`, and no secret in plain text in any object.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from pulumi import automation as auto

from helmlife.steps.base import unwrap
from tests.e2e.conftest import (CLUSTER_NAME, ROOT, Cluster, LocalCluster, Project, StartingCluster, free_port_block,
                                helmlife, second_checkout)
from tests.faults.conftest import (HELM_BUSY, LOCKED, Capacity, Converged, SharedBackend, chart, declared_steps,
                                   pulumi, release_status, step_names, wait_for)
from tests.faults.test_secrets import inline_kubeconfig

pytestmark = pytest.mark.e2e
RELEASE = "kubernetes:helm.sh/v3:Release"  # pulumi-kubernetes' own, named as the chart


@pytest.fixture(scope="module", autouse=True)
def second_cluster_starting(request: pytest.FixtureRequest, toolchain: Path,
                            tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartingCluster | None]:
    """A second local cluster (a name and chart-repository port of its own), its `scripts/cluster
    up` started in the background when this module starts, so that it comes up while the tests
    before the one that needs it run; stopped when the module ends, whatever happened. Nothing
    is started when no selected test of this module asks for `second_cluster`."""
    if not any("second_cluster" in item.fixturenames for item in request.session.items
               if getattr(item, "module", None) is request.module):
        yield None
        return
    second = LocalCluster(f"{CLUSTER_NAME}-b", free_port_block(1))
    starting = second.start(tmp_path_factory.mktemp("second-cluster") / "up.log")
    try:
        yield starting
    finally:
        starting.stop()


@pytest.fixture(scope="module")
def second_cluster(second_cluster_starting: StartingCluster | None) -> Cluster:
    """The second cluster, once its `scripts/cluster up` has finished."""
    assert second_cluster_starting is not None
    return second_cluster_starting.ready()


def message(cluster: Cluster, ns: str, release: str) -> str:
    """The value the release runs with, from the cluster (demo-app's pod annotation)."""
    dep = cluster.deployment(ns, release)
    assert dep is not None, f"no deployment {ns}/{release}"
    return dep.spec.template.metadata.annotations["helmlife.dev/message"]


def flat(value: Any, path: str = "") -> dict[str, Any]:
    """A JSON value as {dotted path: leaf}."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{path}[{i}]").items()}
    return {path: value}


def changes(step: dict[str, Any], name: str) -> dict[str, tuple[Any, Any]]:
    """What a preview step changes in input `name`: {path: (old, new)}."""
    old, new = (flat(unwrap(step[side]["inputs"]).get(name)) for side in ("oldState", "newState"))
    return {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def recorded_revisions(shared: SharedBackend, stack: str) -> dict[str, int]:
    """Each Release's recorded Helm revision, from the checkpoint in the bucket."""
    resources = shared.checkpoint(stack)["checkpoint"]["latest"]["resources"]
    return {r["urn"].rsplit("::", 1)[1]: r["outputs"]["status"]["revision"] for r in resources if r["type"] == RELEASE}


def test_one_shared_stack_racing_ups_a_second_checkout_and_no_secret_in_the_bucket(
        project: Project, cluster: Cluster, shared: SharedBackend, capacity: Capacity, background,
        converged: Converged, tmp_path: Path) -> None:
    """A team's day on one stack: two runners' `up` at once (one refused by the lock object in
    the bucket, the other completes), a pull request's previews from another checkout, and the
    bucket audited for secrets afterwards."""
    ns = project.namespace
    token = f"tok-{tmp_path.name}-{id(project):x}"
    kubeconfig = tmp_path / "kubeconfig"
    creds = inline_kubeconfig(cluster.kubeconfig, kubeconfig)
    key_line = base64.b64decode(creds["client-key"]).decode().splitlines()[1]

    def declare(proj: Project, value: str) -> None:
        proj.write_stack("t", [chart("app", ns, timeout="120s", values=[
            {"key": "message", "value": value}, capacity.value_setting,
            {"key": "auth.token", "secret_config": "token"}])], kubeconfig_path=str(kubeconfig))

    declare(project, "one")
    project.stack("t").set_config("helmlife:token", auto.ConfigValue(token, secret=True))
    first = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "app") == "pending-install", HELM_BUSY, "the first up's helm")
    assert len(shared.locks("t")) == 1  # the first run's lock object in the bucket
    second = pulumi(project, "up", "t")
    assert not second.ok and LOCKED in second.output, second.output
    assert release_status(cluster, ns, "app") == "pending-install"  # the refused run touched nothing
    capacity.arrive()
    assert first.wait(HELM_BUSY) == 0, first.output()
    converged("t", "app")
    assert step_names(shared.checkpoint("t")["checkpoint"]["latest"]) == declared_steps("app")  # in the bucket
    assert shared.locks("t") == []
    assert message(cluster, ns, "app") == "one" and len(cluster.release_secrets(ns, "app")) == 1  # one install
    assert recorded_revisions(shared, "t") == {"app": 1} and cluster.deployed_revision(ns, "app") == 1

    # Another runner's checkout: the stack files as committed, its state only in the bucket.
    other = second_checkout(project, tmp_path / "second")
    assert (p := pulumi(other, "preview", "t", "--expect-no-changes")).ok, p.output
    assert not list((other.root / ".tools" / "state").rglob("*.json"))

    declare(other, "two")
    preview = json.loads(other.cli("preview", "--json", "--stack", "t"))
    changed = [s for s in preview["steps"] if s["op"] != "same"]
    assert {s["op"] for s in changed} == {"update"}, changed
    assert all("::app-" in s["urn"] or s["urn"].endswith("::app") for s in changed), changed
    [release] = [s for s in changed if s["urn"].split("::")[-2].endswith(RELEASE)]
    assert release["urn"].endswith("::app") and changes(release, "values") == {"message": ("one", "two")}, release
    for step in changed:  # the one declared difference, wherever the spec is an input
        if step is not release:
            assert changes(step, "spec") == {"values[0].value": ("one", "two")}, step["urn"]
    [pre_exec] = [s for s in changed if s["urn"].endswith("::app-pre-exec")]
    deployment = f"Deployment/{ns}/app"
    shown = pre_exec["newState"]["inputs"]["changes"]  # what the cluster gets differently, as a reviewer reads it
    assert list(shown) == [deployment] and list(shown[deployment].values()) == ["one → two"], shown
    assert "helmlife.dev/message" in next(iter(shown[deployment])), shown
    summary = subprocess.run([sys.executable, "-m", "helmlife", "preview-summary", "-"], input=json.dumps(preview),
                             capture_output=True, text=True, env=other.env(), cwd=ROOT, check=True).stdout
    counts = preview["changeSummary"]
    assert f"Resources: {counts['update']} to update, {counts['same']} unchanged." in summary, summary
    version = yaml.safe_load((ROOT / "charts" / "demo-app" / "Chart.yaml").read_text())["version"]
    assert f"| `app` | upgrade {version} (same chart version) |" in summary, summary
    assert f"~ {deployment}\n" in summary and "1 changed" in summary, summary
    assert "-        helmlife.dev/message: one\n+        helmlife.dev/message: two\n" in summary, summary
    assert message(cluster, ns, "app") == "one"  # a preview changes nothing

    # Nothing secret in plain text in any object of the bucket, after an up and two previews.
    objects = shared.store.objects(shared.bucket)
    assert ".pulumi/stacks/helmlife/t.json" in objects and len(objects) > 3, sorted(objects)
    for secret in (token, creds["client-key"], key_line, creds["client-certificate"], "current-context",
                   shared.store.passphrase, shared.store.secret_key):
        assert [k for k, body in objects.items() if secret.encode() in body] == [], secret[:12]


def image(cluster: Cluster, ns: str, release: str) -> str:
    """The image the release runs (demo-app's one container), from the cluster."""
    dep = cluster.deployment(ns, release)
    assert dep is not None, f"no deployment {ns}/{release}"
    [container] = dep.spec.template.spec.containers
    return container.image


def test_two_stacks_on_two_clusters_at_once_then_promotion_reads_the_shared_history(
        project: Project, cluster: Cluster, second_cluster: Cluster, shared: SharedBackend, background,
        converged: Converged, tmp_path: Path) -> None:
    """Issue 19: `up` of two stacks at once, each on a cluster of its own (dev on this run's,
    staging on a second one), their state in one bucket: both complete, each cluster holds its
    own stack's release at its own values, no lock is left; then `promote` from a checkout with
    no state reads dev's history from the bucket, and a failed dev update refuses it."""
    assert second_cluster.api.configuration.host != cluster.api.configuration.host  # two API servers
    ns = project.namespace  # the same namespace and release name on both: only the cluster differs
    promotable = ["app.image.tag"]
    project.write_stack("dev", [chart("app", ns, values=[
        {"key": "image.tag", "value": "1.1"}, {"key": "message", "value": "dev"}])], promotable_values=promotable)
    project.write_stack("staging", [chart("app", ns, values=[
        {"key": "image.tag", "value": "1.0"}, {"key": "message", "value": "staging"}])],
        promotable_values=promotable, kubeconfig_path=str(second_cluster.kubeconfig))
    ups = [background("up", "dev"), background("up", "staging")]
    assert [op.wait(HELM_BUSY) for op in ups] == [0, 0], [op.output() for op in ups]
    converged("dev", "app")
    Converged(project, second_cluster)("staging", "app")
    repository = yaml.safe_load((ROOT / "charts" / "demo-app" / "values.yaml").read_text())["image"]["repository"]
    assert (message(cluster, ns, "app"), image(cluster, ns, "app")) == ("dev", f"{repository}:1.1")
    assert (message(second_cluster, ns, "app"), image(second_cluster, ns, "app")) == ("staging", f"{repository}:1.0")
    for on in (cluster, second_cluster):  # each cluster holds one install: its own stack's
        assert [s.metadata.labels["version"] for s in on.release_secrets(ns, "app")] == ["1"]
    assert recorded_revisions(shared, "dev") == recorded_revisions(shared, "staging") == {"app": 1}
    assert shared.locks("dev") == shared.locks("staging") == []

    # Promotion from a checkout with no state of its own: the source's last update is read
    # from the bucket.
    other = second_checkout(project, tmp_path / "second")
    dry = helmlife(other, "promote", "dev", "staging", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    diff = [line for line in dry.stdout.splitlines() if line[:1] in "-+" and line[:3] not in ("---", "+++")]
    assert [line[0] for line in diff if "1.0" in line] == ["-"], dry.stdout
    assert [line[0] for line in diff if "1.1" in line] == ["+"], dry.stdout

    # A failed dev update (a spec the program rejects) refuses the next promotion.
    project.write_stack("dev", [chart("app", ns, timeout="soon", values=[{"key": "image.tag", "value": "1.2"}])])
    assert not (failed := pulumi(project, "up", "dev")).ok, failed.output
    blocked = helmlife(other, "promote", "dev", "staging", "--dry-run")
    assert blocked.returncode != 0 and "last update of stack 'dev' failed" in blocked.stderr, blocked.stderr
    assert cluster.deployed_revision(ns, "app") == 1  # the failed update changed nothing
    assert second_cluster.deployed_revision(ns, "app") == 1


def test_object_store_stopped_during_up_recovery_converges(
        project: Project, cluster: Cluster, shared: SharedBackend, capacity: Capacity, background,
        converged: Converged) -> None:
    ns, store = project.namespace, shared.store
    project.write_stack("t", [chart("app", ns, timeout="60s", values=[capacity.value_setting])])
    # With the store gone Pulumi retries each checkpoint write 11 times (about 30 s of backoff)
    # before the run fails: most of this test's time.
    up = background("up", "t")
    wait_for(lambda: release_status(cluster, ns, "app") == "pending-install", HELM_BUSY, "helm installing")
    store.down()
    capacity.arrive()  # helm finishes; the CLI cannot record it
    assert up.wait(HELM_BUSY) != 0, up.output()
    failure = up.output()
    assert f"127.0.0.1:{store.port}" in failure and shared.bucket in failure, failure  # names the backend
    assert cluster.deployed_revision(ns, "app") == 1  # the release itself is there

    store.up()
    # The documented recovery (docs/reliability.md): cancel the stale lock, up, refresh where a
    # create was left pending.
    refused = pulumi(project, "up", "t")
    assert not refused.ok and LOCKED in refused.output, refused.output
    assert (r := pulumi(project, "cancel", "t")).ok, r.output
    assert (r := pulumi(project, "up", "t")).ok, r.output
    assert (r := pulumi(project, "refresh", "t", "--clear-pending-creates")).ok, r.output
    converged("t", "app")
    # The install the CLI could not record is adopted (import), not installed again: revision 1
    # stays in Helm's history, and pulumi-kubernetes applies the declared arguments once after an
    # import (at most one more revision, as in tests/e2e/test_migration.py).
    revision = cluster.deployed_revision(ns, "app")
    assert revision in (1, 2) and len(cluster.release_secrets(ns, "app")) == revision, revision
    assert release_status(cluster, ns, "app") == "deployed"
    assert recorded_revisions(shared, "t") == {"app": revision}
