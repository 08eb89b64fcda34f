"""Which inputs make which step re-run: the contract `pulumi preview` shows, decided by the
step table and the one provider."""
from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from helmlife.spec import parse_spec
from helmlife.steps import LIFECYCLE, lookup
from helmlife.steps.base import StepProvider, unwrap
from helmlife.spec import crosses_breaking

KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: []\nclusters: []\n"
SPEC = parse_spec({"name": "demo", "chart": "c", "namespace": "ns", "last_breaking_version_requiring_restart": "2.0.0"})
BASE: dict[str, Any] = {
    "spec": SPEC.public_doc(), "project_dir": "/a", "kubeconfig": KUBECONFIG, "payload": {}, "hooks": {},
    "chart_version": "1.0.0", "chart_digest": "d1", "values_digest": "v1", "values": {"a": 1},
    "secret_values": {}, "revision": 1, "crds": ["w.x.io"], "crd_digest": "c1", "owned_crds": ["w.x.io"],
    "resources": [],
}
ALL = [s.name for s in LIFECYCLE]


def diff(step: str, olds: dict[str, Any] | None = None, **news: Any):
    return StepProvider(step).diff("id", olds or BASE, {**BASE, **news})


def runs(**news: Any) -> set[str]:
    return {s for s in ALL if diff(s, **news).changes}


def with_spec(**fields: Any) -> dict[str, Any]:
    return {"spec": {**BASE["spec"], **fields}}


def test_values_change_reruns_pre_exec_only() -> None:
    """The Release's own diff (pulumi-kubernetes') upgrades it; validate follows its new revision."""
    assert runs(values_digest="v2", values={"a": 2}) == {"pre_exec"}


def test_version_change() -> None:
    assert runs(chart_version="2.0.0") == {"pre_exec"}


def test_payload_alone_does_not_rerun_anything() -> None:
    assert runs(payload={"x": 1}) == set()


def test_project_dir_is_not_a_trigger() -> None:
    assert runs(project_dir="/elsewhere") == set()


def test_new_revision_reruns_validate() -> None:
    assert runs(revision=UNKNOWN) == {"validate"}
    assert runs(revision=2) == {"validate"}


def test_reinstall_at_the_same_revision_reruns_validate() -> None:
    """A breaking-version reinstall goes from revision 1 to revision 1: pre_exec's reinstall
    count tells (it is also the Release's replacement trigger)."""
    counted = {**BASE, "reinstall_key": 1}
    assert {s for s in ALL if diff(s, counted, reinstall_key=2).changes} == {"pre_exec", "validate"}
    assert not any(diff(s, counted, reinstall_key=1).changes for s in ALL)


def test_state_without_a_reinstall_count_is_not_a_change() -> None:
    """State written before the count existed: the first preview sees it unknown (validate's
    wire), the first up sees it absent."""
    assert not diff("validate", BASE, reinstall_key=UNKNOWN).changes
    assert not diff("validate", BASE, reinstall_key=None).changes


def test_previous_version_is_context_not_a_trigger() -> None:
    assert runs(previous_version="0.9.0") == set()
    assert runs(previous_version=UNKNOWN) == set()


def test_a_helm_flag_is_the_releases_change_alone() -> None:
    assert runs(**with_spec(atomic=False)) == set()


def test_delete_settings_are_recorded_without_running() -> None:
    # validate reads it too: its delete refuses first while CRDs about to go hold custom resources.
    assert runs(**with_spec(force_crd_deletion=True)) == {"pre_exec", "validate"}
    provider = StepProvider("validate")
    outs = provider.update("id", {**BASE, "__checks_passed": ["x"]}, {**BASE, **with_spec(force_crd_deletion=True)}).outs
    outs = unwrap(outs)
    assert outs["checks_passed"] == ["x"] and outs["spec"]["force_crd_deletion"]  # recorded, nothing run


def test_changed_crds_rerun_pre_exec_and_reach_validates_record() -> None:
    assert runs(crd_digest="c2") == {"pre_exec"}
    assert runs(crds=["w.x.io", "v.x.io"], owned_crds=["w.x.io", "v.x.io"]) == {"pre_exec", "validate"}
    provider = StepProvider("validate")
    outs = provider.update("id", {**BASE, "__checks_passed": ["x"]}, {**BASE, "owned_crds": ["v.x.io"]}).outs
    outs = unwrap(outs)
    assert outs["owned_crds"] == ["v.x.io"] and outs["checks_passed"] == ["x"]


def test_crd_upgrade_reruns_pre_exec() -> None:
    assert runs(**with_spec(crd_upgrade="apply")) == {"pre_exec"}


def test_inputs_added_after_the_state_was_written_are_no_change() -> None:
    olds = {k: v for k, v in BASE.items() if k != "crd_digest"}
    assert {s for s in ALL if diff(s, olds).changes} == set()


def test_a_pre_exec_from_before_it_owned_the_crds_records_them_without_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """State of helmlife 0.3, whose crd_cleanup step owned the CRDs: pre_exec has no crds,
    crd_digest or owned_crds. The update records the CRDs it now owns; no hook, no helm, no
    CRD call (the owner mark is the same)."""
    def ran(*_: Any) -> dict[str, Any]:
        raise AssertionError("pre_exec ran")
    monkeypatch.setattr(StepProvider, "_run", ran)
    olds = {k: v for k, v in BASE.items() if k not in ("crds", "crd_digest", "owned_crds")}
    assert {s for s in ALL if diff(s, olds).changes} == {"pre_exec"}
    outs = unwrap(StepProvider("pre_exec").update("id", olds, BASE).outs)
    assert outs["owned_crds"] == ["w.x.io"] and not outs.get("applied_crds")
    assert not diff("pre_exec", {**BASE, **outs}, plan=outs["plan"], changes=outs["changes"]).changes  # recorded once


def test_skip_never_changes() -> None:
    skip = with_spec(action="skip")
    for step in ALL:
        assert not diff(step, chart_version="9.9.9", values={"z": 1}, **skip).changes, step


def test_rename_replaces_pre_exec() -> None:
    """The new copy marks the CRDs for the renamed release before the old copy's delete, which
    then finds none of them its own (tests/e2e: test_crds)."""
    res = diff("pre_exec", **with_spec(namespace="other", name="renamed"))
    assert res.changes and res.replaces == ["__spec"]


def test_kubeconfig_change_refreshes_credentials_everywhere() -> None:
    assert runs(kubeconfig="new") == set(ALL)


def test_placeholder_from_skip_runs_on_deploy() -> None:
    assert diff("pre_exec", {**BASE, "skipped": True}).changes


def test_hook_change_reruns_only_its_step() -> None:
    assert runs(hooks={"post_exec": ["m:f"]}) == {"validate"}
    assert runs(hooks={"check_prerequisites": ["m:f"]}) == {"pre_exec"}


def test_teardown_hooks_are_recorded_for_delete_only() -> None:
    assert runs(hooks={"teardown": ["m:f"]}) == {"pre_exec"}
    provider = StepProvider("pre_exec")
    assert provider.update("id", {**BASE, "previous_version": "1.0.0"}, {**BASE, "hooks": {"teardown": ["m:f"]}}
                           ).outs["__previous_version"] == "1.0.0"  # recorded, not re-run


def test_namespace_deletion_is_recorded_for_delete_only() -> None:
    assert runs(**with_spec(delete_namespace="if_created_and_empty", create_namespace=True)) >= {"pre_exec"}
    provider = StepProvider("pre_exec")
    olds = {**BASE, "spec": {**BASE["spec"], "create_namespace": True}, "created_namespace": True}
    news = {**BASE, "spec": {**olds["spec"], "delete_namespace": "if_created_and_empty"}}
    assert provider.update("id", olds, news).outs["__created_namespace"] is True  # recorded, not re-run


def test_create_namespace_reruns_pre_exec_which_creates_it() -> None:
    assert "pre_exec" in runs(**with_spec(create_namespace=True))


def test_breaking_version_crossing() -> None:
    assert crosses_breaking("1.0.0", "2.0.0", "2.0.0")
    assert crosses_breaking("1.5.0", "3.0.0", "2.0.0")
    assert not crosses_breaking("2.0.0", "2.1.0", "2.0.0")
    assert not crosses_breaking("1.0.0", "1.9.0", "2.0.0")
    assert not crosses_breaking(None, "2.0.0", "2.0.0")
    assert not crosses_breaking("1.0.0", "2.0.0", None)


# --- state written by helmlife 0.1 (before the step table) -------------------------------------

def legacy_props(step: str) -> dict[str, Any]:
    """What 0.1 stored: spec fields repeated at top level, hooks as a flat list, empty context."""
    spec = {k: v for k, v in SPEC.public_doc().items()}
    spec["values"] = []
    common = {"release": "demo", "namespace": "ns", "action": "deploy", "spec": spec, "project_dir": "/a",
              "kubeconfig": KUBECONFIG, "kube_context": "", "chart_version": "1.0.0", "hooks": [], "payload": {}}
    own = {
        "prerequisites": {"chart_digest": "d1"},
        "pre_exec": {"values_digest": "v1", "adopt": [], "breaking_version": "2.0.0"},
        "crds": {"crds": ["w.x.io"], "force_crd_deletion": False},
        "release": {"chart": {"path": "c"}, "chart_digest": "d1", "values": {"a": 1}, "secret_values": {},
                    "atomic": True, "wait": True, "timeout": "180s", "force_upgrade": False, "dry_run": False,
                    "create_namespace": False, "failure_hooks": []},
        "post_exec": {"revision": 1},
        "validate": {"revision": 1, "resources": [], "checks": []},
    }[step]
    return {**common, **own}


@pytest.mark.parametrize("old_name", ["prerequisites", "pre_exec", "crds", "release", "post_exec", "validate"])
def test_state_from_helmlife_0_1_is_not_a_change(old_name: str) -> None:
    step = lookup(old_name)
    olds = legacy_props(old_name)
    if step.backfill:  # an update that records outputs 0.1 did not have, and nothing else
        assert StepProvider(step.name).diff("id", olds, BASE).changes
        olds = {**olds, **{k: BASE[k] for k in step.backfill}}
    assert not StepProvider(old_name).diff("id", olds, BASE).changes, step.name
    assert not StepProvider(step.name).diff("id", olds, BASE).changes, step.name


def test_unknown_objects_from_the_engine_skip_checks_and_count_as_changes() -> None:
    from pulumi.output import Unknown

    provider = StepProvider("validate")
    assert provider.check({}, {**BASE, "revision": Unknown()}).failures == []
    assert provider.diff("id", BASE, {**BASE, "revision": Unknown()}).changes


def test_values_arrive_as_doubles_and_are_compared_as_helm_writes_them() -> None:
    from helmlife.steps.pre_exec import Inputs

    inputs = Inputs.model_validate({**BASE, "kubeconfig": KUBECONFIG,
                                    "values": {"replicaCount": 1.0, "ratio": 0.5, "list": [2.0]}})
    assert inputs.values == {"replicaCount": 1, "ratio": 0.5, "list": [2]}


# --- credentials held by the cluster provider ----------------------------------------------------

def on_cluster(step: str, kubeconfig: str = "kc", context: str = "") -> StepProvider:
    from pulumi.dynamic import Config, ConfigureRequest

    provider = StepProvider(step)
    provider.configure(ConfigureRequest(Config({"helmlife-cluster:kubeconfig": kubeconfig,
                                                "helmlife-cluster:kube_context": context}, "helmlife")))
    return provider


def without_credentials(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in ("kubeconfig", "kube_context")}


@pytest.mark.parametrize("step", ALL)
def test_steps_moved_to_the_cluster_provider_are_not_a_change(step: str) -> None:
    """State that copied the kubeconfig into each step, diffed against inputs without it."""
    assert not on_cluster(step).diff("id", BASE, without_credentials(BASE)).changes
    assert not on_cluster(step).diff("id", without_credentials(BASE), without_credentials(BASE)).changes


def test_the_providers_credentials_win_over_a_recorded_copy() -> None:
    provider = on_cluster("validate", kubeconfig="current", context="ctx")
    merged = provider._on_cluster({**BASE, "kubeconfig": "recorded", "kube_context": "old"})
    assert (merged["kubeconfig"], merged["kube_context"]) == ("current", "ctx")
    assert StepProvider("validate")._on_cluster(BASE)["kubeconfig"] == KUBECONFIG  # the default provider holds none


def test_a_step_records_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    provider = on_cluster("validate", kubeconfig="current")
    monkeypatch.setattr(StepProvider, "_run", lambda self, props, op: seen.append(props["kubeconfig"]) or {})
    created = provider.create(without_credentials(BASE)).outs
    updated = provider.update("id", BASE, {**without_credentials(BASE), "revision": 2}).outs
    assert seen == ["current", "current"]
    assert not any("kubeconfig" in k for k in (*created, *updated))


def test_a_spec_recorded_in_full_and_a_compact_one_are_not_a_change() -> None:
    """Steps record the spec without its defaults; state written before recorded every field."""
    from helmlife.spec import compact_doc

    compact = {**BASE, "spec": compact_doc(BASE["spec"])}
    assert len(compact["spec"]) < len(BASE["spec"]) / 3
    for step in ALL:
        assert not diff(step, BASE, **compact).changes and not StepProvider(step).diff("id", compact, BASE).changes
    assert runs(spec=compact_doc({**BASE["spec"], "timeout": "5m"})) == {"pre_exec"}  # for its delete


def test_teardown_sees_the_version_being_torn_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 8: after a first install pre_exec recorded previous_version=None; what is
    deployed (and torn down) is the version that install targeted."""
    from helmlife.steps import pre_exec
    from helmlife.steps.contract import StepInputs

    seen: dict[str, Any] = {}
    monkeypatch.setattr(StepInputs, "run_hooks", lambda self, event, **extra: seen.update(event=event, **extra))
    props = {**BASE, "hooks": {"teardown": ["m:f"]}, "previous_version": None, "manifest": {}, "owned_crds": []}
    pre_exec.delete(pre_exec.Inputs.model_validate(props), pre_exec.Outputs.model_validate(props))
    assert seen == {"event": "teardown", "previous_version": "1.0.0"}


def test_check_failures_name_no_property() -> None:
    """Issue 18 item 6: a failure naming `spec` makes the engine print the whole spec as a Go map
    before the reason; the reason names the step and the field instead."""
    bad = {**BASE, "spec": {**BASE["spec"], "timeout": "soon"}}
    failures = StepProvider("pre_exec").check({}, bad).failures
    assert [f.property for f in failures] == [""], failures
    assert failures[0].reason.startswith("demo: pre_exec: invalid inputs:") and "timeout" in failures[0].reason


def test_a_failing_step_names_release_and_step_once() -> None:
    """Issue 18 item 6: the engine's error line starts with `<release>: <step>: `."""
    from helmlife.steps.base import StepFailed, naming_step

    for message, expected in [("chart c cannot be rendered", "demo: release: chart c cannot be rendered"),
                              ("demo: deploy failed: x", "demo: release: deploy failed: x")]:
        with pytest.raises(StepFailed) as err:
            with naming_step("demo", "release"):
                raise ValueError(message)
        assert str(err.value) == expected and err.value.__cause__ is None
    with pytest.raises(RuntimeError, match="^demo: release: already named$"):
        with naming_step("demo", "release"):
            raise RuntimeError("demo: release: already named")
