"""Preview shows what will change in the cluster: per-object manifest diffs, masked secrets
and drift, through the real CLI on the local cluster."""
from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from helmlife import manifests
from helmlife.preview_summary import summarize
from tests.e2e.conftest import TOOLS, Cluster, Project, chart

pytestmark = pytest.mark.e2e


def preview_json(project: Project, stack: str) -> dict[str, Any]:
    return json.loads(project.cli("preview", "--stack", stack, "--json", "--non-interactive"))


def release_manifests(preview: dict[str, Any], release: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The objects pre_exec compares against (old) and rendered (new), masked: its `__manifest`
    input; after an `up` the reference is Helm's record, which the preview gives as `__manifest_before`."""
    step = next(s for s in preview["steps"] if s["urn"].endswith(f"::{release}-pre-exec"))
    new = (step.get("newState") or {}).get("inputs", {})
    return (new.get("__manifest_before") or (step.get("oldState") or {}).get("inputs", {}).get("__manifest") or {},
            new.get("__manifest") or {})


def shown_change(output: str, key: str, field: str, change: str) -> bool:
    """pre_exec's `changes`, as `pulumi preview --diff` prints it: the object by kind/namespace/name,
    then only its changed field, `"old → new"` (the map's keys are padded to a column)."""
    return re.search(rf"{re.escape(key)}\s*:\s*{{\s*\n\s*\+ {re.escape(field)}\s*:\s*\"{re.escape(change)}\"",
                     output) is not None


def leaves(node: Any, path: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        return {k: v for key, child in node.items() for k, v in leaves(child, f"{path}.{key}").items()}
    if isinstance(node, list):
        return {k: v for i, child in enumerate(node) for k, v in leaves(child, f"{path}[{i}]").items()}
    return {path: node}


def test_values_change_previews_exactly_the_changed_fields(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("app", ns)])
    assert (r := project.up("t")).ok, r.output

    project.write_stack("t", [chart("app", ns, values=[{"key": "replicaCount", "value": 2}])])
    text = project.preview("t")
    assert text.ok, text.output
    assert shown_change(text.output, f"Deployment/{ns}/app", "spec.replicas", "1 → 2"), text.output
    assert f"Service/{ns}/app" not in text.output  # unchanged objects are not printed
    assert text.output.count("replicaCount") == 1  # the new value once: the Release's values

    old, new = release_manifests(preview_json(project, "t"), "app")
    key = f"Deployment/{ns}/app"
    assert manifests.changes(old, new) == [("~", key)]  # the Service is untouched
    before, after = leaves(old[key]), leaves(new[key])
    assert {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)} == {".spec.replicas"}

    summary = summarize(preview_json(project, "t"))
    assert f"~ {key}" in summary and "-  replicas: 1" in summary and "+  replicas: 2" in summary, summary
    assert "Service/" not in summary.split("What changes in the cluster")[1]

    assert (r := project.up("t")).ok, r.output
    assert cluster.deployment(ns, "app").spec.replicas == 2


def test_chart_bump_shows_one_object_added_and_one_removed(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("shape", ns, "charts/shapes/1.0.0")])
    assert (r := project.up("t")).ok, r.output

    project.write_stack("t", [chart("shape", ns, "charts/shapes/2.0.0")])
    preview = preview_json(project, "t")
    old, new = release_manifests(preview, "shape")
    assert [c for c in manifests.changes(old, new) if c[0] != "~"] == [
        ("+", f"ConfigMap/{ns}/shape-settings"), ("-", f"Service/{ns}/shape")]
    text = project.preview("t").output
    assert re.search(rf"ConfigMap/{ns}/shape-settings\s*: \"added\"", text), text
    assert re.search(rf"Service/{ns}/shape\s*: \"removed\"", text), text
    summary = summarize(preview)
    assert "1 added, 1 removed" in summary and "upgrade 1.0.0 → 2.0.0" in summary, summary

    assert (r := project.up("t")).ok, r.output
    assert cluster.configmap(ns, "shape-settings") is not None
    with pytest.raises(client.exceptions.ApiException):
        client.CoreV1Api(cluster.api).read_namespaced_service("shape", ns)


def test_changed_secret_shows_as_changed_and_never_its_value(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    first, second = "tok3n-first-e2e", "tok3n-second-e2e"
    project.write_stack("t", [chart("app", ns, values=[{"key": "auth.token", "secret_config": "token"},
                                                       {"key": "message", "secret_config": "message"}])])
    stack = project.stack("t")
    stack.set_config("helmlife:token", auto.ConfigValue(first, secret=True))
    stack.set_config("helmlife:message", auto.ConfigValue("hello " + first, secret=True))
    assert (r := project.up("t")).ok, r.output
    assert project.preview("t").changes == {}  # masked markers are stable between previews

    stack.set_config("helmlife:token", auto.ConfigValue(second, secret=True))
    text = project.preview("t").output
    preview = preview_json(project, "t")
    summary = summarize(preview)
    old, new = release_manifests(preview, "app")
    secret_key = f"Secret/{ns}/app-auth"
    assert manifests.changes(old, new) == [("~", secret_key)]  # the annotation's secret did not change
    assert old[secret_key]["stringData"]["token"] == "[secret #1]"
    assert new[secret_key]["stringData"]["token"] == "[secret #2]"
    assert new[f"Deployment/{ns}/app"]["spec"]["template"]["metadata"]["annotations"][
        "helmlife.dev/message"] == "[secret #1]"
    assert "[secret #1]" in text and "[secret #2]" in text, text
    assert f"~ {secret_key}" in summary

    assert (r := project.up("t")).ok, r.output
    exported = project.cli("stack", "export", "--stack", "t")
    state = "".join(p.read_text(errors="replace") for p in (project.root / ".tools" / "state").rglob("*.json"))
    for where, content in (("CLI preview", text), ("preview JSON", json.dumps(preview)), ("summary", summary),
                           ("up output", r.output), ("stack export", exported), ("state files", state)):
        for value in (first, second):
            assert value not in content, f"{value} in the {where}"
    secret = client.CoreV1Api(cluster.api).read_namespaced_secret("app-auth", ns)
    assert secret.data["token"]  # the cluster itself got the new value
    assert project.preview("t").changes == {}


def test_manual_helm_upgrade_is_drift_that_up_corrects(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("app", ns)])
    assert (r := project.up("t")).ok, r.output
    subprocess.run([str(TOOLS / "bin" / "helm"), "upgrade", "app", str(project.root / "charts" / "demo-app"),
                    "-n", ns, "--reuse-values", "--set", "replicaCount=4", "--kubeconfig", str(cluster.kubeconfig)],
                   check=True, capture_output=True)
    # As for every Pulumi resource, drift is what `pulumi refresh` finds: then preview shows the
    # live value going back to the declared one, and the Release upgrades to put it back.
    assert (r := project.run("refresh", "t")).ok, r.output
    drift = project.preview("t")
    assert shown_change(drift.output, f"Deployment/{ns}/app", "spec.replicas", "4 → 1"), drift.output
    assert "kubernetes:helm.sh/v3:Release: (update)" in drift.output, drift.output
    assert (r := project.up("t")).ok, r.output
    assert cluster.deployment(ns, "app").spec.replicas == 1
    assert project.preview("t").changes == {}


def plain_cli(project: Project, command: str, *args: str) -> str:
    """`pulumi COMMAND` of stack t as a user types it; its whole output (it is expected to fail)."""
    proc = subprocess.run([str(TOOLS / "bin" / "pulumi"), command, "--stack", "t", "--non-interactive", *args,
                           "--cwd", str(project.root)], capture_output=True, text=True, env=project.env(), timeout=600)
    assert proc.returncode != 0, proc.stdout
    return proc.stdout + proc.stderr


@pytest.mark.parametrize(("value", "reason"), [
    ({"key": "replicaCount", "value": "lots"}, "replicaCount"),
    ({"key": "mode", "value": "broken"}, "mode 'broken' is not supported"),
], ids=["values-schema", "template-fail"])
def test_chart_render_errors_fail_preview_and_up_before_anything_runs(
        project: Project, cluster: Cluster, value: dict[str, Any], reason: str) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("schema", ns, "charts/schema-app", values=[value])])
    preview = project.preview("t")
    assert not preview.ok
    assert "schema: pre_exec: chart charts/schema-app cannot be rendered" in preview.output, preview.output
    assert reason in preview.output, preview.output
    up = project.up("t")
    assert not up.ok and "chart charts/schema-app cannot be rendered" in up.output and reason in up.output
    # preview renders in pre_exec's check; `up --skip-preview` starts the render there and
    # pre_exec's run waits for it, failing before its hooks, the namespace and the Release.
    assert project.steps() == [("pre_exec", "create")], "nothing may run before the chart renders"
    assert cluster.release_secrets(ns, "schema") == []
    # Issue 18 item 6, as a user reads it in the plain CLI: one line naming chart, step and cause,
    # then helm's message; not the spec as a Go map, not helm's "UPGRADE FAILED", no traceback.
    for shown in (plain_cli(project, "preview"), plain_cli(project, "up", "--yes"), preview.output, up.output):
        # preview (pre_exec's check) and `up --skip-preview` (its run) alike.
        assert re.search(r"(has a problem|Exception calling application): schema: pre_exec: "
                         r"chart charts/schema-app cannot be rendered with these values:\n\s*\S", shown), shown
        for noise in ("property spec value", "map[", "UPGRADE FAILED", "INSTALLATION FAILED", "Traceback",
                      "KeyboardInterrupt"):
            assert noise not in shown, (noise, shown)
    project.extra_env["HELMLIFE_DEBUG"] = "1"  # asked for: the traceback behind the line is shown
    debug = plain_cli(project, "up", "--yes", "--skip-preview")
    assert "Traceback (most recent call last)" in debug and "cannot be rendered" in debug, debug
    assert cluster.release_secrets(ns, "schema") == []


def test_preview_says_in_words_that_a_breaking_version_reinstalls(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    spec = dict(last_breaking_version_requiring_restart="2.0.0", force_crd_deletion=True)
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/1.0.0", **spec)])
    assert (r := project.up("t")).ok, r.output
    project.write_stack("t", [chart("op", ns, "charts/demo-operator/2.0.0", **spec)])
    words = "uninstall and reinstall: 1.0.0 → 2.0.0 crosses 2.0.0"
    preview = project.preview("t")
    assert preview.ok and words in preview.output, preview.output
    assert words in summarize(preview_json(project, "t"))
