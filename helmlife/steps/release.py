"""release: install or upgrade the release with helm (Qovery's `exec`), and on_deploy_failure.

On failure the step gathers what a person would look at next (the namespace's recent events
and the states of the release's pods that are not Ready) and puts it in the error that
`pulumi up` prints. With `atomic` (the default) helm has already rolled the release back, so
a failed upgrade leaves the previous revision running.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .. import charts, kube
from ..helm import HelmError
from ..hooks import run_failure_hooks
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    chart_digest: str | None = None
    values: dict[str, Any] = {}
    secret_values: dict[str, Any] = {}


class Outputs(StepOutputs):
    revision: int | None = None
    status: str | None = None
    deployed_version: str | None = None
    app_version: str | None = None
    resources: list[str] = []


def diagnostics(inputs: Inputs, since: datetime) -> list[str]:
    """Events since the attempt started and the release's unready pods, best effort."""
    lines: list[str] = []
    try:
        lines += [f"  event: {e}" for e in kube.recent_events(inputs.api, inputs.namespace, since=since)]
        selector = f"{kube.INSTANCE_LABEL}={inputs.release}"
        lines += [f"  {p}" for p in kube.pod_states(inputs.api, inputs.namespace, selector)]
    except Exception as err:  # noqa: BLE001 - diagnostics must not hide the real failure
        lines.append(f"  (could not read events/pods: {err})")
    return lines


def _install(inputs: Inputs) -> dict[str, Any]:
    spec = inputs.spec
    return inputs.helm.upgrade_install(
        spec.name,
        spec.namespace,
        charts.chart_ref(spec, inputs.base_dir),
        [inputs.values, inputs.secret_values],
        atomic=spec.atomic,
        wait=spec.wait,
        timeout=spec.timeout,
        force=spec.force_upgrade,
        dry_run=spec.dry_run,
        create_namespace=spec.create_namespace,
    )


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    attempt = 1
    while True:
        started = datetime.now(timezone.utc).replace(microsecond=0)
        try:
            result = _install(inputs)
            break
        except HelmError as err:
            lines = diagnostics(inputs, started)
            ctx = inputs.hook_context("on_deploy_failure", failure=str(err), attempt=attempt, diagnostics=lines)
            retry = run_failure_hooks(inputs.hooks.get("on_deploy_failure") or [], ctx)
            if retry is None:
                detail = "\n".join(lines) or "  (no events or unready pods found)"
                raise RuntimeError(
                    f"{inputs.release}: deploy failed: {err.stderr}\n"
                    f"on_deploy_failure: what the cluster shows in namespace {inputs.namespace}:\n{detail}"
                ) from None
            time.sleep(retry)
            attempt += 1
    info, meta = result.get("info", {}), result.get("chart", {}).get("metadata", {})
    return Outputs(
        payload=inputs.payload,
        revision=result.get("version"),
        status=info.get("status"),
        deployed_version=meta.get("version"),
        app_version=meta.get("appVersion"),
        resources=[str(r) for r in kube.manifest_objects(result.get("manifest", ""), inputs.namespace)],
    )


def drifted(inputs: Inputs, outputs: Outputs) -> bool:
    """True when state says deployed but the cluster has no such release (deleted by hand,
    or a new cluster behind the same kubeconfig): the next `up` installs it again."""
    if inputs.spec.dry_run:
        return False
    try:
        return inputs.helm.deployed_version(inputs.release, inputs.namespace) is None
    except Exception:  # noqa: BLE001 - an unreachable cluster is reported by check_prerequisites
        return False


def delete(inputs: Inputs, outputs: Outputs) -> None:
    spec = inputs.spec
    if not spec.dry_run:
        inputs.helm.uninstall(spec.name, spec.namespace, spec.timeout)
