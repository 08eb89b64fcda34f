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
CREDENTIALS = ("kubeconfig", "kube_context")
RENAME = ("spec.name", "spec.namespace")


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
    # Inputs newer than state that may exist: absent from the old state they are no change, so
    # upgrading helmlife re-runs nothing (they are recorded at the step's next update).
    added: tuple[str, ...] = ()
    replace_on: tuple[str, ...] = RENAME
    legacy: tuple[str, str] | None = None  # (name suffix, type) before this table, helmlife 0.1
    drift: Callable[[Any, Any], bool] | None = None  # the cluster no longer matches the outputs

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
            facts=("chart_digest",),
            triggers=("spec", "chart_version", "chart_digest", "hooks.check_prerequisites"),
            legacy=("prerequisites", "Prerequisites")),
    StepDef("pre_exec", pre_exec, after=("check_prerequisites",), hooks=("pre_exec", "teardown"),
            facts=("values_digest",), wires=MappingProxyType({"payload": "check_prerequisites.payload"}),
            triggers=("chart_version", "values_digest", "hooks.pre_exec", "spec.adopt",
                      "spec.last_breaking_version_requiring_restart"),
            kept=("hooks.teardown", "spec.dry_run")),
    # CRDs are cluster-scoped: a moved release keeps them (re-run on a rename to mark the new owner).
    StepDef("crd_cleanup", crd_cleanup, after=("pre_exec",), facts=("crds", "crd_digest", "values"),
            triggers=("crds", "crd_digest", "spec.crd_upgrade", *RENAME),
            kept=("spec.force_crd_deletion", "spec.timeout", "spec.dry_run"),
            replace_on=(), legacy=("crds", "CrdCleanup"), added=("crd_digest",)),
    StepDef("release", release, after=("pre_exec", "crd_cleanup"), hooks=("on_deploy_failure",),
            facts=("chart_digest", "values", "secret_values"),
            wires=MappingProxyType({"payload": "pre_exec.payload", "owned_crds": "crd_cleanup.owned_crds"}),
            triggers=("spec.chart", "chart_version", "chart_digest", "values", "secret_values", "spec.atomic",
                      "spec.wait", "spec.timeout", "spec.force_upgrade", "spec.dry_run", "spec.create_namespace"),
            kept=("owned_crds", "spec.force_crd_deletion"), added=("owned_crds",), drift=release.drifted),
    StepDef("post_exec", post_exec, after=("release",), hooks=("post_exec",),
            wires=MappingProxyType({"payload": "release.payload", "revision": "release.revision"}),
            triggers=("revision", "hooks.post_exec")),
    StepDef("validate", validate, after=("post_exec",), hooks=("validate",),
            wires=MappingProxyType({"payload": "post_exec.payload", "revision": "release.revision",
                                    "resources": "release.resources"}),
            triggers=("revision", "spec.http_checks", "spec.validate_workloads", "hooks.validate")),
)
BY_NAME: Mapping[str, StepDef] = MappingProxyType(
    {**{s.legacy[0]: s for s in LIFECYCLE if s.legacy}, **{s.name: s for s in LIFECYCLE}})
HOOK_EVENTS: tuple[str, ...] = tuple(e for s in LIFECYCLE for e in s.hooks)


def lookup(name: str) -> StepDef:
    """A step by name; names from before the table still resolve (providers pickled in state)."""
    return BY_NAME[name]
