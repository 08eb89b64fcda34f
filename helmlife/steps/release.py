"""release: the Helm release itself (Qovery's `exec`), composed from helmlife.actions.

At check time (every `pulumi preview` and `up`) it records what Helm would apply as the
`manifest` input, masked, so `pulumi preview --diff` shows the objects added, removed and the
fields changed; and it says in words what will happen to the release (`plan`). At refresh it
records what Helm and the cluster have now, so drift shows in the next preview as a change
that `up` corrects.
"""
from __future__ import annotations

import os
from typing import Any

from .. import kube, manifests, releases
from ..actions import render
from ..actions.install import install
from ..actions.remediate import remediate
from ..actions.uninstall import kept_crds, kept_notice, uninstall
from ..canonical import canonical_json
from ..hooks import step_logger
from ..spec import crosses_breaking, semver_key
from ..values import deep_merge
from .contract import ChartInputs, StepOutputs, changed_paths


class Inputs(ChartInputs):
    manifest: dict[str, dict[str, Any]] | None = None
    plan: str | None = None
    drifted: list[str] = []  # set by refresh: objects the cluster has differently from the last deploy
    owned_crds: list[str] | None = None  # crd_cleanup's, checked before uninstalling (None: state from before)


class Outputs(StepOutputs):
    revision: int | None = None
    status: str | None = None
    deployed_version: str | None = None
    app_version: str | None = None
    resources: list[str] = []
    last_deployed: str | None = None  # Helm's info.last_deployed: new on every install and upgrade


def check(inputs: Inputs) -> list[str]:
    return []


def describe(inputs: Inputs, record: releases.ReleaseRecord | None) -> str:
    """What `up` will do to the release, in helm's words."""
    deployed = record.chart_version if record and record.live else None
    target, breaking = inputs.chart_version, inputs.spec.last_breaking_version_requiring_restart
    stuck = f"recover from {record.status}, then " if record and record.status in releases.PENDING else ""
    if deployed is None:
        return f"{stuck}install {target}"
    if crosses_breaking(deployed, target, breaking):
        return f"{stuck}will uninstall and reinstall: {deployed} → {target} crosses {breaking}"
    if deployed == target or not target:
        return f"{stuck}upgrade {deployed} (same chart version)"
    try:
        verb = "downgrade" if semver_key(target) < semver_key(deployed) else "upgrade"
    except ValueError:
        verb = "upgrade"
    return f"{stuck}{verb} {deployed} → {target}"


def secrets_of(*values: dict[str, Any]) -> list[str]:
    return [s for v in values for s in manifests.secret_strings(v)]


def prepare(inputs: Inputs, olds: dict[str, Any]) -> dict[str, Any]:
    """The derived inputs `manifest` (masked) and `plan`, added at check time.

    Renders only when something a render depends on changed since the stored manifest, so a
    no-change preview costs one read of Helm's record per release and no render.
    `HELMLIFE_MANIFEST_DIFF=off` skips it all (for charts too large to diff usefully).
    """
    if os.environ.get("HELMLIFE_MANIFEST_DIFF", "on") == "off":
        return {}
    record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    plan = describe(inputs, record)
    if "uninstall and reinstall" in plan:
        step_logger(inputs.release, "release").info("preview: %s", plan)
    stored = olds.get("manifest")
    if (stored is not None and not olds.get("drifted")
            and not changed_paths(olds, inputs.model_dump(mode="json"), render.RENDER_INPUTS)):
        return {"manifest": stored, "plan": with_kept_crds(plan, stored)}
    live = manifests.objects(record.manifest, inputs.namespace) if record and record.live else {}
    desired = manifests.objects(render.manifest(inputs), inputs.namespace)
    if kept := kept_crds(desired.values()):  # the log names their custom resources too
        step_logger(inputs.release, "release").warning("preview: %s",
                                                       kept_notice(inputs.api, inputs.release, kept, done=False))
    secrets = secrets_of(inputs.secret_values, olds.get("secret_values") or {})
    return {"manifest": manifests.mask(desired, secrets, live, stored), "plan": with_kept_crds(plan, desired)}


def with_kept_crds(plan: str, objects: manifests.Objects) -> str:
    """The plan, naming the CRDs a destroy will leave behind: it is an input, so `pulumi preview
    --diff` and the preview summary show it (they leave out the provider's log)."""
    kept = kept_crds(objects.values())
    return f"{plan}; a destroy keeps CRDs {', '.join(kept)} (helm.sh/resource-policy: keep)" if kept else plan


def already_deployed(inputs: Inputs) -> releases.ReleaseRecord | None:
    """Helm's record when the release already is exactly what these inputs deploy (same chart
    version, values and rendered objects, nothing drifted): a migrated `kubernetes.helm.v3.Release`,
    or state recreated after it was lost. Recording it as is keeps its revision."""
    spec = inputs.spec
    if spec.force_upgrade or spec.dry_run or inputs.drifted:
        return None
    record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    if record is None or record.status != "deployed" or record.chart_version != inputs.chart_version:
        return None
    if canonical_json(record.config) != canonical_json(deep_merge(inputs.values, inputs.secret_values)):
        return None
    try:
        desired = manifests.objects(render.manifest(inputs), inputs.namespace)
    except render.RenderError:
        return None
    return record if desired == manifests.objects(record.manifest, inputs.namespace) else None


def run(inputs: Inputs) -> Outputs:
    remediate(inputs)  # a release a dead helm left pending would refuse the install
    record = already_deployed(inputs)
    if record is not None:
        step_logger(inputs.release, "release").info(
            "release %s is already deployed as declared (revision %d): recorded, helm not run", inputs.release,
            record.revision)
        result = {"version": record.revision, "info": {"status": record.status, "last_deployed": record.last_deployed},
                  "manifest": record.manifest,
                  "chart": {"metadata": {"version": record.chart_version, "appVersion": record.app_version}}}
    else:
        result = install(inputs)
    info, meta = result.get("info", {}), result.get("chart", {}).get("metadata", {})
    return Outputs(
        payload=inputs.payload,
        revision=result.get("version"),
        status=info.get("status"),
        deployed_version=meta.get("version"),
        app_version=meta.get("appVersion"),
        resources=[str(r) for r in kube.manifest_objects(result.get("manifest", ""), inputs.namespace)],
        last_deployed=info.get("last_deployed"),
    )


def refresh(inputs: Inputs, outputs: Outputs) -> dict[str, Any] | None:
    """What Helm and the cluster have now, or None when the release is gone.

    The recorded manifest becomes Helm's current record minus the objects deleted from the
    cluster (masked against the revision this stack deployed, so unchanged secrets keep their
    markers), and `drifted` lists the objects that differ from what the stack declares, so the
    next check renders again and preview shows the difference as a change `up` corrects.
    """
    record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    if record is None or not record.live:
        return None
    live = {k: o for k, o in manifests.objects(record.manifest, inputs.namespace).items()
            if kube.object_exists(inputs.api, o, inputs.namespace)}
    ours = record if record.revision == outputs.revision else (
        releases.revision(inputs.api, inputs.release, inputs.namespace, outputs.revision) if outputs.revision else None)
    reference = manifests.objects(ours.manifest, inputs.namespace) if ours else {}
    try:
        desired = manifests.objects(render.manifest(inputs, checked=False), inputs.namespace)
    except render.RenderError as err:
        step_logger(inputs.release, "release").info("refresh: cannot tell drift: %s", err)
        desired = live
    return {
        "manifest": manifests.mask(live, secrets_of(inputs.secret_values), reference, inputs.manifest),
        "drifted": [f"{sign} {key}" for sign, key in manifests.changes(live, desired)],
        "revision": record.revision, "status": record.status,
        "deployed_version": record.chart_version, "app_version": record.app_version,
        "last_deployed": record.last_deployed,
    }


_TOLD: set[tuple[str, str, int, str | None]] = set()  # drift already logged by this provider process


def drifted(inputs: Inputs, outputs: Outputs) -> bool:
    """True when Helm's newest record is not the one the stack recorded: the release is gone
    (deleted by hand, or a new cluster behind the same kubeconfig), so the next `up` installs it
    again; or Helm moved to another revision the stack never recorded (a failed upgrade that
    helm rolled back: a failing step records nothing; or a helm command run by hand), so the
    next `up` records Helm's revision, upgrading only if it differs from the declared state."""
    if inputs.spec.dry_run:
        return False
    try:
        newest = releases.head(inputs.api, inputs.release, inputs.namespace)
        # Revisions only grow, except that a reinstall starts again at 1: only then is the
        # record itself needed (its deploy time), otherwise its labels tell.
        if newest is not None and newest[1] != "uninstalled" and newest[0] == outputs.revision != 1:
            return False
        record = releases.latest(inputs.api, inputs.release, inputs.namespace)
    except Exception:  # noqa: BLE001 - an unreachable cluster is reported by check_prerequisites
        return False
    if record is None or not record.live:
        return True
    recorded = (outputs.revision, outputs.last_deployed or record.last_deployed)  # older state: revision only
    if outputs.revision is None or recorded == (record.revision, record.last_deployed):
        return False
    told = (inputs.namespace, inputs.release, record.revision, record.last_deployed)
    if told not in _TOLD:  # diff and update both ask; say it once per operation
        _TOLD.add(told)
        step_logger(inputs.release, "release").info(
            "Helm has revision %d (%s, deployed %s), the stack recorded revision %d (deployed %s): up records Helm's",
            record.revision, record.status, record.last_deployed, outputs.revision, outputs.last_deployed or "?")
    return True


def delete(inputs: Inputs, outputs: Outputs) -> None:
    uninstall(inputs, inputs.owned_crds or ())
