"""The one dynamic provider every lifecycle step shares, and the shape of a step's inputs.

Pulumi stores a pickled copy of a dynamic provider in state and uses that copy for `delete`.
`StepProvider` therefore holds nothing but the name of its step: the pickle is a reference
to this importable class plus one string, and every operation is looked up at call time in
`helmlife.steps.<step>`. Upgrading helmlife upgrades what runs at destroy time.
"""
from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from .. import kube
from ..hooks import HookContext, PermanentError, run_hooks, step_logger
from ..spec import ChartSpec

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the RPC sentinel the engine sends for unknown values


def journal(step: str, operation: str, props: dict[str, Any]) -> None:
    """Append one line per step operation to $HELMLIFE_JOURNAL, when set: an audit trail of
    what ran, in which order, that outlives the cluster objects a destroy removes."""
    path = os.environ.get("HELMLIFE_JOURNAL")
    if path:
        line = json.dumps({"t": time.time(), "release": props.get("release"), "step": step, "op": operation})
        with open(path, "a") as fh:
            fh.write(line + "\n")


class StepProvider(ResourceProvider):
    """Delegates to helmlife.steps.<step>; see the module docstring for why it is this thin."""

    serialize_as_secret_always = False  # it holds no secret: only a step name

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step

    def _impl(self) -> ModuleType:
        return importlib.import_module(f"helmlife.steps.{self.step}")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        impl = self._impl()
        failures: list[CheckFailure] = []
        if hasattr(impl, "check") and news.get("action") != "skip" and not has_unknowns(news, impl.CHECK_NEEDS):
            failures = [CheckFailure(prop, reason) for prop, reason in impl.check(news)]
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return step_diff(self._impl(), olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        # `skip` on a step that never ran records a placeholder and touches nothing.
        if props.get("action") == "skip":
            outs: dict[str, Any] = {"skipped": True}
        else:
            journal(self.step, "create", props)
            outs = {**self._impl().create(props), "skipped": False}
        return CreateResult(id_=f"{props['namespace']}/{props['release']}/{self.step}", outs={**props, **outs})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        impl = self._impl()
        journal(self.step, "update", news)
        outs = impl.create(news) if olds.get("skipped") else impl.update(olds, news)
        return UpdateResult(outs={**news, **outs, "skipped": False})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        impl = self._impl()
        journal(self.step, "delete", props)
        if hasattr(impl, "delete") and not props.get("skipped"):
            impl.delete(props)


def has_unknowns(props: dict[str, Any], keys: Sequence[str]) -> bool:
    return any(contains_unknown(props.get(k)) for k in keys)


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def changed_keys(olds: dict[str, Any], news: dict[str, Any], keys: Sequence[str]) -> list[str]:
    return [k for k in keys if _canon(olds.get(k)) != _canon(news.get(k))]


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def diff_on(olds: dict[str, Any], news: dict[str, Any], triggers: Sequence[str],
            replace_on: Sequence[str] = ("release", "namespace")) -> DiffResult:
    """A step re-runs only when one of its trigger inputs changed; `skip` never re-runs.

    A changed kubeconfig also counts (without re-running hooks: update sees no trigger) so
    that the credentials kept for `delete` are never stale.
    """
    if news.get("action") == "skip":
        return DiffResult(changes=False)
    if olds.get("skipped"):
        return DiffResult(changes=True, replaces=[], delete_before_replace=False)
    changed = changed_keys(olds, news, [*triggers, *replace_on, "kubeconfig", "kube_context"])
    replaces = [k for k in replace_on if k in changed]
    return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)


def step_diff(impl: ModuleType, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    """A step module's own `diff` when it has one, else: re-run when a TRIGGERS input changed."""
    custom = getattr(impl, "diff", None)
    return custom(olds, news) if custom else diff_on(olds, news, impl.TRIGGERS)


def triggered(olds: dict[str, Any], news: dict[str, Any], triggers: Sequence[str]) -> bool:
    return bool(changed_keys(olds, news, triggers))


def spec_of(props: dict[str, Any]) -> ChartSpec:
    return ChartSpec.model_validate(props["spec"])


def project_dir(props: dict[str, Any]) -> Path:
    return Path(props.get("project_dir") or ".")


def api(props: dict[str, Any]):  # -> kubernetes.client.ApiClient
    return kube.api_client(props["kubeconfig"], props.get("kube_context") or None)


def context(props: dict[str, Any], step: str, **extra: Any) -> HookContext:
    return HookContext(
        step=step,
        spec=spec_of(props),
        release=props["release"],
        namespace=props["namespace"],
        previous_version=extra.pop("previous_version", None),
        target_version=props.get("chart_version"),
        kube=api(props),
        log=step_logger(props["release"], step),
        payload=dict(props.get("payload") or {}),
        **extra,
    )


def run_user_hooks(props: dict[str, Any], step: str, **extra: Any) -> dict[str, Any]:
    """Run the step's user hooks (if any) and return the payload to hand on."""
    refs = props.get("hooks") or []
    payload = dict(props.get("payload") or {})
    if not refs:
        return payload
    ctx = context(props, step, **extra)
    ctx.log.info("running %d hook(s)", len(refs))
    return run_hooks(refs, ctx)


__all__ = [
    "StepProvider", "PermanentError", "changed_keys", "diff_on", "step_diff", "triggered",
    "spec_of", "project_dir", "api", "context", "run_user_hooks", "has_unknowns", "contains_unknown",
]
