"""LifecycleChart end to end: real CLI, real cluster, assertions on the cluster."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from kubernetes import client
from pulumi import automation as auto

from tests.e2e.conftest import LOOPBACK_REPO, ROOT, Cluster, Project, chart
from tests.e2e.e2e_hooks import STAMPS

pytestmark = pytest.mark.e2e
OPERATOR_CRDS = {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"}
STEP_ORDER = ["pre_exec", "validate"]  # the dynamic steps; the Release runs between them


def stamps(cluster: Cluster, ns: str) -> dict[str, dict[str, str]]:
    """The ConfigMaps "hooked"'s hooks wrote (e2e_hooks.stamp), in the order the cluster stored
    them (resourceVersion, etcd's revision), each with what the cluster held then."""
    found = client.CoreV1Api(cluster.api).list_namespaced_config_map(STAMPS).items
    mine = sorted((cm for cm in found if cm.metadata.name.startswith(f"{ns}-at-")),
                  key=lambda cm: int(cm.metadata.resource_version))
    return {cm.metadata.name.removeprefix(f"{ns}-at-"): dict(cm.data) for cm in mine}


@pytest.fixture
def clean_stamps(cluster: Cluster, project: Project) -> Iterator[None]:
    yield
    core = client.CoreV1Api(cluster.api)
    for cm in core.list_namespaced_config_map(STAMPS).items:
        if cm.metadata.name.startswith(f"{project.namespace}-at-"):
            core.delete_namespaced_config_map(cm.metadata.name, STAMPS)


def test_steps_in_order_up_and_reverse_on_destroy(project: Project, cluster: Cluster, clean_stamps: None) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("hooked", ns, "charts/demo-operator/1.0.0")])
    up = project.up("t")
    assert up.ok, up.output
    # The order as the cluster saw it (not helmlife's journal): the hooks in step order, those
    # before the release with no Helm record and no CRD yet, those after it with both.
    none, both = {"helm_deployed": "0", "crd": "False"}, {"helm_deployed": "1", "crd": "True"}
    assert stamps(cluster, ns) == {"check-prerequisites": none, "pre-exec": none, "post-exec": both,
                                   "validate": both}
    assert list(stamps(cluster, ns)) == ["check-prerequisites", "pre-exec", "post-exec", "validate"]
    assert [s for s, _ in project.steps("create")] == STEP_ORDER
    assert cluster.deployed_revision(ns, "hooked") == 1
    assert OPERATOR_CRDS <= cluster.crd_names()
    trail = cluster.configmap(ns, "hooked-trail")
    assert trail is not None and trail.data["trail"] == "check_prerequisites,pre_exec,post_exec"
    assert "[helmlife hooked validate] validate saw trail" in up.output  # hook logs reach the output

    project.clear_journal()
    down = project.destroy("t")
    assert down.ok, down.output
    # teardown (pre_exec's delete) ran last of the hooks, after helm uninstalled the release and
    # pre_exec's delete removed the CRD (helm itself keeps crds/ CRDs).
    assert list(stamps(cluster, ns))[-1] == "teardown"
    assert stamps(cluster, ns)["teardown"] == none
    deleted = [s for s, _ in project.steps("delete")]
    assert deleted == list(reversed(STEP_ORDER))
    assert cluster.release_secrets(ns, "hooked") == []
    assert not OPERATOR_CRDS & cluster.crd_names()


def test_crd_cleanup_refuses_while_custom_resources_exist(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("subclassed", ns, "charts/demo-operator/1.0.0")])
    assert (up := project.up("t")).ok, up.output
    method_cm = cluster.configmap(ns, "subclassed-method")
    assert method_cm is not None and method_cm.data["from_method"] == "True"  # subclass-style hooks ran
    objs = client.CustomObjectsApi(cluster.api)
    objs.create_namespaced_custom_object("demo.helmlife.dev", "v1", ns, "widgets", {
        "apiVersion": "demo.helmlife.dev/v1", "kind": "Widget", "metadata": {"name": "keep-me"}, "spec": {"size": 1},
    })
    refused = project.destroy("t")
    assert not refused.ok
    assert "refusing to delete CRDs that still hold custom resources" in refused.output
    assert "Widget/" in refused.output and "keep-me" in refused.output
    assert "force_crd_deletion" in refused.output
    assert OPERATOR_CRDS <= cluster.crd_names(), "no CRD may be deleted while it holds data"
    assert objs.get_namespaced_custom_object("demo.helmlife.dev", "v1", ns, "widgets", "keep-me")

    objs.delete_namespaced_custom_object("demo.helmlife.dev", "v1", ns, "widgets", "keep-me")
    again = project.destroy("t")
    assert again.ok, again.output
    assert not OPERATOR_CRDS & cluster.crd_names()


def test_breaking_version_reinstalls_and_values_change_upgrades(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    spec = dict(last_breaking_version_requiring_restart="2.0.0", force_crd_deletion=True)
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", **spec)])
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployed_revision(ns, "op") == 1
    first_uid = cluster.deployment(ns, "op").metadata.uid

    # A values-only change: pre_exec re-runs but must not uninstall; helm upgrades to revision 2.
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", values=[{"key": "replicaCount", "value": 2}], **spec)])
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployed_revision(ns, "op") == 2
    assert "uninstalling op" not in r.output
    # Upgraded in place: the same Deployment object, helm still runs 1.0.0.
    assert cluster.deployment(ns, "op").metadata.uid == first_uid
    assert cluster.helm_release(ns, "op")["chart"] == "demo-operator-1.0.0"

    # Crossing 2.0.0 (whose Deployment selector changed, which an upgrade cannot apply): fresh install.
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/2.0.0", **spec)])
    preview = project.preview("t")
    assert preview.ok, preview.output
    # The chart paths already hold both versions: the words say what will happen, and why.
    assert "uninstall and reinstall: 1.0.0 → 2.0.0 crosses 2.0.0" in preview.output, preview.output
    assert "kubernetes:helm.sh/v3:Release: (replace)" in preview.output, preview.output
    assert (r := project.up("t")).ok, r.output
    assert "crosses breaking version 2.0.0" in r.output
    # What the cluster runs: helm's record of 2.0.0 at revision 1 (history gone with the uninstall),
    # and a new Deployment object, not the upgraded old one.
    record = cluster.helm_release(ns, "op")
    assert (str(record["revision"]), record["status"], record["chart"]) == ("1", "deployed", "demo-operator-2.0.0")
    assert cluster.deployed_revision(ns, "op") == 1
    assert len(cluster.release_secrets(ns, "op")) == 1
    dep = cluster.deployment(ns, "op")
    assert dep is not None and dep.metadata.uid != first_uid
    assert dep.spec.selector.match_labels.get("app.kubernetes.io/component") == "operator"


def test_breaking_version_not_crossed_upgrades(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", force_crd_deletion=True,
                                    last_breaking_version_requiring_restart="3.0.0")])
    assert (r := project.up("t")).ok, r.output
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", force_crd_deletion=True,
                                    last_breaking_version_requiring_restart="3.0.0",
                                    values=[{"key": "replicaCount", "value": 2}])])
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployed_revision(ns, "op") == 2
    assert len(cluster.release_secrets(ns, "op")) == 2


def test_validate_failure_fails_up_and_leaves_release(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("checked", ns)])
    r = project.up("t")
    assert not r.ok
    assert "smoke test: /healthz said 'degraded'" in r.output
    assert "validate hook" in r.output and "smoke_test" in r.output
    assert cluster.deployed_revision(ns, "checked") == 1  # the release stays as helm deployed it
    assert cluster.ready_pods(ns, "checked") == 1


def test_http_check_failure_names_the_check(project: Project, cluster: Cluster, http_server) -> None:
    ns = project.namespace
    url = http_server(status=503)
    project.write_stack("t", [chart("web", ns, timeout="5s",
                                    http_checks=[{"name": "frontpage", "url": url, "timeout": "2s"}])])
    r = project.up("t")
    assert not r.ok
    assert "validate check 'frontpage' failed" in r.output and "answered 503" in r.output
    assert cluster.deployed_revision(ns, "web") == 1

    ok_url = http_server(status=200)
    project.write_stack("t", [chart("web", ns, timeout="5s",
                                    http_checks=[{"name": "frontpage", "url": ok_url, "timeout": "2s"}])])
    r = project.up("t")
    assert r.ok, r.output  # a re-run converges: validate runs again and passes
    assert cluster.deployed_revision(ns, "web") == 1


def test_pre_exec_failure_leaves_release_untouched(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("prefail", ns)])
    assert (r := project.up("t")).ok, r.output
    project.clear_journal()
    project.write_stack("t", [chart("prefail", ns, values=[{"key": "refuse", "value": True},
                                                          {"key": "replicaCount", "value": 3}])])
    r = project.up("t")
    assert not r.ok
    assert "pre_exec refused on purpose" in r.output
    assert cluster.deployed_revision(ns, "prefail") == 1
    assert len(cluster.release_secrets(ns, "prefail")) == 1
    assert cluster.deployment(ns, "prefail").spec.replicas == 1
    # pre_exec failed: the Release and validate after it never ran.
    assert [step for step, _ in project.steps()] == ["pre_exec"], project.steps()


def test_failing_release_shows_events_and_rolls_back(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("broken", ns, timeout="20s")])
    assert (r := project.up("t")).ok, r.output
    project.write_stack("t", [chart("broken", ns, timeout="20s",
                                    values=[{"key": "nodeSelector.no-such-node", "value": "true"}])])
    r = project.up("t")
    assert not r.ok
    assert "deploy failed" in r.output
    assert "on_deploy_failure" in r.output
    assert "FailedScheduling" in r.output  # the namespace's events
    assert "e2e-hook: deploy of broken failed" in r.output  # the user hook's addition
    assert "on_deploy_failure: update of release broken failed" in r.output  # Pulumi's ErrorHook ran
    # atomic: helm rolled back, the previous revision's pods still serve.
    assert cluster.deployed_revision(ns, "broken") == 3
    assert cluster.ready_pods(ns, "broken") == 1


def test_failure_hook_can_ask_for_a_retry(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("retried", ns, timeout="8s",
                                    values=[{"key": "nodeSelector.no-such-node", "value": "true"}])])
    r = project.up("t")
    assert not r.ok
    assert "asked to retry the deploy in 1s (attempt 1/2)" in r.output
    assert "gave up after 2 attempts" in r.output
    assert cluster.release_secrets(ns, "retried") == []  # atomic install: nothing left behind


def test_skip_and_destroy_actions(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("app", ns)])
    assert (r := project.up("t")).ok, r.output

    project.write_stack("t", [chart("app", ns, action="skip", values=[{"key": "replicaCount", "value": 3}])])
    preview = project.preview("t")
    assert preview.ok, preview.output
    assert preview.changes == {}, preview.output
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployed_revision(ns, "app") == 1
    assert cluster.ready_pods(ns, "app") == 1

    project.write_stack("t", [chart("app", ns, action="destroy")])
    assert (r := project.up("t")).ok, r.output
    assert cluster.release_secrets(ns, "app") == []
    state = project.stack("t").export_stack().deployment
    types = {res["type"] for res in state["resources"]}
    assert "helmlife:index:LifecycleChart" in types  # the component stays in the program and state
    assert not any(t.endswith(":Release") for t in types)


def test_secrets_never_in_plain_text_in_state(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    token = "sup3r-s3cret-token-e2e"
    st = project.stack("t")
    project.write_stack("t", [chart("app", ns, values=[{"key": "auth.token", "secret_config": "token"},
                                                       {"key": "auth.user", "secret_config": "user"}])])
    st.set_config("helmlife:token", auto.ConfigValue(token, secret=True))
    st.set_config("helmlife:user", auto.ConfigValue("bob", secret=True))
    r = project.up("t")
    assert r.ok, r.output
    exported = project.cli("stack", "export", "--stack", "t")  # exactly what a user would run
    deployment = json.loads(exported)["deployment"]
    leaking = [str(p) for p in (project.root / ".tools" / "state").rglob("*.json")
               if token in p.read_text(errors="replace") or '"bob"' in p.read_text(errors="replace")]
    assert leaking == [], leaking
    assert token not in exported and token not in r.output
    assert '"bob"' not in exported
    assert cluster.kubeconfig.read_text() not in exported
    assert "current-context" not in exported  # no piece of the kubeconfig in clear either
    steps = [res for res in deployment["resources"] if res["type"].startswith("pulumi-python:dynamic/helmlife:")]
    assert len(steps) == 2  # pre_exec, validate
    assert not any("kubeconfig" in key for res in steps for section in ("inputs", "outputs") for key in res[section])
    # The credentials are recorded once per cluster, by the kubernetes provider the Release uses and
    # by the provider the steps run in, encrypted in both.
    steps_provider = [res for res in deployment["resources"] if res["urn"].endswith("::helmlife-cluster")]
    assert len(steps_provider) == 1 and all(res["provider"].startswith(steps_provider[0]["urn"]) for res in steps)
    kubernetes = [res for res in deployment["resources"] if res["type"] == "pulumi:providers:kubernetes"]
    assert len(kubernetes) == 1
    for provider, key in ((steps_provider[0], "helmlife-cluster:kubeconfig"), (kubernetes[0], "kubeconfig")):
        for section in ("inputs", "outputs"):
            assert isinstance(provider[section][key], dict) and "ciphertext" in provider[section][key], section
    # The release itself did get the secret value.
    values = json.loads(subprocess.run(
        [str(ROOT / ".tools/bin/helm"), "get", "values", "app", "-n", ns, "-o", "json", "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, check=True).stdout)
    assert values["auth"] == {"token": token, "user": "bob"}


BAD_SPECS = [
    ({"timeout": "forever"}, "timeout", "Go syntax"),
    ({"name": "Bad_Name"}, "name", "valid release name"),
    ({"values_files": ["missing-values.yaml"]}, "values_files[0]", "cannot read"),
    ({"yaml_files_content": ["a: [unclosed"]}, "yaml_files_content[0]", "not valid YAML"),
    ({"chart": "charts/no-such-chart"}, "chart.path", "no readable Chart.yaml"),
    ({"create_namespace": False}, "namespace", "does not exist"),
    ({"chart": {"repo": LOOPBACK_REPO, "name": "hello-repo", "version": "9.9.9"}}, "chart.version", "available: "),
    ({"atomic": "sometimes"}, "atomic", "boolean"),
    ({"colour": "blue"}, "colour", "unknown field"),
    ({"values": [{"key": "password", "value": "hunter2", "secret": True}]}, "values.0", "pulumi config set --secret"),
]


@pytest.mark.parametrize(("patch", "field", "hint"), BAD_SPECS, ids=[b[1] for b in BAD_SPECS])
def test_bad_spec_fails_at_preview_with_nothing_applied(project: Project, cluster: Cluster,
                                                        patch: dict, field: str, hint: str) -> None:
    ns = project.namespace
    spec = {**chart("bad", ns), **patch}
    project.write_stack("t", [spec])
    r = project.preview("t")
    assert not r.ok, r.output
    assert field in r.output and hint in r.output, r.output
    assert "stack 't'" in r.output or "bad: pre_exec" in r.output, r.output
    up = project.up("t")
    assert not up.ok
    assert cluster.release_secrets(ns, "bad") == []
    assert project.steps() == []  # no step ran, so nothing reached the cluster


def test_destroy_runs_the_current_library_code(project: Project, cluster: Cluster, tmp_path: Path) -> None:
    """State holds a reference to helmlife's provider, not a copy: fixed code is what destroys."""
    ns = project.namespace
    project.write_stack("t", [chart("app", ns)])
    assert (r := project.up("t")).ok, r.output
    state = project.stack("t").export_stack().deployment
    providers = [res["inputs"].get("__provider") for res in state["resources"] if "__provider" in res.get("inputs", {})]
    assert providers and all(isinstance(p, str) and len(p) < 600 for p in providers)

    patched = tmp_path / "patched"
    shutil.copytree(ROOT / "helmlife", patched / "helmlife", ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "new-code-ran"
    release_py = patched / "helmlife" / "steps" / "pre_exec.py"
    release_py.write_text(release_py.read_text().replace(
        "def delete(inputs: Inputs, outputs: Outputs) -> None:\n",
        f"def delete(inputs: Inputs, outputs: Outputs) -> None:\n    open({str(marker)!r}, 'a').write('patched delete\\n')\n",
    ))
    down = project.destroy("t", pythonpath=f"{patched}:{project.root}:{ROOT}")
    assert down.ok, down.output
    assert marker.read_text() == "patched delete\n"
    assert cluster.release_secrets(ns, "app") == []


def test_adopt_hands_live_objects_to_helm(project: Project, cluster: Cluster) -> None:
    """A Service created outside Helm (as the AWS CNI's objects are) blocks a plain install;
    pre_exec's adoption lets helm take it over."""
    ns = project.namespace
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name="legacy"),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)], selector={"app": "legacy"})))

    project.write_stack("t", [chart("legacy", ns)])
    r = project.up("t")
    assert not r.ok and "cannot be imported into the current release" in r.output
    # Refused before anything ran: helm holds no record at all (not even a failed one), the
    # Service is still nobody's, and no step after the checks ran.
    assert cluster.release_secrets(ns, "legacy") == [] and cluster.helm_release(ns, "legacy") is None
    assert "meta.helm.sh/release-name" not in (core.read_namespaced_service("legacy", ns).metadata.annotations or {})
    assert cluster.deployment(ns, "legacy") is None

    project.write_stack("t", [chart("legacy", ns, adopt=["Service/legacy"])])
    r = project.up("t")
    assert r.ok, r.output
    assert "adopted Service/" in r.output
    svc = core.read_namespaced_service("legacy", ns)
    assert svc.metadata.annotations["meta.helm.sh/release-name"] == "legacy"
    assert svc.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    assert cluster.deployed_revision(ns, "legacy") == 1


def test_dry_run_applies_nothing(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("dry", ns, dry_run=True)])
    r = project.up("t")
    assert r.ok, r.output
    assert cluster.release_secrets(ns, "dry") == []
    assert cluster.deployment(ns, "dry") is None


def test_crds_removed_on_action_destroy_and_on_chart_removal(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    op = chart("op", ns, "charts/demo-operator/1.0.0")
    project.write_stack("t", [op])
    assert (r := project.up("t")).ok, r.output
    assert OPERATOR_CRDS <= cluster.crd_names()

    project.write_stack("t", [{**op, "action": "destroy"}])
    project.clear_journal()
    assert (r := project.up("t")).ok, r.output
    assert cluster.release_secrets(ns, "op") == []
    assert not OPERATOR_CRDS & cluster.crd_names()
    assert [s for s, o in project.steps("delete")] == ["validate", "pre_exec"]

    project.write_stack("t", [op])
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployed_revision(ns, "op") == 1 and OPERATOR_CRDS <= cluster.crd_names()

    project.write_stack("t", [])  # the chart removed from the program
    assert (r := project.up("t")).ok, r.output
    assert cluster.release_secrets(ns, "op") == []
    assert not OPERATOR_CRDS & cluster.crd_names()


# Earlier helmlife versions whose state users have: 0.1 (the last commit before the step table)
# and 0.2 (the last commit whose own release step drove helm, before the kubernetes Release).
EARLIER = {"0.1": "d362c53168c1d11046cdb071c72e0316b8ccea17", "0.2": "e197b13"}
PLAIN_MAIN = "from helmlife.program import deploy_stack\n\ndeploy_stack()\n"


@pytest.mark.parametrize("version", sorted(EARLIER))
def test_stack_deployed_by_an_earlier_helmlife_moves_to_the_release_without_any_change(
        project: Project, cluster: Cluster, tmp_path: Path, version: str) -> None:
    ns = project.namespace
    old = tmp_path / f"helmlife-{version}"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", EARLIER[version], "helmlife"],
                             capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"this test needs commit {EARLIER[version]} (helmlife {version}) in the checkout's history: "
                    f"{archive.stderr.decode()}", pytrace=False)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    (project.root / "__main__.py").write_text(PLAIN_MAIN)  # earlier versions know none of today's hook options
    project.write_stack("t", [chart("app", ns), chart("op", ns, "charts/demo-operator/1.0.0", force_crd_deletion=True)])

    assert (r := project.run("up", "t", pythonpath=f"{old}:{project.root}")).ok, r.output
    types = {res["type"] for res in project.stack("t").export_stack().deployment["resources"]}
    assert "pulumi-python:dynamic/helmlife:Release" in types and "kubernetes:helm.sh/v3:Release" not in types, types
    revisions = {rel: cluster.deployed_revision(ns, rel) for rel in ("app", "op")}
    assert revisions == {"app": 1, "op": 1}
    pods = {p.metadata.uid for rel in ("app", "op") for p in cluster.pods(ns, rel)}
    crds = {c.metadata.name: c.metadata.resource_version
            for c in client.ApiextensionsV1Api(cluster.api).list_custom_resource_definition().items}

    # Without a refresh the new graph cannot take the helm-driven step's state over: preview says
    # what to do, and nothing is applied.
    refused = project.preview("t")
    assert not refused.ok and "run `pulumi refresh` once" in refused.output, refused.output
    assert (r := project.run("refresh", "t")).ok, r.output
    import os as _os
    if _os.environ.get("HELMLIFE_TEST_DUMP"):
        Path("/tmp/after_refresh.json").write_text(json.dumps(project.stack("t").export_stack().deployment, default=str))
    project.clear_journal()
    preview = project.preview("t")
    assert preview.ok, preview.output
    # The Release moves to the kubernetes provider, which this preview creates: it shows as an
    # update of its provider reference. No replacement, and (below) no helm call.
    assert "replace" not in preview.changes and "Release: (replace)" not in preview.output, preview.output
    assert (r := project.up("t")).ok, r.output
    if _os.environ.get("HELMLIFE_TEST_DUMP"):
        Path("/tmp/after_up.json").write_text(json.dumps(project.stack("t").export_stack().deployment, default=str))
    assert [(s, op) for s, op in project.steps() if op in ("create", "update")] == [], r.output
    assert {rel: cluster.deployed_revision(ns, rel) for rel in ("app", "op")} == revisions
    assert all(len(cluster.release_secrets(ns, rel)) == 1 for rel in ("app", "op"))
    assert {p.metadata.uid for rel in ("app", "op") for p in cluster.pods(ns, rel)} == pods  # no pod restarted
    assert {c.metadata.name: c.metadata.resource_version
            for c in client.ApiextensionsV1Api(cluster.api).list_custom_resource_definition().items
            if c.metadata.name in crds} == crds  # no CRD touched
    types = {res["type"] for res in project.stack("t").export_stack().deployment["resources"]}
    assert "kubernetes:helm.sh/v3:Release" in types and "pulumi-python:dynamic/helmlife:Release" not in types, types
    assert project.preview("t").changes == {}


# helmlife 0.3: the kubernetes Release with a crd_cleanup step of its own (before pre_exec owned the CRDs).
BEFORE_MERGED_CRDS = "165f855"


def deploy_with_0_3(project: Project, cluster: Cluster, tmp_path: Path) -> None:
    ns = project.namespace
    old = tmp_path / "helmlife-0.3"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", BEFORE_MERGED_CRDS, "helmlife"],
                             capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"this test needs commit {BEFORE_MERGED_CRDS} in the checkout's history: "
                    f"{archive.stderr.decode()}", pytrace=False)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    project.write_stack("t", [chart("app", ns), chart("op", ns, "charts/demo-operator/1.0.0")])
    # The project's own hooks import from this checkout (after the old helmlife on the path).
    assert (r := project.run("up", "t", pythonpath=f"{old}:{project.root}:{ROOT}")).ok, r.output
    types = [res["type"] for res in project.stack("t").export_stack().deployment["resources"]]
    assert types.count("pulumi-python:dynamic/helmlife:CrdCleanup") == 2, types
    assert OPERATOR_CRDS <= cluster.crd_names()


def test_a_stack_from_before_pre_exec_owned_the_crds_moves_without_any_change(
        project: Project, cluster: Cluster, tmp_path: Path) -> None:
    """Issue 17 items 3 and 6: the graph loses its crd_cleanup step. The old step leaves the
    state without deleting a CRD (Helm still has the release), no step runs, nothing in the
    cluster changes; pre_exec records the CRDs it now owns, and a destroy still removes them."""
    ns = project.namespace
    deploy_with_0_3(project, cluster, tmp_path)
    revisions = {rel: cluster.deployed_revision(ns, rel) for rel in ("app", "op")}
    pods = {p.metadata.uid for rel in ("app", "op") for p in cluster.pods(ns, rel)}
    crds = {c.metadata.name: c.metadata.resource_version
            for c in client.ApiextensionsV1Api(cluster.api).list_custom_resource_definition().items
            if c.metadata.name in OPERATOR_CRDS}
    assert set(crds) == OPERATOR_CRDS

    project.clear_journal()
    preview = project.preview("t")
    assert preview.ok and "replace" not in preview.changes, preview.output
    assert (r := project.up("t")).ok, r.output
    # The old steps' deletes ran (and touched nothing); no step ran.
    assert project.steps() == [("crd_cleanup", "delete"), ("crd_cleanup", "delete")], r.output
    assert {rel: cluster.deployed_revision(ns, rel) for rel in ("app", "op")} == revisions
    assert {p.metadata.uid for rel in ("app", "op") for p in cluster.pods(ns, rel)} == pods  # no pod restarted
    assert {c.metadata.name: c.metadata.resource_version
            for c in client.ApiextensionsV1Api(cluster.api).list_custom_resource_definition().items
            if c.metadata.name in crds} == crds  # no CRD touched (nor deleted)
    state = project.stack("t").export_stack().deployment["resources"]
    assert not [r for r in state if r["type"] == "pulumi-python:dynamic/helmlife:CrdCleanup"]
    owned = next(r for r in state if r["urn"].endswith("::op-pre-exec"))["outputs"]["__owned_crds"]
    assert sorted(owned) == sorted(OPERATOR_CRDS)
    assert project.preview("t").changes == {}

    assert (r := project.destroy("t")).ok, r.output
    assert cluster.release_secrets(ns, "op") == [] and cluster.release_secrets(ns, "app") == []
    assert not OPERATOR_CRDS & cluster.crd_names()  # pre_exec's delete removed them after the uninstall


def test_a_destroy_of_a_stack_not_yet_moved_still_removes_the_crds(
        project: Project, cluster: Cluster, tmp_path: Path) -> None:
    """`pulumi destroy` with this helmlife of state the previous one wrote: the old crd_cleanup
    step's delete (after the uninstall: Helm has no release any more) removes the CRDs."""
    ns = project.namespace
    deploy_with_0_3(project, cluster, tmp_path)
    project.clear_journal()
    assert (r := project.destroy("t")).ok, r.output
    assert cluster.release_secrets(ns, "op") == [] and cluster.release_secrets(ns, "app") == []
    assert not OPERATOR_CRDS & cluster.crd_names()
    deleted = project.steps("delete", release="op")
    assert deleted.index(("crd_cleanup", "delete")) > deleted.index(("validate", "delete")), deleted
