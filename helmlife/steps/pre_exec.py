"""pre_exec: the namespace, user hooks, adoption of live objects, and the breaking-version restart.

Runs when the chart version or the values change. With `create_namespace` it first creates a
missing namespace (marked as made by helmlife, so hooks can already use it). The
breaking-version uninstall is decided from the version alone: a values-only change never
uninstalls anything; the pre_exec hooks run before it, while the old version is still installed. Its delete, after the release is uninstalled, runs the teardown hooks
(the reverse of what pre_exec hooks made; they see the version that was deployed as
`previous_version`), then, with `delete_namespace: if_created_and_empty`,
removes the namespace if helmlife created it and nothing is left in it.
"""
from __future__ import annotations

from .. import kube, namespaces, releases
from ..actions.uninstall import uninstall
from ..hooks import step_logger
from ..spec import NamespaceDeletion, crosses_breaking
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    values_digest: str | None = None


class Outputs(StepOutputs):
    previous_version: str | None = None
    restarted: bool = False
    adopted: list[str] = []
    created_namespace: bool = False  # the namespace carries helmlife's mark for this release


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    spec = inputs.spec
    log = step_logger(spec.name, "pre_exec")
    created = False
    if spec.create_namespace and spec.dry_run:
        log.info("dry run: would create namespace %s if missing", spec.namespace)
    elif spec.create_namespace:
        created = namespaces.ensure(inputs.api, spec.namespace, spec.name)
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    deployed = record.chart_version if record and record.live else None
    payload = inputs.run_hooks("pre_exec", previous_version=deployed)
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
    return Outputs(payload=payload, previous_version=deployed, restarted=restarted, adopted=adopted,
                   created_namespace=created)


def delete(inputs: Inputs, outputs: Outputs) -> None:
    spec = inputs.spec
    if spec.dry_run:
        return
    if inputs.hooks.get("teardown"):
        # The version being torn down is the one the last run deployed (its target), not the
        # one that run replaced (outputs.previous_version: None after a first install).
        inputs.run_hooks("teardown", previous_version=inputs.chart_version or outputs.previous_version)
    if spec.delete_namespace is NamespaceDeletion.if_created_and_empty:
        outcome = namespaces.delete_if_created_and_empty(inputs.api, spec.namespace, spec.name, spec.timeout_seconds)
        step_logger(spec.name, "pre_exec").info("%s", outcome.reason)
