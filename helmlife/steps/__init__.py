"""The lifecycle, declared once.

A chart's graph is two dynamic-provider steps around one real `kubernetes.helm.v3.Release`:

    pre_exec -> Release (pulumi-kubernetes) -> validate

pre_exec is everything before the Release (prerequisites, remediation, namespace, hooks,
adoption, the chart's CRDs), so its delete is everything after the uninstall (the CRDs,
teardown hooks, the namespace); validate is everything after it (post_exec and validate hooks,
the checks), so its delete is the first thing a destroy does (refusing while CRDs about to go
hold custom resources). Each step is a resource the engine checkpoints at every operation, so
the graph has no more of them than the order needs.

Each `StepDef` below is one step: its name (the hook decorator, the module, the resource type
and name suffix in another casing, the journal and log label), what it runs after, which hook
events it runs, which chart facts and upstream outputs it takes, which input changes make it run
again, and which of its properties a reviewer reads in `pulumi preview --diff` (`shown`; the rest
is bookkeeping recorded under `__`-prefixed keys, which Pulumi's display leaves out, as
pulumi-kubernetes does with its `__inputs`). `chart.py` builds the graph from this table, the
provider decides diffs from it, and the preview summary and docs read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from . import pre_exec, retired, validate
from .contract import StepModule

# Recorded on every step without re-running it: delete needs current names and chart credentials.
CREDENTIALS = ("kubeconfig", "kube_context", "repo_auth")
# The cluster's credentials: the configuration of the provider the steps run in
# (cluster.steps_provider), under a namespace no project's own config uses. State written
# before it keeps them in each step (CREDENTIALS), and that copy still works.
CLUSTER_CONFIG = MappingProxyType({"kubeconfig": "helmlife-cluster:kubeconfig",
                                   "kube_context": "helmlife-cluster:kube_context"})
RENAME = ("spec.name", "spec.namespace")
RELEASE = "release"  # the Release's place in `after` and in wires ("release.<output>")


@dataclass(frozen=True)
class StepDef:
    name: str
    module: StepModule
    after: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    wires: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    triggers: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # recorded in state without re-running: what delete and the next diff read
    replace_on: tuple[str, ...] = RENAME
    shown: tuple[str, ...] = ()  # properties printed by `pulumi preview --diff`
    # At check time (preview and up), with the previous inputs: derived inputs to record, or
    # a ValueError that fails the preview.
    prepare: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    refresh: Callable[[Any, Any], dict[str, Any] | None] | None = None  # `pulumi refresh`: None = gone
    # Inputs newer than state that may exist: absent from the old state they are no change, so
    # upgrading helmlife re-runs nothing (they are recorded at the step's next update).
    since: tuple[str, ...] = ()
    # Outputs newer than state that may exist: absent from the old outputs, the diff reports an
    # update and the update records them (the module's `backfill`) without running the step.
    backfill: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    def unrecorded(self, outputs: Mapping[str, Any]) -> list[str]:
        """The `backfill` outputs these (old) outputs lack."""
        return [k for k in self.backfill if outputs.get(k) is None]

    @property
    def suffix(self) -> str:
        return self.name.replace("_", "-")

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.module.Outputs.model_fields)


LIFECYCLE: tuple[StepDef, ...] = (
    # check_prerequisites runs in this step's check (every preview), pre_exec when it runs.
    # CRDs are cluster-scoped: a renamed release (pre_exec replaced) keeps them, marked for the new owner.
    StepDef("pre_exec", pre_exec, hooks=("check_prerequisites", "pre_exec", "teardown"),
            facts=("chart_digest", "values", "secret_values", "values_digest", "crds", "crd_digest"),
            triggers=("chart_version", "chart_digest", "values_digest", "hooks.check_prerequisites", "hooks.pre_exec",
                      "spec.adopt", "spec.create_namespace", "spec.last_breaking_version_requiring_restart",
                      "reinstall_key", "remediate", "crds", "crd_digest", "spec.crd_upgrade"),
            kept=("hooks.teardown", "spec.dry_run", "spec.delete_namespace", "spec.timeout", "manifest", "changes",
                  "manifest_is_helms", "manifest_before", "plan", "rollout", "drifted", "spec.action",
                  "spec.force_crd_deletion"),
            shown=("plan", "changes"), prepare=pre_exec.prepare, refresh=pre_exec.refresh,
            since=("reinstall_key", "rollout", "chart_digest", "manifest_is_helms", "manifest_before", "crds",
                   "crd_digest"),
            backfill=("owned_crds",)),
    # After the Release: post_exec hooks, then the checks. Every helm install or upgrade gives a new
    # revision, and a breaking-version reinstall (revision 1 again) a new reinstall_key.
    StepDef("validate", validate, after=(RELEASE,), hooks=("post_exec", "validate"),
            wires=MappingProxyType({"payload": "pre_exec.payload", "previous_version": "pre_exec.previous_version",
                                    "reinstall_key": "pre_exec.reinstall_key", "revision": "release.revision",
                                    "owned_crds": "pre_exec.owned_crds"}),
            triggers=("revision", "reinstall_key", "spec.http_checks", "spec.validate_workloads", "hooks.post_exec",
                      "hooks.validate"),
            kept=("owned_crds", "spec.force_crd_deletion", "spec.dry_run"),
            shown=("revision",), since=("reinstall_key", "owned_crds")),
)
# Steps of earlier helmlife versions (helm-driven release step, separate prerequisites,
# post_exec and crd_cleanup steps; 0.1 named crd_cleanup `crds`): providers pickled in old state
# still name them (see `retired`).
RETIRED: Mapping[str, StepDef] = MappingProxyType({
    name: StepDef(name, retired)
    for name in ("check_prerequisites", "prerequisites", "release", "post_exec", "crd_cleanup", "crds")})
BY_NAME: Mapping[str, StepDef] = MappingProxyType(
    {**RETIRED, **{s.name: s for s in LIFECYCLE}})
HOOK_EVENTS: tuple[str, ...] = ("check_prerequisites", "pre_exec", "on_deploy_failure", "post_exec", "validate",
                                "teardown")


def lookup(name: str) -> StepDef:
    """A step by name; names from before the table still resolve (providers pickled in state)."""
    return BY_NAME[name]
