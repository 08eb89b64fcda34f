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

from .. import kube
from ..canonical import canonical_json
from ..helm import Helm
from ..hooks import HookContext, run_hooks, step_logger
from ..k8s import client
from ..spec import ChartSpec


class StepInputs(BaseModel):
    """The inputs every step shares. Spec fields travel only inside `spec`."""

    model_config = ConfigDict(frozen=True, extra="ignore", ignored_types=(cached_property,))

    spec: ChartSpec
    kubeconfig: str = Field(repr=False)
    kube_context: str | None = None
    project_dir: str = "."
    chart_version: str | None = None
    hooks: dict[str, list[str]] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kube_context", mode="before")
    @classmethod
    def _empty_context(cls, v: Any) -> Any:
        return v or None

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
        return Helm(self.kubeconfig, self.kube_context)

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


def changed_paths(olds: dict[str, Any], news: dict[str, Any], paths: tuple[str, ...]) -> list[str]:
    return [p for p in paths if canonical_json(get_path(olds, p)) != canonical_json(get_path(news, p))]


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
