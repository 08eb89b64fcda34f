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
from ..actions.uninstall import uninstall
from ..hooks import step_logger
from ..spec import crosses_breaking, semver_key
from .contract import ChartInputs, StepOutputs, changed_paths


class Inputs(ChartInputs):
    manifest: dict[str, dict[str, Any]] | None = None
    plan: str | None = None
    drifted: list[str] = []  # set by refresh: objects the cluster has differently from the last deploy


class Outputs(StepOutputs):
    revision: int | None = None
    status: str | None = None
    deployed_version: str | None = None
    app_version: str | None = None
    resources: list[str] = []


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
        return {"manifest": stored, "plan": plan}
    live = manifests.objects(record.manifest, inputs.namespace) if record and record.live else {}
    desired = manifests.objects(render.manifest(inputs), inputs.namespace)
    secrets = secrets_of(inputs.secret_values, olds.get("secret_values") or {})
    return {"manifest": manifests.mask(desired, secrets, live, stored), "plan": plan}


def run(inputs: Inputs) -> Outputs:
    result = install(inputs)
    info, meta = result.get("info", {}), result.get("chart", {}).get("metadata", {})
    return Outputs(
        payload=inputs.payload,
        revision=result.get("version"),
        status=info.get("status"),
        deployed_version=meta.get("version"),
        app_version=meta.get("appVersion"),
        resources=[str(r) for r in kube.manifest_objects(result.get("manifest", ""), inputs.namespace)],
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
        desired = manifests.objects(render.manifest(inputs), inputs.namespace)
    except render.RenderError as err:
        step_logger(inputs.release, "release").info("refresh: cannot tell drift: %s", err)
        desired = live
    return {
        "manifest": manifests.mask(live, secrets_of(inputs.secret_values), reference, inputs.manifest),
        "drifted": [f"{sign} {key}" for sign, key in manifests.changes(live, desired)],
        "revision": record.revision, "status": record.status,
        "deployed_version": record.chart_version, "app_version": record.app_version,
    }


def drifted(inputs: Inputs, outputs: Outputs) -> bool:
    """True when state says deployed but the cluster has no such release (deleted by hand,
    or a new cluster behind the same kubeconfig): the next `up` installs it again."""
    if inputs.spec.dry_run:
        return False
    try:
        return not releases.live(inputs.api, inputs.release, inputs.namespace)
    except Exception:  # noqa: BLE001 - an unreachable cluster is reported by check_prerequisites
        return False


def delete(inputs: Inputs, outputs: Outputs) -> None:
    uninstall(inputs)
