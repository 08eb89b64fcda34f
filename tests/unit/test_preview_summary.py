"""preview_summary on `pulumi preview --json` output of the graph issue 17 introduced.

A chart is the component `helmlife:index:LifecycleChart` and its children: the dynamic steps
`pulumi-python:dynamic/helmlife:PreExec|Validate` and pulumi-kubernetes'
`kubernetes:helm.sh/v3:Release` (named like the chart; its parent URN names the chart). pre_exec
owns the chart's CRDs (inputs `crds`, `crd_digest`; output `owned_crds`) and its delete removes
them; `CrdCleanup`, which did that before, is a retired step left in state by helmlife 0.3.

The fixtures are written in the shape `pulumi preview --json` prints (`display.PreviewDigest`:
`oldState` absent on create, `newState` absent on delete, `diffReasons`/`replaceReasons` omitted
when empty), trimmed of what the summary does not read. Step inputs are recorded as helmlife's
steps record them: bookkeeping under `__`-prefixed keys, only what a reviewer reads bare
(pre_exec's `plan` and `changes`, validate's `revision`); dynamic providers report no
`detailedDiff`. The Release's inputs are the plugin's camelCase fields, and its diff names them
(`detailedDiff` keys). `UNKNOWN` is the engine's sentinel for a value known only after `up`.
"""
from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from helmlife import preview_summary as ps
from helmlife.preview_summary import UNKNOWN, main, summarize

# What a reviewer reads bare in `pulumi preview --diff`, per step type (issue 17); the rest is `__`-prefixed.
SHOWN = {"PreExec": ("plan", "changes"), "Validate": ("revision",)}
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


# -- building preview steps as Pulumi prints them --------------------------------------------------

def chart_urn(stack: str, chart: str) -> str:
    return f"urn:pulumi:{stack}::helmlife::helmlife:index:LifecycleChart::{chart}"


def urn(stack: str, kind: str | None, name: str) -> str:
    """A step's URN (`kind` is its type name: PreExec, ...), the Release's (`kind` "Release" of
    pulumi-kubernetes is spelled RELEASE_TYPE) or, with no kind, the component's."""
    if kind is None:
        return chart_urn(stack, name)
    child = RELEASE_TYPE if kind == RELEASE_TYPE else f"pulumi-python:dynamic/helmlife:{kind}"
    return f"urn:pulumi:{stack}::helmlife::helmlife:index:LifecycleChart${child}::{name}"


def state(kind: str, *, parent: str | None = None, outputs: dict[str, Any] | None = None,
          **inputs: Any) -> dict[str, Any]:
    """A step's state: inputs (and outputs) recorded as the step records them."""
    def recorded(props: dict[str, Any]) -> dict[str, Any]:
        return {k if k in SHOWN.get(kind, ()) else f"__{k}": v for k, v in props.items()}

    out: dict[str, Any] = {"type": f"pulumi-python:dynamic/helmlife:{kind}",
                           "inputs": {"__provider": "[secret]", **recorded(inputs)}}
    if parent:
        out["parent"] = parent
    if outputs is not None:
        out["outputs"] = recorded(outputs)
    return out


def release_state(parent: str, *, name: str, namespace: str, chart: str, version: Any, values: Any = None,
                  **more: Any) -> dict[str, Any]:
    """The Release's state: the plugin's Release fields, camelCase, as its Check records them."""
    inputs = {"atomic": True, "chart": chart, "createNamespace": False, "description": "helmlife 3f2a9c0d1e4b",
              "name": name, "namespace": namespace, "resetValues": True, "skipAwait": False, "timeout": 180,
              "values": values or {}, **more}
    if version is not None:
        inputs["version"] = version
    return {"type": RELEASE_TYPE, "parent": parent, "inputs": inputs}


def step(op: str, at: str, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None,
         **reported: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"op": op, "urn": at}
    if old is not None:
        out["oldState"] = old
    if new is not None:
        out["newState"] = new
    out.update({k: v for k, v in reported.items() if k != "detailedDiff"})
    out["detailedDiff"] = reported.get("detailedDiff")
    return out


def streamed(digest: dict[str, Any]) -> list[dict[str, Any]]:
    """The same preview as PULUMI_ENABLE_STREAMING_JSON_PREVIEW streams it: engine events, a
    replacement as its create-replacement, replace and delete-replaced events."""
    events: list[dict[str, Any]] = [
        {"preludeEvent": {"config": {}}},
        {"diagnosticEvent": {"prefix": "debug: ", "message": "registering resource: ty=pulumi:pulumi:Stack\n",
                             "color": "never", "severity": "debug"}}]
    for s in digest["steps"]:
        ops = ("create-replacement", "replace", "delete-replaced") if s["op"] == "replace" else (s["op"],)
        for op in ops:
            meta = {"op": op, "urn": s["urn"], "type": (s.get("newState") or s.get("oldState") or {}).get("type"),
                    "old": s.get("oldState"), "new": s.get("newState"), "detailedDiff": s.get("detailedDiff"),
                    "provider": ""}
            if s.get("replaceReasons"):
                meta["keys"] = s["replaceReasons"]
            if s.get("diffReasons"):
                meta["diffs"] = s["diffReasons"]
            events.append({"resourcePreEvent": {"metadata": meta, "planning": True}})
    events.append({"summaryEvent": {"maybeCorrupt": False, "durationSeconds": 2,
                                    "resourceChanges": digest["changeSummary"], "PolicyPacks": {},
                                    "isPreview": True, "result": "succeeded"}})
    return events


def spec(name: str, namespace: str, chart: Any, **more: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "chart": chart, **more}


# -- dev: demo-operator 1.0.0 -> 2.0.0, hello-repo added, old-operator removed, demo-app unchanged --
# (demo-app was deployed by helmlife 0.2: its retired check_prerequisites and post_exec steps leave the state).

DEV = "dev"
OPERATOR, HELLO, OLD, DEMO = (chart_urn(DEV, c) for c in ("demo-operator", "hello-repo", "old-operator", "demo-app"))
# What every step of a chart gets (spec, project_dir, chart_version); pre_exec also the chart digest.
OPERATOR_V1 = dict(spec=spec("demo-operator", "helmlife-dev", {"path": "charts/demo-operator/1.0.0"}),
                   chart_version="1.0.0", project_dir="/work/main")
OPERATOR_V2 = dict(spec=spec("demo-operator", "helmlife-dev", {"path": "charts/demo-operator/2.0.0"}),
                   chart_version="2.0.0", project_dir="/work/main")
OPERATOR_CONFIG = "ConfigMap/helmlife-dev/demo-operator"
HELLO_SPEC = dict(spec=spec("hello-repo", "helmlife-dev", {"repo": "http://127.0.0.1:8879", "name": "hello-repo",
                                                           "version": "0.1.0"}), chart_version="0.1.0")
OLD_SPEC = dict(spec=spec("old-operator", "helmlife-dev", {"path": "charts/old-operator"}), chart_version="0.3.0")
OLD_CRDS = ["gadgets.old.example.com", "gizmos.old.example.com"]

UPGRADE = {"steps": [
    step("same", f"urn:pulumi:{DEV}::helmlife::pulumi:pulumi:Stack::helmlife-dev",
         {"type": "pulumi:pulumi:Stack"}, {"type": "pulumi:pulumi:Stack"}),
    step("same", f"urn:pulumi:{DEV}::helmlife::pulumi:providers:kubernetes::dev-cluster",
         {"type": "pulumi:providers:kubernetes"}, {"type": "pulumi:providers:kubernetes"}),
    step("same", OPERATOR, {"type": "helmlife:index:LifecycleChart"}, {"type": "helmlife:index:LifecycleChart"}),
    step("create", HELLO, new={"type": "helmlife:index:LifecycleChart"}),
    step("update", urn(DEV, "PreExec", "demo-operator-pre-exec"),
         state("PreExec", parent=OPERATOR, **OPERATOR_V1, chart_digest="d-1.0.0", plan="deployed 1.0.0", changes={},
               rollout="5d1c2e3f4a5b", crds=["widgets.demo.example.com"], crd_digest="c-1",
               manifest={OPERATOR_CONFIG: {"data": {"version": "1.0.0"}}},
               outputs={"owned_crds": ["widgets.demo.example.com"]}),
         state("PreExec", parent=OPERATOR, **OPERATOR_V2, chart_digest="d-2.0.0", plan="upgrade 1.0.0 → 2.0.0",
               rollout="9e8d7c6b5a4f", crds=["widgets.demo.example.com"], crd_digest="c-2",
               changes={OPERATOR_CONFIG: {"data.version": "1.0.0 → 2.0.0"}},
               manifest={OPERATOR_CONFIG: {"data": {"version": "2.0.0"}}})),
    step("create", urn(DEV, "PreExec", "hello-repo-pre-exec"),
         new=state("PreExec", parent=HELLO, **HELLO_SPEC, crds=None, plan="install 0.1.0",
                   changes={"ConfigMap/helmlife-dev/hello-repo": "added"},
                   manifest={"ConfigMap/helmlife-dev/hello-repo": {"data": {"greeting": "hi"}}})),
    step("update", urn(DEV, RELEASE_TYPE, "demo-operator"),
         release_state(OPERATOR, name="demo-operator", namespace="helmlife-dev", chart="charts/demo-operator/1.0.0",
                       version="1.0.0"),
         release_state(OPERATOR, name="demo-operator", namespace="helmlife-dev", chart="charts/demo-operator/2.0.0",
                       version="2.0.0", description="helmlife 9e8d7c6b5a4f"),
         diffReasons=["chart", "description", "version"],
         detailedDiff={"chart": {"kind": "update", "inputDiff": True},
                       "description": {"kind": "update", "inputDiff": True},
                       "version": {"kind": "update", "inputDiff": True}}),
    step("create", urn(DEV, RELEASE_TYPE, "hello-repo"),
         new=release_state(HELLO, name="hello-repo", namespace="helmlife-dev", chart="hello-repo", version="0.1.0",
                           repositoryOpts={"repo": "http://127.0.0.1:8879"})),
    step("update", urn(DEV, "Validate", "demo-operator-validate"),
         state("Validate", parent=OPERATOR, **OPERATOR_V1, revision=1, reinstall_key=0),
         state("Validate", parent=OPERATOR, **OPERATOR_V2, revision=UNKNOWN, reinstall_key=0)),
    step("create", urn(DEV, "Validate", "hello-repo-validate"),
         new=state("Validate", parent=HELLO, **HELLO_SPEC, revision=UNKNOWN)),
    step("delete", urn(DEV, "Validate", "old-operator-validate"),
         state("Validate", parent=OLD, **OLD_SPEC, revision=4)),
    step("delete", urn(DEV, RELEASE_TYPE, "old-operator"),
         release_state(OLD, name="old-operator", namespace="helmlife-dev", chart="charts/old-operator",
                       version="0.3.0")),
    step("delete", urn(DEV, "PreExec", "old-operator-pre-exec"),
         state("PreExec", parent=OLD, **OLD_SPEC, crds=OLD_CRDS, plan="deployed 0.3.0", changes={},
               manifest={"Deployment/helmlife-dev/old-operator": {"spec": {"replicas": 1}}},
               outputs={"owned_crds": OLD_CRDS})),
    step("delete", OLD, {"type": "helmlife:index:LifecycleChart"}),
    step("same", DEMO, {"type": "helmlife:index:LifecycleChart"}, {"type": "helmlife:index:LifecycleChart"}),
    # helmlife 0.2's steps with no successor: the program no longer declares them, nothing runs.
    step("delete", urn(DEV, "CheckPrerequisites", "demo-app-check-prerequisites"),
         state("CheckPrerequisites", parent=DEMO, spec=spec("demo-app", "helmlife-dev", "charts/demo-app"))),
    step("delete", urn(DEV, "PostExec", "demo-app-post-exec"),
         state("PostExec", parent=DEMO, spec=spec("demo-app", "helmlife-dev", "charts/demo-app"))),
], "duration": 1645589422, "changeSummary": {"create": 4, "delete": 6, "same": 4, "update": 3}}

# -- staging: web moves to namespace web-prod (the Release is reinstalled there; its CRDs stay, marked
# for the new owner by pre_exec's new copy),
# demo-app gets a new value, gateway crosses its breaking version (the Release is replaced). --

STAGING = "staging"
WEB, APP_URN, GATEWAY = (chart_urn(STAGING, c) for c in ("web", "demo-app", "gateway"))
WEB_CHART = {"repo": "http://127.0.0.1:8879", "name": "web", "version": "1.2.0"}
WEB_OLD = dict(spec=spec("web", "helmlife-dev", WEB_CHART), chart_version="1.2.0")
WEB_NEW = dict(spec=spec("web", "web-prod", WEB_CHART), chart_version="1.2.0")
APP_SPEC = dict(spec=spec("demo-app", "helmlife-dev", "charts/demo-app"), chart_version="0.1.0")
GATEWAY_CHART = {"repo": "http://127.0.0.1:8879", "name": "gateway"}
GATEWAY_OLD = dict(spec=spec("gateway", "edge", {**GATEWAY_CHART, "version": "1.0.0"},
                             last_breaking_version_requiring_restart="2.0.0"), chart_version="1.0.0")
GATEWAY_NEW = dict(spec=spec("gateway", "edge", {**GATEWAY_CHART, "version": "2.0.0"},
                             last_breaking_version_requiring_restart="2.0.0"), chart_version="2.0.0")
ROUTES = ["routes.web.example.com"]

REPLACE = {"steps": [
    step("replace", urn(STAGING, "PreExec", "web-pre-exec"),
         state("PreExec", parent=WEB, **WEB_OLD, crds=None, plan="deployed 1.2.0", changes={},
               outputs={"owned_crds": ROUTES}),
         state("PreExec", parent=WEB, **WEB_NEW, crds=None, plan="install 1.2.0", changes={}),
         replaceReasons=["__spec"]),
    step("update", urn(STAGING, "PreExec", "demo-app-pre-exec"),
         state("PreExec", parent=APP_URN, **APP_SPEC, values={"message": "hello"}, values_digest="v-1",
               plan="deployed 0.1.0", changes={}),
         state("PreExec", parent=APP_URN, **APP_SPEC, values={"message": "hello from staging"}, values_digest="v-2",
               plan="upgrade 0.1.0 (same chart version)",
               changes={"ConfigMap/helmlife-dev/demo-app": {"data.message": "hello → hello from staging"}})),
    step("update", urn(STAGING, "PreExec", "gateway-pre-exec"),
         state("PreExec", parent=GATEWAY, **GATEWAY_OLD, plan="deployed 1.0.0", changes={}, reinstall_key=0),
         state("PreExec", parent=GATEWAY, **GATEWAY_NEW, plan="uninstall and reinstall: 1.0.0 → 2.0.0 crosses 2.0.0",
               changes={}, reinstall_key=1)),
    step("replace", urn(STAGING, RELEASE_TYPE, "web"),
         release_state(WEB, name="web", namespace="helmlife-dev", chart="web", version="1.2.0"),
         release_state(WEB, name="web", namespace="web-prod", chart="web", version="1.2.0"),
         replaceReasons=["namespace"], diffReasons=["namespace"],
         detailedDiff={"namespace": {"kind": "update-replace", "inputDiff": True}}),
    step("update", urn(STAGING, RELEASE_TYPE, "demo-app"),
         release_state(APP_URN, name="demo-app", namespace="helmlife-dev", chart="charts/demo-app", version="0.1.0",
                       values={"message": "hello"}),
         release_state(APP_URN, name="demo-app", namespace="helmlife-dev", chart="charts/demo-app", version="0.1.0",
                       values={"message": "hello from staging"}),
         diffReasons=["values"], detailedDiff={"values.message": {"kind": "update", "inputDiff": True}}),
    step("replace", urn(STAGING, RELEASE_TYPE, "gateway"),
         release_state(GATEWAY, name="gateway", namespace="edge", chart="gateway", version="1.0.0"),
         release_state(GATEWAY, name="gateway", namespace="edge", chart="gateway", version="2.0.0"),
         diffReasons=["version"], detailedDiff={"version": {"kind": "update", "inputDiff": True}}),
    step("replace", urn(STAGING, "Validate", "web-validate"),
         state("Validate", parent=WEB, **WEB_OLD, revision=3),
         state("Validate", parent=WEB, **WEB_NEW, revision=UNKNOWN),
         replaceReasons=["__spec"]),
    step("update", urn(STAGING, "Validate", "demo-app-validate"),
         state("Validate", parent=APP_URN, **APP_SPEC, revision=2),
         state("Validate", parent=APP_URN, **APP_SPEC, revision=UNKNOWN)),
    step("update", urn(STAGING, "Validate", "gateway-validate"),
         state("Validate", parent=GATEWAY, **GATEWAY_OLD, revision=5, reinstall_key=0),
         state("Validate", parent=GATEWAY, **GATEWAY_NEW, revision=UNKNOWN, reinstall_key=1)),
], "changeSummary": {"replace": 4, "same": 6, "update": 5}}

EVENTS = streamed(REPLACE)

def row(markdown: str, chart: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| `{chart}` |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_upgrade_preview_exact() -> None:
    assert summarize(UPGRADE) == (
        "### Preview of stack `dev`\n"
        "\n"
        "Resources: 4 to create, 3 to update, 6 to delete, 4 unchanged.\n"
        "\n"
        "| Chart | Release | Lifecycle steps that run (and why) |\n"
        "|---|---|---|\n"
        "| `demo-operator` | upgrade 1.0.0 → 2.0.0 | pre_exec — update: `chart_digest`, `chart_version`, "
        "`crd_digest`, `rollout`<br>release — update: `chart`, `description`, `version`"
        "<br>validate — update: `revision` |\n"
        "| `hello-repo` | install 0.1.0 | pre_exec, release, validate — create |\n"
        "| `old-operator` | uninstall 0.3.0 | pre_exec, release, validate — delete |\n"
        "\n"
        "**CRDs that will be deleted** (deleting a CRD deletes every custom resource of its kind):\n"
        "- `old-operator`: removed with the chart: `gadgets.old.example.com`, `gizmos.old.example.com`. "
        "The delete stops if custom resources of them still exist.\n"
        "\n"
        "**What changes in the cluster** (secret values are masked):\n"
        "\n"
        "<details><summary><code>demo-operator</code>: 1 changed</summary>\n\n```diff\n"
        "~ ConfigMap/helmlife-dev/demo-operator\n@@ -1,2 +1,2 @@\n data:\n-  version: 1.0.0\n+  version: 2.0.0\n"
        "```\n</details>\n"
        "\n"
        "<details><summary><code>hello-repo</code>: 1 added</summary>\n\n```diff\n"
        "+ ConfigMap/helmlife-dev/hello-repo\n```\n</details>\n"
        "\n"
        "<details><summary><code>old-operator</code>: 1 removed</summary>\n\n```diff\n"
        "- Deployment/helmlife-dev/old-operator\n```\n</details>\n"
        "\n"
    )


def test_dynamic_steps_report_no_diff_so_their_inputs_are_compared() -> None:
    """The reason the module diffs step inputs itself: dynamic providers report no changed
    keys. The Release's provider does, and those are its reasons."""
    charts = ps.collect(UPGRADE["steps"])
    pre = charts["demo-operator"].steps["pre_exec"]
    raw = next(s for s in UPGRADE["steps"] if s["urn"].endswith("::demo-operator-pre-exec"))
    assert "diffReasons" not in raw and raw["detailedDiff"] is None
    assert {"spec.chart", "chart_version", "plan", "manifest"} <= pre.reasons  # every changed input, unprefixed
    assert ps.why(pre) == ["chart_digest", "chart_version", "crd_digest", "rollout"]  # what pre_exec reacts to
    assert ps.why(charts["demo-operator"].steps["release"]) == ["chart", "description", "version"]


def test_bookkeeping_inputs_are_read_without_their_prefix() -> None:
    charts = ps.collect(UPGRADE["steps"])
    pre = charts["demo-operator"].steps["pre_exec"]
    assert pre.new_inputs["chart_version"] == "2.0.0" and pre.new_inputs["plan"] == "upgrade 1.0.0 → 2.0.0"
    assert charts["old-operator"].steps["pre_exec"].old_outputs["owned_crds"] == OLD_CRDS
    assert not any(k.startswith("__") and k != "__provider" for k in pre.new_inputs)


def test_unchanged_charts_retired_steps_and_the_stack_are_left_out() -> None:
    """demo-app is unchanged; the retired steps of helmlife 0.2 leaving its state run nothing."""
    md = summarize(UPGRADE)
    assert "demo-app" not in md and "helmlife-dev`" not in md and "dev-cluster" not in md
    assert "check_prerequisites" not in md and "post_exec" not in md
    assert ps.collect(UPGRADE["steps"])["demo-app"].steps == {}  # the component only, unchanged


def test_the_release_is_grouped_under_its_parent_chart() -> None:
    charts = ps.collect(UPGRADE["steps"])
    assert sorted(charts["hello-repo"].steps) == ["pre_exec", "release", "validate"]
    preview = {"steps": [step("update", urn("prod", RELEASE_TYPE, "shop-release"),
                              release_state(chart_urn("prod", "shop"), name="shop", namespace="a", chart="c",
                                            version="1.0.0", values={"a": 1}),
                              release_state(chart_urn("prod", "shop"), name="shop", namespace="a", chart="c",
                                            version="1.0.0", values={"a": 2}),
                              detailedDiff={"values.a": {"kind": "update", "inputDiff": True}})]}
    assert row(summarize(preview), "shop") == ["`shop`", "upgrade 1.0.0 (same chart version)",
                                               "release — update: `values`"]


def test_replace_preview() -> None:
    md = summarize(REPLACE)
    assert md.startswith("### Preview of stack `staging`\n\nResources: 5 to update, 4 to replace, 6 unchanged.\n")
    assert row(md, "web") == ["`web`", "reinstall 1.2.0 (namespace helmlife-dev → web-prod)",
                              "pre_exec — replace: `spec.namespace`<br>release — replace: `namespace`"
                              "<br>validate — replace: `revision`, `spec.namespace`"]
    assert row(md, "demo-app") == ["`demo-app`", "upgrade 0.1.0 (same chart version)",
                                   "pre_exec — update: `values_digest`<br>release — update: `values`"
                                   "<br>validate — update: `revision`"]
    # pre_exec's decision, not the Release's op, says what happens to a breaking-version reinstall.
    assert row(md, "gateway") == ["`gateway`", "uninstall and reinstall: 1.0.0 → 2.0.0 crosses 2.0.0",
                                  "pre_exec — update: `chart_version`, `reinstall_key`<br>release — replace: "
                                  "`version`<br>validate — update: `reinstall_key`, `revision`"]
    # A moved release keeps its cluster-scoped CRDs: pre_exec's new copy marks them for the new
    # owner before the old copy is deleted, so its owned_crds are not deleted.
    assert "CRDs that will be deleted" not in md


def test_a_renamed_release_names_both_sides() -> None:
    parent = chart_urn("prod", "shop")
    preview = {"steps": [step("replace", urn("prod", RELEASE_TYPE, "shop"),
                              release_state(parent, name="shop", namespace="a", chart="c", version="1.0.0"),
                              release_state(parent, name="shop-v2", namespace="b", chart="c", version="1.1.0"),
                              replaceReasons=["name", "namespace"])]}
    assert row(summarize(preview), "shop")[1] == (
        "reinstall 1.0.0 → 1.1.0 (release shop → shop-v2, namespace a → b)")


def test_engine_events_form_matches_the_digest() -> None:
    md = summarize(EVENTS)
    for chart in ("web", "demo-app", "gateway"):
        assert row(md, chart) == row(summarize(REPLACE), chart)
    assert "Resources: 5 to update, 4 to replace, 6 unchanged." in md
    assert "registering resource" not in md  # debug diagnostics are noise
    assert summarize({"events": EVENTS}) == md


def test_diff_reasons_and_detailed_diff_are_used_when_present() -> None:
    parent = chart_urn("prod", "shop")
    preview = {"steps": [
        step("update", urn("prod", RELEASE_TYPE, "shop"),
             release_state(parent, name="shop", namespace="a", chart="c", version="1.0.0"),
             release_state(parent, name="shop", namespace="a", chart="c", version="1.0.0"),
             diffReasons=["values"],
             detailedDiff={"values.image.tag": {"kind": "update", "inputDiff": True},
                           "status": {"kind": "update"}, "resourceNames": {"kind": "update"},
                           "__inputs": {"kind": "update"}}),
        # A dynamic step that did report its reasons: read without the bookkeeping prefix.
        step("update", urn("prod", "PreExec", "shop-pre-exec"),
             state("PreExec", parent=parent), state("PreExec", parent=parent),
             diffReasons=["__crds", "__payload"]),
    ]}
    assert row(summarize(preview), "shop")[2] == "pre_exec — update: `crds`<br>release — update: `values`"


def test_internal_inputs_are_never_reasons() -> None:
    step_ = ps.Step("pre_exec", "update", reasons={"__provider", "kubeconfig", "payload", "project_dir", "plan",
                                                   "changes", "manifest", "drifted", "spec.timeout"})
    assert ps.why(step_) == ["spec.timeout"]
    step_.reasons.add("spec.values")  # not a pre_exec trigger: values_digest is
    assert ps.why(step_) == ["spec.timeout"]


def test_update_without_a_visible_reason_names_a_secret_input() -> None:
    """values_digest and secret_values are secret inputs: both sides read "[secret]"."""
    parent = chart_urn("dev", "app")
    hidden = dict(spec=spec("app", "a", "charts/app"), chart_version="1.0.0", secret_values="[secret]",
                  values_digest="[secret]")
    preview = {"steps": [
        step("update", urn("dev", "PreExec", "app-pre-exec"),
             state("PreExec", parent=parent, **hidden, plan="deployed 1.0.0", outputs={"owned_crds": []}),
             state("PreExec", parent=parent, **hidden, plan="upgrade 1.0.0 (same chart version)")),
        step("update", urn("dev", RELEASE_TYPE, "app"),
             release_state(parent, name="app", namespace="a", chart="charts/app", version="1.0.0", values="[secret]"),
             release_state(parent, name="app", namespace="a", chart="charts/app", version="1.0.0", values="[secret]"),
             detailedDiff={"values": {"kind": "update", "inputDiff": True}}),
    ]}
    assert row(summarize(preview), "app")[1:] == ["upgrade 1.0.0 (same chart version)",
                                                   "pre_exec — update: `a secret input`"
                                                   "<br>release — update: `values`"]


@pytest.mark.parametrize("old, new, text", [
    ("2.0.0", "1.5.0", "downgrade 2.0.0 → 1.5.0"),
    ("1.0.0", UNKNOWN, "upgrade 1.0.0 → (known after up)"),
    ("1.0.0", None, "upgrade 1.0.0 → (unknown version)"),
])
def test_release_versions(old: str, new: str | None, text: str) -> None:
    """Without a plan from pre_exec (its inputs are not known at preview), the Release's own
    `version` inputs tell the direction."""
    parent = chart_urn("dev", "app")
    preview = {"steps": [
        step("update", urn("dev", "PreExec", "app-pre-exec"), state("PreExec", parent=parent, plan="deployed"),
             state("PreExec", parent=parent, plan=UNKNOWN)),
        step("update", urn("dev", RELEASE_TYPE, "app"),
             release_state(parent, name="app", namespace="a", chart="c", version=old),
             release_state(parent, name="app", namespace="a", chart="c", version=new),
             detailedDiff={"version": {"kind": "update", "inputDiff": True}}),
    ]}
    assert row(summarize(preview), "app")[1] == text


def test_forced_crd_deletion_and_input_fallback() -> None:
    """With no owned_crds output recorded, the declared `crds` input names them."""
    preview = {"steps": [step("delete", urn("dev", "PreExec", "op-pre-exec"),
                              state("PreExec", crds=["a.example.com"],
                                    spec=spec("op", "ns", "charts/op", force_crd_deletion=True)))]}
    md = summarize(preview)
    assert ("- `op`: removed with the chart: `a.example.com`. "
            "force_crd_deletion is set, so their custom resources are deleted too.") in md
    assert row(md, "op")[1] == "no change"  # no Release in this preview


def test_a_replaced_pre_exec_deletes_no_crds() -> None:
    """A renamed release replaces pre_exec: the new copy marks the CRDs for the new owner before
    the old copy's delete, which then leaves them (digest form, and the streamed form's
    create-replacement / replace / delete-replaced events)."""
    parent = chart_urn("dev", "op")
    preview = {"steps": [step("replace", urn("dev", "PreExec", "op-pre-exec"),
                              state("PreExec", parent=parent, spec=spec("op", "ns", "charts/op"),
                                    crds=["a.example.com"],
                                    outputs={"owned_crds": ["a.example.com", "b.example.com"]}),
                              state("PreExec", parent=parent, spec=spec("op-v2", "ns", "charts/op"),
                                    crds=["a.example.com"]),
                              replaceReasons=["__spec"])],
               "changeSummary": {"replace": 1}}
    for md in (summarize(preview), summarize(streamed(preview))):
        assert "CRDs that will be deleted" not in md and "b.example.com" not in md
        assert row(md, "op")[2] == "pre_exec — replace: `spec.name`"


# State of helmlife 0.3 not yet moved: pre_exec has neither `crds` nor `owned_crds`, the retired
# CrdCleanup step (0.1 named it `<chart>-crds`) owns the CRDs.
RETIRED_CRDS = ["a.example.com", "b.example.com"]


def _not_yet_moved(pre_exec_op: str | None, crd_cleanup_name: str, parent: str | None) -> list[dict[str, Any]]:
    old_spec = dict(spec=spec("op", "ns", "charts/op"), chart_version="1.0.0")
    steps = [step("delete", urn("dev", "CrdCleanup", crd_cleanup_name),
                  state("CrdCleanup", parent=parent, **old_spec, crds=None,
                        outputs={"owned_crds": RETIRED_CRDS}))]
    if pre_exec_op == "delete":
        steps.append(step("delete", urn("dev", "PreExec", "op-pre-exec"),
                          state("PreExec", parent=parent, **old_spec, plan="deployed 1.0.0", changes={},
                                outputs={"reinstall_key": 0})))
    elif pre_exec_op == "update":  # the `up` records pre_exec's CRD inputs and owned_crds, running nothing
        steps.append(step("update", urn("dev", "PreExec", "op-pre-exec"),
                          state("PreExec", parent=parent, **old_spec, plan="deployed 1.0.0", changes={},
                                outputs={"reinstall_key": 0}),
                          state("PreExec", parent=parent, **old_spec, crds=None, crd_digest="c-1",
                                plan="deployed 1.0.0", changes={})))
    return steps


@pytest.mark.parametrize("name, parent", [("op-crd-cleanup", chart_urn("dev", "op")), ("op-crds", None)])
def test_destroying_state_not_yet_moved_deletes_the_retired_crd_cleanups_crds(name: str, parent: str | None) -> None:
    md = summarize({"steps": _not_yet_moved("delete", name, parent)})
    assert ("- `op`: removed with the chart: `a.example.com`, `b.example.com`. "
            "The delete stops if custom resources of them still exist.") in md


@pytest.mark.parametrize("pre_exec_op", ["update", None])
def test_an_up_deleting_only_the_retired_crd_cleanup_deletes_no_crds(pre_exec_op: str | None) -> None:
    """Moving 0.3 state: the release stays installed, so the retired step's delete touches nothing."""
    md = summarize({"steps": _not_yet_moved(pre_exec_op, "op-crd-cleanup", chart_urn("dev", "op"))})
    assert "CRDs that will be deleted" not in md
    assert not any(n in md for n in RETIRED_CRDS)
    if pre_exec_op == "update":  # it records the CRDs it owns now: no input of the state's changed
        assert row(md, "op")[2] == "pre_exec — update: `owned_crds`"


def test_no_crd_warning_when_nothing_is_owned_or_dry_run() -> None:
    steps = [
        step("delete", urn("dev", "PreExec", "a-pre-exec"),
             state("PreExec", crds=None, outputs={"owned_crds": []})),
        step("delete", urn("dev", "PreExec", "b-pre-exec"),
             state("PreExec", crds=["x.example.com"], spec={"dry_run": True})),
        step("update", urn("dev", "PreExec", "c-pre-exec"),
             state("PreExec", crds=["y.example.com"]), state("PreExec", crds=[])),
    ]
    md = summarize({"steps": steps})
    assert "CRDs that will be deleted" not in md
    assert row(md, "c")[2] == "pre_exec — update: `crds`"


def test_component_only_and_chart_from_parent() -> None:
    preview = {"steps": [
        step("delete", urn("dev", None, "gone"), {"type": "helmlife:index:LifecycleChart"}),
        step("create", urn("dev", "Validate", "odd-name"), new=state("Validate", parent=urn("dev", None, "shop"))),
    ]}
    md = summarize(preview)
    assert row(md, "gone") == ["`gone`", "uninstall", "component only (delete)"]
    assert row(md, "shop") == ["`shop`", "no change", "validate — create"]


def test_other_resources_are_ignored_and_no_changes_is_said() -> None:
    preview = {"steps": [
        {"op": "same", "urn": "urn:pulumi:prod::helmlife::pulumi:pulumi:Stack::helmlife-prod",
         "oldState": {"type": "pulumi:pulumi:Stack"}, "newState": {"type": "pulumi:pulumi:Stack"}},
        {"op": "create", "urn": "urn:pulumi:prod::helmlife::kubernetes:core/v1:Namespace::ns",
         "newState": {"type": "kubernetes:core/v1:Namespace", "inputs": {}}},
        # A Release the program declares outside any LifecycleChart is not a chart.
        {"op": "create", "urn": f"urn:pulumi:prod::helmlife::{RELEASE_TYPE}::mine",
         "newState": release_state("urn:pulumi:prod::helmlife::pulumi:pulumi:Stack::helmlife-prod", name="mine",
                                   namespace="a", chart="c", version="1.0.0")},
    ], "changeSummary": {"same": 19, "create": 2}}
    assert summarize(preview) == ("### Preview of stack `prod`\n\nResources: 2 to create, 19 unchanged.\n\n"
                                  "No chart changes.\n")
    assert summarize({}) == "### Preview\n\nNo chart changes.\n"


def test_errors_and_warnings_are_listed() -> None:
    preview = copy.deepcopy(UPGRADE)
    preview["diagnostics"] = [
        {"urn": urn("dev", "PreExec", "demo-operator-pre-exec"),
         "message": "demo-operator: pre_exec: namespace\n  missing", "severity": "error"},
        {"message": "registering resource", "severity": "debug"},
        {"message": "x" * 400, "severity": "warning"},
    ]
    md = summarize(preview)
    assert "- error `demo-operator-pre-exec`: demo-operator: pre_exec: namespace missing" in md
    assert "registering resource" not in md
    assert f"- warning: {'x' * 299}…" in md


# A preview that failed in the program: Pulumi still prints the digest, with the error (traceback
# cut), once as the program's error and once as the engine's "unhandled error".
PROGRAM_ERROR = ("python inline source runtime error: stack 'dev', chart 'demo-app': namespace: "
                 "'Bad_NS' is not a valid namespace\n"
                 'Traceback (most recent call last):\n'
                 '  File "/work/main/.venv/lib/python3.11/site-packages/pulumi/automation/_server.py", '
                 'line 95, in run\n'
                 '    loop.run_until_complete(run_in_stack(self.program))\n'
                 '  [...]\n'
                 "ValueError: stack 'dev', chart 'demo-app': namespace: 'Bad_NS' is not a valid namespace\n\n")
FAILED = {'steps': [{'op': 'same',
                     'urn': 'urn:pulumi:dev::helmlife::pulumi:pulumi:Stack::helmlife-dev',
                     'oldState': {'type': 'pulumi:pulumi:Stack'},
                     'newState': {'type': 'pulumi:pulumi:Stack'},
                     'detailedDiff': None}],
          'diagnostics': [{'message': f"error: {PROGRAM_ERROR}", 'severity': 'error'},
                          {'message': f"error: an unhandled error occurred: {PROGRAM_ERROR}", 'severity': 'error'}],
          'duration': 28931052,
          'changeSummary': {'same': 1}}


def test_failed_preview_shows_the_error_once_without_traceback() -> None:
    assert summarize(FAILED) == (
        "### Preview of stack `dev`\n\nResources: 1 unchanged.\n\nNo chart changes.\n\n**Diagnostics:**\n"
        "- error: python inline source runtime error: stack 'dev', chart 'demo-app': namespace: "
        "'Bad_NS' is not a valid namespace\n"
    )


def test_main_reads_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "preview-dev.json"
    f.write_text(json.dumps(UPGRADE, indent=4))
    assert main([str(f)]) == 0
    assert capsys.readouterr().out == summarize(UPGRADE)


def test_main_reads_stdin_and_json_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(e) for e in EVENTS) + "\n"))
    assert main([]) == 0
    assert capsys.readouterr().out == summarize(EVENTS)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(REPLACE)))
    assert main(["-"]) == 0
    assert capsys.readouterr().out == summarize(REPLACE)


@pytest.mark.parametrize("text, message", [
    ("", "preview-summary: the preview is empty; did `pulumi preview --json` fail before printing anything?"),
    ("{not json", "preview-summary: not JSON from `pulumi preview --json`:"),
])
def test_main_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    f = tmp_path / "p.json"
    f.write_text(text)
    assert main([str(f)]) == 2
    err = capsys.readouterr()
    assert err.out == "" and err.err.startswith(message)


def test_main_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    assert "No such file" in capsys.readouterr().err
