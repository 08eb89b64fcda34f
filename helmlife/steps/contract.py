"""What a step module is: typed inputs and outputs, and three operations.

Every step receives the same `StepInputs` (the chart spec, once, plus the cluster and the hook
references) extended by its own fields; it returns a `StepOutputs` model. The one dynamic
provider (`base.StepProvider`) validates inputs once, decides from the step table whether the
step runs, and calls the module:

    check(inputs)   -> problems found at `pulumi preview` ([] when none)
    run(inputs)     -> outputs, on create and whenever a trigger changed
    delete(inputs, outputs)   at destroy, in reverse dependency order
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import chart_source, kube
from ..canonical import canonical_json, whole_numbers
from ..helm import Helm
from ..hooks import HookContext, run_hooks, step_logger
from ..k8s import client
from ..spec import ChartSpec


class RepoAuth(BaseModel):
    """The secret half of a private chart source (encrypted input `repo_auth`): the password, and
    CA content given in code or from stack config. The rest is in `spec.chart`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    password: str | None = Field(default=None, repr=False)
    ca: str | None = None


class StepInputs(BaseModel):
    """The inputs every step shares. Spec fields travel only inside `spec`."""

    model_config = ConfigDict(frozen=True, extra="ignore", ignored_types=(cached_property,))

    spec: ChartSpec
    kubeconfig: str = Field(default="", repr=False, validate_default=True)
    kube_context: str | None = None
    project_dir: str = "."
    chart_version: str | None = None
    hooks: dict[str, list[str]] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict)
    repo_auth: RepoAuth | None = Field(default=None, repr=False)

    @field_validator("kube_context", mode="before")
    @classmethod
    def _empty_context(cls, v: Any) -> Any:
        return v or None

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _content(cls, v: Any) -> Any:
        """The provider's kubeconfig as a kubernetes.Provider takes it: content, a path, or
        empty for KUBECONFIG / ~/.kube/config. Steps use the content."""
        return kube.kubeconfig_content(v or None) if isinstance(v, str) or v is None else v

    @property
    def release(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def base_dir(self) -> Path:
        return Path(self.project_dir)

    @cached_property
    def api(self) -> client.ApiClient:
        return kube.api_client(self.kubeconfig, self.kube_context)

    @cached_property
    def helm(self) -> Helm:
        return Helm(self.kubeconfig, self.kube_context,
                    lambda: chart_source.repo_access(self.spec, self.base_dir, self.repo_auth))

    def hook_context(self, event: str, **extra: Any) -> HookContext:
        return HookContext(
            step=event, spec=self.spec, release=self.release, namespace=self.namespace,
            previous_version=extra.pop("previous_version", None), target_version=self.chart_version,
            kube=self.api, log=step_logger(self.release, event), payload=dict(self.payload), **extra,
        )

    def run_hooks(self, event: str, **extra: Any) -> dict[str, Any]:
        """Run the event's user hooks (if any) and return the payload to hand on."""
        refs = self.hooks.get(event) or []
        if not refs:
            return dict(self.payload)
        ctx = self.hook_context(event, **extra)
        ctx.log.info("running %d hook(s)", len(refs))
        return run_hooks(refs, ctx)


class ChartInputs(StepInputs):
    """Inputs of the steps that render the chart: what helm needs besides the spec."""

    chart_digest: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    secret_values: dict[str, Any] = Field(default_factory=dict, repr=False)

    @field_validator("values", "secret_values", mode="before")
    @classmethod
    def _whole_numbers(cls, v: Any) -> Any:
        """Pulumi carries every number as a double (replicaCount 1 arrives as 1.0); Helm, like
        JSON, writes a whole number without the fraction, and so must what helmlife compares."""
        return whole_numbers(v)


class ReleasedInputs(StepInputs):
    """Inputs of the step after the Release: the revision it made, and the chart version
    deployed before this run (pre_exec's), which its hooks see as `previous_version`."""

    revision: int | None = None
    previous_version: str | None = None

    @field_validator("revision", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        return int(v) if isinstance(v, float) else v

    def run_hooks(self, event: str, **extra: Any) -> dict[str, Any]:
        return super().run_hooks(event, **{"previous_version": self.previous_version, **extra})


class StepOutputs(BaseModel):
    """What every step hands on: the payload the next step's hooks receive."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    payload: dict[str, Any] = Field(default_factory=dict)


class StepModule(Protocol):
    """The contract of a module in helmlife.steps (each module is one step)."""

    Inputs: type[StepInputs]
    Outputs: type[StepOutputs]

    def check(self, inputs: Any) -> list[str]: ...

    def run(self, inputs: Any) -> StepOutputs: ...

    def delete(self, inputs: Any, outputs: Any) -> None: ...


# --- comparing raw property dicts (the engine's view, where unknowns may appear) -----------------

def get_path(props: dict[str, Any], path: str) -> Any:
    """`spec.atomic` -> props["spec"]["atomic"]; None where any part is missing."""
    node: Any = props
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def changed_paths(olds: dict[str, Any], news: dict[str, Any], paths: tuple[str, ...],
                  since: tuple[str, ...] = ()) -> list[str]:
    """Paths whose value differs. A path in `since` missing on either side was not recorded
    (state from an older helmlife, or the feature switched off), which is not a change.
    Numbers compare as Helm writes them: the engine's 1.0 is the model's 1."""
    return [p for p in paths
            if canonical_json(whole_numbers(get_path(olds, p))) != canonical_json(whole_numbers(get_path(news, p)))
            and not (p in since and (get_path(olds, p) is None or get_path(news, p) is None))]


def contains_unknown(value: Any) -> bool:
    """Unknown ("known after up") anywhere in a value: the engine's sentinel string, or the
    `Unknown` object the dynamic provider deserializes it into for check and diff."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
