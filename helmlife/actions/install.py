"""install: `helm upgrade --install` with the spec's options, and on_deploy_failure.

On failure the error that `pulumi up` prints says which of the release's workloads and pods
were not ready while helm waited (sampled during the call, see `diagnose`: with `atomic`, the
default, helm has rolled back before it returns, so a failed upgrade leaves the previous
revision running and the failed pods are gone), the namespace's events, and the revision Helm
has now; then the user's on_deploy_failure hooks run (and may ask for another attempt).
"""
from __future__ import annotations

import contextlib
import itertools
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import chart_source
from ..helm import HelmError
from ..hooks import run_failure_hooks
from . import diagnose

if TYPE_CHECKING:  # steps import actions, not the other way round
    from ..steps.release import Inputs


def helm_upgrade(inputs: "Inputs") -> dict[str, Any]:
    spec = inputs.spec
    return inputs.helm.upgrade_install(
        spec.name, spec.namespace, chart_source.chart_ref(spec, inputs.base_dir), [inputs.values, inputs.secret_values],
        atomic=spec.atomic, wait=spec.wait, timeout=spec.timeout, force=spec.force_upgrade,
        dry_run=spec.dry_run, create_namespace=spec.create_namespace)


def sample_interval(timeout: float) -> float:
    """Often enough to catch pods before a rollback removes them, rarely enough for a shared
    API server: a twentieth of helm's timeout, between 1 and 5 seconds."""
    return min(5.0, max(1.0, timeout / 20))


def install(inputs: "Inputs") -> dict[str, Any]:
    """helm's JSON description of the deployed release, or a RuntimeError that explains."""
    spec = inputs.spec
    for attempt in itertools.count(1):
        started = datetime.now(timezone.utc).replace(microsecond=0)
        # Readiness only matters when helm waits for it; a dry run creates nothing to watch.
        watch = (diagnose.ReadinessWatch(inputs.api, inputs.namespace, inputs.release,
                                         sample_interval(spec.timeout_seconds))
                 if spec.wait and not spec.dry_run else None)
        try:
            with watch or contextlib.nullcontext():
                return helm_upgrade(inputs)
        except HelmError as err:
            lines = diagnose.cluster_view(inputs.api, inputs.namespace, inputs.release, started, watch)
            ctx = inputs.hook_context("on_deploy_failure", failure=str(err), attempt=attempt, diagnostics=lines)
            retry = run_failure_hooks(inputs.hooks.get("on_deploy_failure") or [], ctx)
            if retry is None:
                detail = "\n".join(lines) or "  (no unready workloads or events found)"
                raise RuntimeError(
                    f"{inputs.release}: deploy failed: {err.stderr}\n"
                    f"on_deploy_failure: what the cluster shows in namespace {inputs.namespace}:\n{detail}\n"
                    f"{diagnose.after_failure(inputs.api, inputs.namespace, inputs.release)}"
                ) from None
            time.sleep(retry)
