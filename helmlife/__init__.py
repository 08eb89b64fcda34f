"""helmlife: a real lifecycle for Helm charts inside Pulumi.

A `LifecycleChart` runs check_prerequisites -> pre_exec -> crd_cleanup -> release (helm) -> post_exec ->
validate as ordered Pulumi resources, with user hooks in plain Python and CRD cleanup after
uninstall.
"""
from .chart import LifecycleChart
from .hooks import (HookContext, HookFailedError, HookRetriesError, Hooks, HookTimeoutError, PermanentError,
                    TemporaryError, hook_options)
from .spec import Action, ChartSpec, HttpCheck, LocalChart, RepoChart, ValueSetting, parse_spec

__all__ = [
    "Action", "ChartSpec", "HookContext", "HookFailedError", "HookRetriesError", "HookTimeoutError", "Hooks",
    "HttpCheck", "LifecycleChart", "LocalChart", "PermanentError", "RepoChart", "TemporaryError", "ValueSetting",
    "hook_options", "parse_spec",
]
