"""The lifecycle, declared once.

A chart's graph is three dynamic-provider steps around one real `kubernetes.helm.v3.Release`:

    pre_exec -> crd_cleanup -> Release (pulumi-kubernetes) -> validate

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

from . import crd_cleanup, pre_exec, retired, validate
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
    legacy: tuple[str, str] | None = None  # (name suffix, type) before this table, helmlife 0.1
    shown: tuple[str, ...] = ()  # properties printed by `pulumi preview --diff`
    # At check time (preview and up), with the previous inputs: derived inputs to record, or
    # a ValueError that fails the preview.
    prepare: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    refresh: Callable[[Any, Any], dict[str, Any] | None] | None = None  # `pulumi refresh`: None = gone
    # Inputs newer than state that may exist: absent from the old state they are no change, so
    # upgrading helmlife re-runs nothing (they are recorded at the step's next update).
    since: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def suffix(self) -> str:
        return self.name.replace("_", "-")

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.module.Outputs.model_fields)


LIFECYCLE: tuple[StepDef, ...] = (
    # check_prerequisites runs in this step's check (every preview), pre_exec when it runs.
    StepDef("pre_exec", pre_exec, hooks=("check_prerequisites", "pre_exec", "teardown"),
            facts=("chart_digest", "values", "secret_values", "values_digest"),
            triggers=("chart_version", "chart_digest", "values_digest", "hooks.check_prerequisites", "hooks.pre_exec",
                      "spec.adopt", "spec.create_namespace", "spec.last_breaking_version_requiring_restart",
                      "reinstall_key", "remediate"),
            kept=("hooks.teardown", "spec.dry_run", "spec.delete_namespace", "spec.timeout", "manifest", "changes",
                  "manifest_is_helms", "manifest_before", "plan", "rollout", "drifted", "spec.action"),
            shown=("plan", "changes"), prepare=pre_exec.prepare, refresh=pre_exec.refresh,
            since=("reinstall_key", "rollout", "chart_digest", "manifest_is_helms", "manifest_before")),
    # CRDs are cluster-scoped: a moved release keeps them (re-run on a rename to mark the new owner).
    StepDef("crd_cleanup", crd_cleanup, after=("pre_exec",), facts=("crds", "crd_digest", "values"),
            triggers=("crds", "crd_digest", "spec.crd_upgrade", *RENAME),
            kept=("spec.force_crd_deletion", "spec.timeout", "spec.dry_run"),
            replace_on=(), legacy=("crds", "CrdCleanup"), since=("crd_digest",)),
    # After the Release: post_exec hooks, then the checks. Every helm install or upgrade gives a new
    # revision, and a breaking-version reinstall (revision 1 again) a new reinstall_key.
    StepDef("validate", validate, after=(RELEASE,), hooks=("post_exec", "validate"),
            wires=MappingProxyType({"payload": "pre_exec.payload", "previous_version": "pre_exec.previous_version",
                                    "reinstall_key": "pre_exec.reinstall_key", "revision": "release.revision",
                                    "owned_crds": "crd_cleanup.owned_crds"}),
            triggers=("revision", "reinstall_key", "spec.http_checks", "spec.validate_workloads", "hooks.post_exec",
                      "hooks.validate"),
            kept=("owned_crds", "spec.force_crd_deletion", "spec.dry_run"),
            shown=("revision",), since=("reinstall_key", "owned_crds")),
)
# Steps of earlier helmlife versions (helm-driven release step, separate prerequisites and
# post_exec steps): providers pickled in old state still name them (see `retired`).
RETIRED: Mapping[str, StepDef] = MappingProxyType({
    name: StepDef(name, retired) for name in ("check_prerequisites", "prerequisites", "release", "post_exec")})
BY_NAME: Mapping[str, StepDef] = MappingProxyType(
    {**RETIRED, **{s.legacy[0]: s for s in LIFECYCLE if s.legacy}, **{s.name: s for s in LIFECYCLE}})
HOOK_EVENTS: tuple[str, ...] = ("check_prerequisites", "pre_exec", "on_deploy_failure", "post_exec", "validate",
                                "teardown")


def lookup(name: str) -> StepDef:
    """A step by name; names from before the table still resolve (providers pickled in state)."""
    return BY_NAME[name]
