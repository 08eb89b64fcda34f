"""install: `helm upgrade --install` with the spec's options, and on_deploy_failure.

On failure the namespace's events and the release's unready pods go into the error that
`pulumi up` prints, the user's on_deploy_failure hooks run (and may ask for another attempt),
and with `atomic` (the default) helm has already rolled back, so a failed upgrade leaves the
previous revision running.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import charts
from ..helm import HelmError
from ..hooks import run_failure_hooks
from . import diagnose

if TYPE_CHECKING:  # steps import actions, not the other way round
    from ..steps.release import Inputs


def helm_upgrade(inputs: "Inputs") -> dict[str, Any]:
    spec = inputs.spec
    return inputs.helm.upgrade_install(
        spec.name, spec.namespace, charts.chart_ref(spec, inputs.base_dir), [inputs.values, inputs.secret_values],
        atomic=spec.atomic, wait=spec.wait, timeout=spec.timeout, force=spec.force_upgrade,
        dry_run=spec.dry_run, create_namespace=spec.create_namespace,
    )


def install(inputs: "Inputs") -> dict[str, Any]:
    """helm's JSON description of the deployed release, or a RuntimeError that explains."""
    attempt = 1
    while True:
        started = datetime.now(timezone.utc).replace(microsecond=0)
        try:
            return helm_upgrade(inputs)
        except HelmError as err:
            lines = diagnose.cluster_view(inputs.api, inputs.namespace, inputs.release, started)
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
