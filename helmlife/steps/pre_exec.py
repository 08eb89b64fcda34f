"""pre_exec: user hooks, adoption of live objects, and the breaking-version restart.

Runs when the chart version or the values change. The breaking-version uninstall is decided
from the version alone: a values-only change never uninstalls anything. Its delete, after the
release is uninstalled, runs the teardown hooks: the reverse of what pre_exec hooks made.
"""
from __future__ import annotations

from .. import kube, releases
from ..actions.uninstall import uninstall
from ..hooks import step_logger
from ..spec import semver_key
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    values_digest: str | None = None


class Outputs(StepOutputs):
    previous_version: str | None = None
    restarted: bool = False
    adopted: list[str] = []


def crosses_breaking(deployed: str | None, target: str | None, breaking: str | None) -> bool:
    """True when an upgrade goes from below the breaking version to at or above it."""
    if not (deployed and target and breaking):
        return False
    return semver_key(deployed) < semver_key(breaking) <= semver_key(target)


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    spec = inputs.spec
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    deployed = record.chart_version if record and record.live else None
    payload = inputs.run_hooks("pre_exec", previous_version=deployed)
    log = step_logger(spec.name, "pre_exec")
    adopted = []
    for ref in spec.adopt:
        obj = kube.parse_ref(ref, spec.namespace)
        if spec.dry_run:
            log.info("dry run: would adopt %s", obj)
        elif kube.adopt(inputs.api, obj, spec.name, spec.namespace):
            adopted.append(str(obj))
            log.info("adopted %s into release %s", obj, spec.name)
    restarted = False
    target, breaking = inputs.chart_version, spec.last_breaking_version_requiring_restart
    if crosses_breaking(deployed, target, breaking):
        if spec.dry_run:
            log.info("dry run: would uninstall %s (%s -> %s crosses breaking %s)", spec.name, deployed, target, breaking)
        else:
            log.info("uninstalling %s: %s -> %s crosses breaking version %s", spec.name, deployed, target, breaking)
            uninstall(inputs)  # refused while template CRDs hold custom resources
            restarted = True
    return Outputs(payload=payload, previous_version=deployed, restarted=restarted, adopted=adopted)


def delete(inputs: Inputs, outputs: Outputs) -> None:
    if inputs.hooks.get("teardown") and not inputs.spec.dry_run:
        inputs.run_hooks("teardown", previous_version=outputs.previous_version)
