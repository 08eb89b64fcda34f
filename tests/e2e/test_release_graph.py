"""The graph issue 17 asks for, end to end: a real `kubernetes.helm.v3.Release` on the user's own
`kubernetes.Provider`, at most five resources per chart, and a preview a reviewer can read."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from kubernetes import client
from pulumi import automation as auto

from tests.e2e.conftest import KUBECONFIG, LOOPBACK_REPO, ROOT, TOOLS, Cluster, Project, chart, managed_project

pytestmark = pytest.mark.e2e
MANY_OBJECTS = str(ROOT / "tests" / "e2e" / "charts" / "many-objects")


@pytest.fixture
def shipped(tmp_path: Path, cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[Project]:
    """A project copy running the shipped __main__.py (chart_hooks/demo.py's hooks), as dev does."""
    with managed_project(tmp_path, cluster, request.node.nodeid, None) as proj:  # type: ignore[arg-type]
        yield proj


def plain_preview(project: Project, stack: str) -> str:
    """`pulumi preview --diff` as a reviewer runs it: the plain CLI's whole output."""
    proc = subprocess.run([str(TOOLS / "bin" / "pulumi"), "preview", "--diff", "--stack", stack, "--non-interactive",
                           "--cwd", str(project.root)], capture_output=True, text=True, env=project.env(), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def resources(project: Project, stack: str) -> list[dict]:
    return project.stack(stack).export_stack().deployment["resources"]


def test_dev_stack_one_value_previews_in_a_few_lines(shipped: Project, cluster: Cluster) -> None:
    ns = shipped.namespace
    dev = [
        {"name": "demo-app", "chart": "charts/demo-app", "namespace": ns, "create_namespace": True, "timeout": "60s",
         "yaml_files_content": ["replicaCount: 2\n"],
         "values": [{"key": "message", "value": "hello from dev"}, {"key": "image.tag", "value": "1.1"},
                    {"key": "auth.token", "secret_config": "demoToken"}]},
        {"name": "demo-operator", "chart": "charts/demo-operator/1.0.0", "namespace": ns, "create_namespace": True,
         "timeout": "60s", "force_crd_deletion": True},
        {"name": "hello-repo", "chart": {"repo": LOOPBACK_REPO, "name": "hello-repo", "version": "0.1.0"},
         "namespace": ns, "create_namespace": True, "values": [{"key": "greeting", "value": "hi"}]},
    ]
    shipped.write_stack("dev", dev)
    shipped.stack("dev").set_config("helmlife:demoToken", auto.ConfigValue("t0ken-e2e-dev", secret=True))
    assert (r := shipped.up("dev")).ok, r.output
    state = resources(shipped, "dev")
    per_chart = {c: [x["type"] for x in state if f"LifecycleChart::{c}" in x.get("parent", "") or x["urn"].endswith(
        f"LifecycleChart::{c}")] for c in ("demo-app", "demo-operator", "hello-repo")}
    assert all(len(types) == 4 for types in per_chart.values()), per_chart  # the component and three children
    assert all("kubernetes:helm.sh/v3:Release" in types for types in per_chart.values()), per_chart
    assert plain_preview(shipped, "dev").count("(update)") == 0  # nothing pending after up

    dev[0]["values"][0] = {"key": "message", "value": "hello again"}
    shipped.write_stack("dev", dev)
    shown = plain_preview(shipped, "dev")
    lines = shown.splitlines()
    assert len(lines) <= 60, shown
    assert shown.count('"hello again"') == 1 and shown.count("hello from dev → hello again") == 1, shown
    assert f"Deployment/{ns}/demo-app" in shown and f"Service/{ns}/demo-app" not in shown, shown
    assert "demo-operator" not in shown and "hello-repo" not in shown, shown  # unchanged charts print nothing
    assert "t0ken-e2e-dev" not in shown
    assert (r := shipped.up("dev")).ok, r.output
    cm = client.AppsV1Api(cluster.api).read_namespaced_deployment("demo-app", ns)
    assert cm.spec.template.metadata.annotations["helmlife.dev/message"] == "hello again"


def test_an_operator_sized_release_previews_only_the_changed_fields(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("big", ns, MANY_OBJECTS)])
    assert (r := project.up("t")).ok, r.output
    rendered = subprocess.run([str(TOOLS / "bin" / "helm"), "template", "big", MANY_OBJECTS],
                              capture_output=True, text=True, check=True).stdout
    assert rendered.count("\nkind: ") >= 120  # operator-sized, as the issue measured

    project.write_stack("t", [chart("big", ns, MANY_OBJECTS, values=[{"key": "replicaCount", "value": 2},
                                                                     {"key": "logLevel", "value": "debug"}])])
    shown = plain_preview(project, "t")
    deployments = [f"Deployment/{ns}/big-{role}" for role in ("controller", "webhook")]
    for key in deployments:
        block = re.search(rf"{re.escape(key)}\s*: {{(.*?)\n\s*}}", shown, re.S)
        assert block, shown
        assert set(re.findall(r"\+ (\S+)\s*:", block.group(1))) == {
            "spec.replicas", "spec.template.spec.containers[0].args[0]"}, block.group(1)
    configmaps = re.findall(rf"ConfigMap/{ns}/big-shard-\d+\s*: {{\s*\n\s*\+ (\S+)\s*:", shown)
    assert len(configmaps) == 60 and set(configmaps) == {"data.logLevel"}, shown
    assert "Service/" not in shown and "ServiceAccount/" not in shown and "Role" not in shown, shown
    assert "peers: 60" not in shown  # unchanged fields of changed objects are not printed
    assert len(shown.splitlines()) < 64 * 4 + 40, len(shown.splitlines())
    assert (r := project.up("t")).ok, r.output
    assert client.AppsV1Api(cluster.api).read_namespaced_deployment("big-webhook", ns).spec.replicas == 2


USERS_PROGRAM = '''\
"""A user's own program: their kubernetes.Provider, their own resources, and a LifecycleChart on it."""
import pulumi
import pulumi_kubernetes as k8s

from helmlife import LifecycleChart

config = pulumi.Config()
cluster = k8s.Provider("mine", kubeconfig=open(config.require("kubeconfig")).read())
app = LifecycleChart("app", {"name": "app", "chart": "charts/demo-app", "namespace": config.require("namespace"),
                             "create_namespace": True, "timeout": "60s"},
                     opts=pulumi.ResourceOptions(provider=cluster))
k8s.core.v1.ConfigMap("mine", metadata={"name": "mine", "namespace": config.require("namespace")},
                      data={"release": "app"}, opts=pulumi.ResourceOptions(provider=cluster, depends_on=[app]))
pulumi.export("revision", app.revision)
'''


def test_a_users_kubernetes_provider_deploys_the_release_and_the_steps(tmp_path: Path, cluster: Cluster,
                                                                       request: pytest.FixtureRequest) -> None:
    with managed_project(tmp_path, cluster, request.node.nodeid, USERS_PROGRAM) as proj:
        st = proj.stack("mine")
        st.set_config("helmlife:kubeconfig", auto.ConfigValue(str(KUBECONFIG)))
        st.set_config("helmlife:namespace", auto.ConfigValue(proj.namespace))
        assert (r := proj.up("mine")).ok, r.output
        assert cluster.deployed_revision(proj.namespace, "app") == 1
        assert cluster.configmap(proj.namespace, "mine") is not None  # their own resource, same provider
        state = resources(proj, "mine")
        kubernetes = [x for x in state if x["type"] == "pulumi:providers:kubernetes"]
        assert [x["urn"].rsplit("::", 1)[-1] for x in kubernetes] == ["mine"]  # no second one made
        release = next(x for x in state if x["type"] == "kubernetes:helm.sh/v3:Release")
        assert release["provider"].startswith(kubernetes[0]["urn"])
        exported = json.loads(proj.cli("stack", "export", "--stack", "mine"))["deployment"]["resources"]
        steps_provider = next(x for x in exported if x["urn"].endswith("::helmlife-cluster"))  # as a user reads it
        assert "ciphertext" in steps_provider["inputs"]["helmlife-cluster:kubeconfig"]  # its kubeconfig, secret
        assert (r := proj.destroy("mine")).ok, r.output
        assert cluster.release_secrets(proj.namespace, "app") == []
