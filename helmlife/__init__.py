"""helmlife: a real lifecycle for Helm charts inside Pulumi.

A `LifecycleChart` wraps a real `kubernetes.helm.v3.Release` with ordered lifecycle steps:
pre_exec (check_prerequisites and pre_exec hooks, the chart's CRDs) -> the Release -> validate
(post_exec and validate hooks), user hooks in plain Python, CRD cleanup after the uninstall.

The names below are imported on first use (PEP 562): importing one submodule, such as
`helmlife.provider_pool`, then costs that module only, not Pulumi's SDK and the kubernetes
client, which take seconds of CPU to import (every `pulumi` command pays it once per process).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "LifecycleChart": "chart",
    **dict.fromkeys(("HookContext", "HookFailedError", "HookRetriesError", "Hooks", "HookTimeoutError",
                     "PermanentError", "TemporaryError", "hook_options"), "hooks"),
    **dict.fromkeys(("Action", "ChartSpec", "HttpCheck", "LocalChart", "RepoChart", "ValueSetting", "parse_spec"),
                    "spec"),
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .chart import LifecycleChart
    from .hooks import (HookContext, HookFailedError, HookRetriesError, Hooks, HookTimeoutError, PermanentError,
                        TemporaryError, hook_options)
    from .spec import Action, ChartSpec, HttpCheck, LocalChart, RepoChart, ValueSetting, parse_spec


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'helmlife' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
