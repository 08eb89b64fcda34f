"""pre_exec: everything before the Release. Qovery's `check_prerequisites` and `pre_exec`.

At check (every `pulumi preview` and `up`, before anything runs): the prerequisites (chart,
values, namespace, user check_prerequisites hooks), the render (schema and template errors fail
the preview, naming the chart), the release state and the one decision on it
(`release_state.decide`), recorded as `plan` in words and `changes`, the objects the cluster
gets differently, field by field, secrets masked. Those two are what `pulumi preview --diff`
prints for the step; everything else it records is kept under `__` keys the display leaves out.

Run (when the chart version, values, CRDs or hooks change, or Helm's record is stuck): recover
a release a dead helm left pending, create the namespace, run the hooks (check_prerequisites,
then pre_exec: they run before a breaking-version reinstall's uninstall), adopt live objects,
then own the chart's CRDs (`actions.crd_cleanup`; applied first with `crd_upgrade: apply`).
A reinstall is the Release's replacement, decided here: `reinstall_key` is its
`replacement_trigger`; a reinstall whose uninstall would take custom resources with it is refused
here, before anything is removed.

Delete (after the Release is uninstalled): the CRDs the release owns (refused while they hold
custom resources), then teardown hooks, then the namespace if helmlife created it and it is
empty. The Release depends on this step, so the engine deletes it after the uninstall, and a
breaking-version reinstall (the Release's replacement) leaves it, and the CRDs, alone.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from .. import chart_source, kube, manifests, namespaces, releases
from ..actions import crd_cleanup, render
from ..actions.remediate import remediate
from ..actions.uninstall import crds_at_risk, kept_crds, kept_notice, refusal
from ..canonical import canonical_json
from ..helm import HelmError
from ..hooks import step_logger
from ..release_state import Action, ReleaseState, decide, settled
from ..spec import Action as SpecAction
from ..spec import NamespaceDeletion, RepoChart
from ..values import split_values
from .contract import ChartInputs, StepOutputs, changed_paths


# The state's shape: written by this helmlife (pre_exec before a kubernetes Release). State from
# helmlife 0.1/0.2 has none until a refresh rewrites it, the old release step included.
SHAPE = 3


class Inputs(ChartInputs):
    values_digest: str | None = None
    crds: list[str] | None = None  # the chart's CRDs as the program read them; None: a repository chart, read here
    crd_digest: str | None = None
    # Derived at check time:
    manifest: dict[str, dict[str, Any]] | None = None  # masked objects, as last rendered or refreshed
    # `up` records no render (it renders in run): the reference for the next preview is then
    # Helm's record of the release, read as refresh reads it.
    manifest_is_helms: bool = False
    manifest_before: dict[str, dict[str, Any]] | None = None  # preview only: that reference, masked
    changes: dict[str, Any] = {}  # shown: what the cluster gets differently
    plan: str | None = None  # shown: the decision in words
    reinstall_key: int = 0  # the Release's replacement_trigger: +1 for each breaking-version reinstall
    rollout: str | None = None  # the Release's description token: new when chart content or drift changes
    remediate: str | None = None  # a status a dead helm left, recovered from before the Release
    drifted: list[str] = []  # set by refresh: objects the cluster has differently from what is declared
    drift_fixes: int = 0  # how many times a refresh found drift that `up` then corrected
    shape: int | None = None
    # The program's `pulumi.runtime.is_dry_run()`. Pulumi prints a dynamic step's *inputs*, old
    # against new, and the inputs recorded are those of `up`'s check: so `up` records the settled
    # plan and no pending changes, and the next preview prints exactly what it will change.
    preview: bool = True


class Outputs(StepOutputs):
    previous_version: str | None = None
    adopted: list[str] = []
    created_namespace: bool = False  # the namespace carries helmlife's mark for this release
    reinstall_key: int = 0
    rollout: str | None = None
    owned_crds: list[str] | None = None  # None: recorded by a helmlife before pre_exec owned them
    applied_crds: list[str] = []


# --- check -----------------------------------------------------------------------------------

def problems(inputs: Inputs) -> list[str]:
    spec, base = inputs.spec, inputs.base_dir
    found: list[str] = []
    try:
        if isinstance(spec.chart, RepoChart):
            why = chart_source.repo_has_chart(spec.chart, inputs.helm)
            if why:
                found.append(why)
        else:
            chart_source.read_chart_yaml(chart_source.chart_dir(spec, base))  # type: ignore[arg-type]
            chart_source.chart_ref(spec, base)  # sub-charts resolved now, so a missing one fails preview
    except ValueError as err:
        found.append(str(err))
    try:
        split_values(spec, base)
    except ValueError as err:
        found.append(str(err))
    if not spec.create_namespace:
        try:
            if not kube.namespace_exists(inputs.api, spec.namespace):
                found.append(f"namespace: {spec.namespace!r} does not exist; create it first or set create_namespace: true")
        except Exception as err:  # noqa: BLE001 - the message is what the user needs
            found.append(f"cannot reach the cluster to check namespace {spec.namespace!r}: {err}")
    return found


def check(inputs: Inputs) -> list[str]:
    found = problems(inputs) + crd_cleanup.problems(inputs)
    if not found and inputs.hooks.get("check_prerequisites"):
        try:
            inputs.run_hooks("check_prerequisites")
        except Exception as err:  # noqa: BLE001
            found.append(str(err))
    return found


def _secrets(inputs: Inputs, olds: dict[str, Any]) -> list[str]:
    return [s for v in (inputs.secret_values, olds.get("secret_values") or {}) for s in manifests.secret_strings(v)]


def prepare(inputs: Inputs, olds: dict[str, Any]) -> dict[str, Any]:
    """The derived inputs: the render and what it changes, the decision, and the Release's two
    triggers. Renders only when something a render depends on changed since the recorded
    manifest (or refresh found drift), so a no-change preview costs one read of Helm's record
    per release and no render. `HELMLIFE_MANIFEST_DIFF=off` skips the render (not the decision)."""
    if chart_source.needs_pull(inputs.spec.chart):
        try:
            chart_source.pull_for_release(inputs.spec.chart, inputs.base_dir, inputs.helm)  # type: ignore[arg-type]
        except HelmError as err:
            raise ValueError(f"chart: cannot pull {inputs.spec.chart_label} for the Release: {err.stderr}") from None
    record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    if olds and olds.get("shape") != SHAPE and record is not None and record.live:
        raise ValueError(
            f"release {inputs.release} was deployed by an earlier helmlife, whose own release step drove helm; "
            "run `pulumi refresh` once (or `pulumi up --refresh`) so the kubernetes Release takes it over as it is, "
            "with no reinstall and no new revision")
    stored, drifted = olds.get("manifest"), bool(olds.get("drifted"))
    helms = bool(olds.get("manifest_is_helms"))
    derived: dict[str, Any] = {"manifest": stored, "manifest_is_helms": helms}
    changes: dict[str, Any] = {}
    if os.environ.get("HELMLIFE_MANIFEST_DIFF", "on") != "off":
        due = (stored is None and not helms) or drifted or bool(
            changed_paths(olds, inputs.model_dump(mode="json"), render.RENDER_INPUTS))
        if due and not inputs.preview:
            # `up`: the engine checks one resource at a time, so a render here would make N charts
            # render in a row. It starts in the background instead, beside the other charts',
            # and pre_exec's run (which the engine runs in parallel) waits for it and fails there,
            # before the hooks and the Release. Helm's record of what the Release installs is
            # then the reference the next preview compares against.
            render.start(inputs)
            derived = {"manifest": None, "manifest_is_helms": True}
        elif due:
            live = manifests.objects(record.manifest, inputs.namespace) if record and record.live else {}
            desired = manifests.objects(render.manifest(inputs), inputs.namespace)
            if kept := kept_crds(desired.values()):  # the log names their custom resources too
                step_logger(inputs.release, "pre_exec").warning(
                    "preview: %s", kept_notice(inputs.api, inputs.release, kept, done=False))
            secrets = _secrets(inputs, olds)
            reference = stored if stored is not None else (manifests.mask(live, secrets) if live else {})
            masked = manifests.mask(desired, secrets, live, reference)
            changes = manifests.field_changes(reference, masked)
            derived = {"manifest": masked, "manifest_is_helms": False}
            if stored is None and live:
                derived["manifest_before"] = reference  # the preview summary's old side
    inputs_changed = bool(olds) and bool(changed_paths(olds, inputs.model_dump(mode="json"),
                                                          ("values_digest", "chart_digest", "chart_version")))
    state = ReleaseState(record, inputs.chart_version, inputs.spec.last_breaking_version_requiring_restart,
                         len(changes), inputs_changed, skipped=inputs.spec.dry_run or inputs.spec.action is SpecAction.skip)
    decision = decide(state)
    if decision.action is Action.reinstall:
        step_logger(inputs.release, "pre_exec").info("preview: %s", decision.words)
    key = int(olds.get("reinstall_key") or 0) + (1 if decision.action is Action.reinstall else 0)
    fixes = int(olds.get("drift_fixes") or 0) + (1 if drifted else 0)
    rollout = rollout_token(inputs.chart_digest, fixes)
    shown = ({"changes": changes, "plan": with_kept_crds(decision.words, derived["manifest"] or {})}
             if inputs.preview else settle(inputs))
    return {**derived, **shown, "reinstall_key": key, "rollout": rollout, "remediate": decision.remediate,
            "drift_fixes": fixes, "drifted": [], "shape": SHAPE}


def with_kept_crds(plan: str, objects: manifests.Objects) -> str:
    """The plan, naming the CRDs a destroy will leave behind: it is shown, so `pulumi preview
    --diff` and the preview summary say it (they leave out the step's log)."""
    kept = kept_crds(objects.values())
    return f"{plan}; a destroy keeps CRDs {', '.join(kept)} (helm.sh/resource-policy: keep)" if kept else plan


def rollout_token(chart_digest: str | None, drift_fixes: int) -> str:
    """The Release's description token: new when the chart's content changes (a template edited
    without a version bump) or a refresh found drift, so the Release upgrades and helm's
    three-way merge puts the declared objects back."""
    return hashlib.sha256(canonical_json([chart_digest, drift_fixes]).encode()).hexdigest()[:12]


# --- run -------------------------------------------------------------------------------------

def run(inputs: Inputs) -> Outputs:
    found = problems(inputs)
    if found:
        raise RuntimeError("; ".join(found))
    render.wait(inputs)  # the chart must render (started by check) before hooks or the Release touch anything
    spec = inputs.spec
    log = step_logger(spec.name, "pre_exec")
    before = releases.latest(inputs.api, spec.name, spec.namespace)
    remediate(inputs)  # a release a dead helm left pending would refuse the Release's helm call
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    if before is not None and before.status == "pending-install" and record is not None and record.live:
        # A killed `up`'s helm (its kubernetes plugin lives on) finished the install while this
        # run waited: this run declared a new Release, which helm would refuse ("name still in
        # use"); the next run adopts the release as it is (import).
        raise RuntimeError(f"release {spec.name} was installed by an interrupted `pulumi up` while this one "
                           f"waited for it (revision {record.revision}, {record.status}); run `pulumi up` again to "
                           "adopt it as it is. Nothing was changed.")
    deployed = record.chart_version if record and record.live else None
    state = ReleaseState(record, inputs.chart_version, spec.last_breaking_version_requiring_restart, 0)
    if decide(state).action is Action.reinstall:
        log.info("the Release is replaced (uninstall, then install): %s -> %s crosses breaking version %s",
                 deployed, inputs.chart_version, spec.last_breaking_version_requiring_restart)
        # The replacement uninstalls first: refuse now, before anything is removed.
        if not (spec.force_crd_deletion or spec.dry_run) and (left := crds_at_risk(inputs.api, spec.name, spec.namespace)):
            raise RuntimeError(refusal(spec.name, left) + " Nothing was uninstalled or deleted.")
    created = False
    if spec.create_namespace and spec.dry_run:
        log.info("dry run: would create namespace %s if missing", spec.namespace)
    elif spec.create_namespace:
        created = namespaces.ensure(inputs.api, spec.namespace, spec.name)
    checked = inputs.model_copy(update={"payload": inputs.run_hooks("check_prerequisites", previous_version=deployed)})
    payload = checked.run_hooks("pre_exec", previous_version=deployed)
    adopted = []
    for ref in spec.adopt:
        obj = kube.parse_ref(ref, spec.namespace)
        if spec.dry_run:
            log.info("dry run: would adopt %s", obj)
        elif kube.adopt(inputs.api, obj, spec.name, spec.namespace):
            adopted.append(str(obj))
            log.info("adopted %s into release %s", obj, spec.name)
    owned, applied = crd_cleanup.own(inputs)
    return Outputs(payload=payload, previous_version=deployed, adopted=adopted, created_namespace=created,
                   reinstall_key=inputs.reinstall_key, rollout=inputs.rollout, owned_crds=owned, applied_crds=applied)


def backfill(inputs: Inputs) -> dict[str, Any]:
    """Outputs a pre_exec recorded before it owned the CRDs lacks (a separate crd_cleanup step
    owned them then, with the same mark): recorded without running anything."""
    return {"owned_crds": crd_cleanup.owned_names(inputs)}


def settle(inputs: Inputs) -> dict[str, Any]:
    """What the step records once `up` has done its part: nothing left to change, the plan
    settled, so the next preview compares against this and shows no change."""
    return {"changes": {}, "plan": settled(inputs.chart_version)}


# --- refresh and delete ----------------------------------------------------------------------

def refresh(inputs: Inputs, outputs: Outputs) -> dict[str, Any] | None:
    """What Helm and the cluster have now: the recorded manifest becomes the live objects
    (Helm's current record minus what was deleted from the cluster, masked against what was
    recorded so unchanged secrets keep their markers), and `drifted` lists what differs from a
    fresh render of the declared state, so the next preview renders again, shows it, and the
    Release gets a new rollout token that makes `up` correct it."""
    record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    raw = manifests.objects(record.manifest, inputs.namespace) if record and record.live else {}
    live = {k: o for k, o in raw.items() if kube.object_exists(inputs.api, o, inputs.namespace)}
    if inputs.shape != SHAPE:
        # Recorded by an earlier helmlife, whose pre_exec kept no values to render with: what Helm
        # has is the reference; the next up checks the declared state against it.
        return {"manifest": manifests.mask(live, []), "shape": SHAPE, "drifted": []}
    try:
        desired = manifests.objects(render.manifest(inputs, checked=False), inputs.namespace)
    except render.RenderError as err:
        step_logger(inputs.release, "pre_exec").info("refresh: cannot tell drift: %s", err)
        desired = live
    drifted = [f"{sign} {key}" for sign, key in manifests.changes(live, desired)]
    if inputs.manifest_is_helms and not drifted:
        return {"shape": SHAPE, "drifted": []}  # Helm's record is still the reference: nothing to record
    secrets = manifests.secret_strings(inputs.secret_values)
    return {"manifest": manifests.mask(live, secrets, desired, inputs.manifest), "manifest_is_helms": False,
            "shape": SHAPE, "drifted": drifted}


def delete(inputs: Inputs, outputs: Outputs) -> None:
    spec = inputs.spec
    if spec.dry_run:
        return
    # State not yet moved to this step's ownership has a retired crd_cleanup step, which does it.
    crd_cleanup.remove(inputs, outputs.owned_crds if outputs.owned_crds is not None else inputs.crds or [])
    # After the uninstall: the CRDs the chart keeps (`helm.sh/resource-policy: keep`) are still there.
    # (The recorded manifest names what the chart declared; Helm's annotations on the CRDs say it
    # when `up` recorded Helm's record instead: those are read from the cluster, so still there.)
    kept = ([n for n in kept_crds(inputs.manifest.values()) if kube.read_crd(inputs.api, n) is not None]
            if inputs.manifest is not None else kube.kept_crds_of(inputs.api, spec.name, spec.namespace))
    if kept:
        step_logger(spec.name, "pre_exec").warning("%s", kept_notice(inputs.api, spec.name, kept, done=True))
    if inputs.hooks.get("teardown"):
        # The version being torn down: what Helm had before the uninstall (validate's delete read
        # it; Helm's record is gone by now), else the one the last run deployed (its target).
        torn_down = releases.version_before_uninstall(inputs.kubeconfig, inputs.kube_context, spec.name,
                                                      spec.namespace)
        inputs.run_hooks("teardown", previous_version=torn_down or inputs.chart_version or outputs.previous_version)
    if spec.delete_namespace is NamespaceDeletion.if_created_and_empty:
        outcome = namespaces.delete_if_created_and_empty(inputs.api, spec.namespace, spec.name, spec.timeout_seconds)
        step_logger(spec.name, "pre_exec").info("%s", outcome.reason)
