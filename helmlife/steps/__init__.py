"""The lifecycle, declared once.

Each `StepDef` below is one step: its name (the hook decorator, the module, the resource type
and name suffix in another casing, the journal and log label), what it depends on, which
hook events it runs, which chart facts and upstream outputs it takes, and which input
changes make it run again. `chart.py` builds the resource graph from this table, the
provider decides diffs from it, and the preview summary and docs read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from . import check_prerequisites, crd_cleanup, post_exec, pre_exec, release, validate
from .contract import StepModule

# Recorded on every step without re-running it: delete needs current credentials and names.
CREDENTIALS = ("kubeconfig", "kube_context", "repo_auth")
# The cluster's credentials: the configuration of the provider the steps run in
# (chart.cluster_provider), under a namespace no project's own config uses. State written
# before it keeps them in each step (CREDENTIALS), and that copy still works.
CLUSTER_CONFIG = MappingProxyType({"kubeconfig": "helmlife-cluster:kubeconfig",
                                   "kube_context": "helmlife-cluster:kube_context"})
RENAME = ("spec.name", "spec.namespace")
# What the steps after the release know of the deployment it made (contract.ReleasedInputs).
RELEASED = {"revision": "release.revision", "last_deployed": "release.last_deployed",
            "previous_version": "pre_exec.previous_version"}


@dataclass(frozen=True)
class StepDef:
    name: str
    module: StepModule
    after: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    wires: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    triggers: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # recorded in state without re-running: what delete reads
    replace_on: tuple[str, ...] = RENAME
    legacy: tuple[str, str] | None = None  # (name suffix, type) before this table, helmlife 0.1
    drift: Callable[[Any, Any], bool] | None = None  # the cluster no longer matches the outputs
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
    StepDef("check_prerequisites", check_prerequisites, hooks=("check_prerequisites",),
            facts=("chart_digest", "values", "secret_values"), prepare=check_prerequisites.prepare,
            triggers=("spec", "chart_version", "chart_digest", "hooks.check_prerequisites"),
            legacy=("prerequisites", "Prerequisites")),
    StepDef("pre_exec", pre_exec, after=("check_prerequisites",), hooks=("pre_exec", "teardown"),
            facts=("values_digest",), wires=MappingProxyType({"payload": "check_prerequisites.payload"}),
            triggers=("chart_version", "values_digest", "hooks.pre_exec", "spec.adopt", "spec.create_namespace",
                      "spec.last_breaking_version_requiring_restart"),
            kept=("hooks.teardown", "spec.dry_run", "spec.delete_namespace", "spec.timeout")),
    # CRDs are cluster-scoped: a moved release keeps them (re-run on a rename to mark the new owner).
    StepDef("crd_cleanup", crd_cleanup, after=("pre_exec",), facts=("crds", "crd_digest", "values"),
            triggers=("crds", "crd_digest", "spec.crd_upgrade", *RENAME),
            kept=("spec.force_crd_deletion", "spec.timeout", "spec.dry_run"),
            replace_on=(), legacy=("crds", "CrdCleanup"), since=("crd_digest",)),
    StepDef("release", release, after=("pre_exec", "crd_cleanup"), hooks=("on_deploy_failure",),
            facts=("chart_digest", "values", "secret_values"),
            wires=MappingProxyType({"payload": "pre_exec.payload", "owned_crds": "crd_cleanup.owned_crds"}),
            triggers=("spec.chart", "chart_version", "chart_digest", "values", "secret_values", "spec.atomic",
                      "spec.wait", "spec.timeout", "spec.force_upgrade", "spec.dry_run", "spec.create_namespace",
                      "manifest"),
            kept=("owned_crds", "spec.force_crd_deletion"), since=("manifest", "owned_crds"),
            drift=release.drifted, prepare=release.prepare, refresh=release.refresh),
    # After every helm install or upgrade: `last_deployed` changes even when the revision does
    # not (a breaking-version reinstall starts again at 1); state from before it has none.
    StepDef("post_exec", post_exec, after=("release",), hooks=("post_exec",),
            wires=MappingProxyType({**RELEASED, "payload": "release.payload"}),
            triggers=("revision", "last_deployed", "hooks.post_exec"), since=("last_deployed",)),
    StepDef("validate", validate, after=("post_exec",), hooks=("validate",),
            wires=MappingProxyType({**RELEASED, "payload": "post_exec.payload", "resources": "release.resources"}),
            triggers=("revision", "last_deployed", "spec.http_checks", "spec.validate_workloads", "hooks.validate"),
            since=("last_deployed",)),
)
BY_NAME: Mapping[str, StepDef] = MappingProxyType(
    {**{s.legacy[0]: s for s in LIFECYCLE if s.legacy}, **{s.name: s for s in LIFECYCLE}})
HOOK_EVENTS: tuple[str, ...] = tuple(e for s in LIFECYCLE for e in s.hooks)


def lookup(name: str) -> StepDef:
    """A step by name; names from before the table still resolve (providers pickled in state)."""
    return BY_NAME[name]
