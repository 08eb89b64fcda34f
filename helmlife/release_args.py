"""ChartSpec and `kubernetes.helm.v3.ReleaseArgs`, both ways.

`from_spec`: the Release a ChartSpec declares (the ChartInfo fields mapped onto ReleaseArgs).
`to_spec`: what the lifecycle steps need from ReleaseArgs a user hands `LifecycleChart` directly
(chart, version, repository, values, name, namespace, flags). Those ReleaseArgs go to the Release
unchanged, so every field works as it does on a bare Release; only these are read here.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi_kubernetes.helm.v3 import ReleaseArgs, RepositoryOptsArgs

from . import chart_source
from .spec import ChartSpec, LocalChart, RepoChart, SpecError
from .values import deep_merge

# ReleaseArgs field -> ChartSpec field, for those that carry over as they are.
SAME = {"namespace": "namespace", "create_namespace": "create_namespace", "atomic": "atomic",
        "force_update": "force_upgrade"}


def arguments(spec: ChartSpec, project_dir: Path, values: dict[str, Any], rollout: Any = None) -> dict[str, Any]:
    """The Release's arguments (ReleaseArgs' names). Values are merged as helm merges `-f` files
    (secret leaves stay secret Outputs); `reset_values`: the spec declares every value, so a
    value set by hand is not kept by the next upgrade. The description carries pre_exec's
    rollout token: it changes when the chart's content changes without a version bump, or when
    `up` must correct drift, and the Release then upgrades."""
    chart = spec.chart
    args: dict[str, Any] = dict(
        name=spec.name, namespace=spec.namespace, create_namespace=spec.create_namespace, atomic=spec.atomic,
        skip_await=not spec.wait, timeout=max(1, int(spec.timeout_seconds)), force_update=spec.force_upgrade,
        reset_values=True, values=values,
        description=pulumi.Output.from_input(rollout).apply(description) if isinstance(rollout, pulumi.Output)
        else description(rollout),
    )
    if isinstance(chart, LocalChart):
        args["chart"] = local_chart_path(spec, project_dir)
    elif chart_source.needs_pull(chart):  # pre_exec's check pulls it there, before the Release checks it
        args["chart"] = str(chart_source.pulled_path(chart))
    elif chart.is_oci:
        args.update(chart=f"{chart.repo}/{chart.name}", version=chart.version)
    else:
        args.update(chart=chart.name, version=chart.version,
                    repository_opts=_repository_opts(chart, project_dir, with_url=True))
    return args


DESCRIPTION_PREFIX = "helmlife "  # Helm keeps it as the revision's description (`helm history`)


def description(rollout: str | None) -> str | None:
    return f"{DESCRIPTION_PREFIX}{rollout}" if rollout else None


def from_spec(spec: ChartSpec, project_dir: Path, values: dict[str, Any], secret_values: dict[str, Any],
              rollout: pulumi.Input[str] | None = None) -> ReleaseArgs:
    return ReleaseArgs(**arguments(spec, project_dir, deep_merge(values, secret_values), rollout))


CAMEL = {"create_namespace": "createNamespace", "skip_await": "skipAwait", "force_update": "forceUpdate",
         "reset_values": "resetValues", "repository_opts": "repositoryOpts", "ca_file": "caFile"}
# The kubernetes plugin's Release struct as its Check records it: every field, zero values
# included, except nil pointers (maxHistory, repositoryOpts) and the outputs.
RELEASE_FIELDS = {
    "allowNullValues": False, "atomic": False, "chart": "", "cleanupOnFail": False, "createNamespace": False,
    "dependencyUpdate": False, "description": "", "devel": False, "disableCRDHooks": False,
    "disableOpenapiValidation": False, "disableWebhooks": False, "forceUpdate": False, "keyring": "", "lint": False,
    "name": "", "namespace": "", "postrender": "", "recreatePods": False, "renderSubchartNotes": False,
    "replace": False, "resetValues": False, "reuseValues": False, "skipAwait": False, "skipCrds": False,
    "timeout": 0, "values": {}, "verify": False, "version": "", "waitForJobs": False,
}
REPOSITORY_FIELDS = {"caFile": "", "certFile": "", "keyFile": "", "password": "", "repo": "", "username": ""}


def checked_inputs(args: dict[str, Any], version: str | None) -> dict[str, Any]:
    """The inputs the kubernetes plugin's Check records for these arguments (its `__inputs`):
    its Release struct's fields, zero values included, and the chart's version. What a refresh
    writes when the Release takes over an older step's state, so the first diff finds nothing."""
    given = {CAMEL.get(k, k): v for k, v in args.items() if v is not None}
    out = {**RELEASE_FIELDS, **{k: v for k, v in given.items() if k != "repositoryOpts"}}
    if isinstance(opts := args.get("repository_opts"), RepositoryOptsArgs):
        out["repositoryOpts"] = {**REPOSITORY_FIELDS, **{CAMEL.get(k, k): v for k in ("repo", "username", "password", "ca_file")
                                                        if (v := getattr(opts, k)) is not None}}
    if version:
        out["version"] = version
    return out


def local_chart_path(spec: ChartSpec, project_dir: Path) -> str:
    """The chart directory as the Release gets it: relative to the project when it is inside it
    (the kubernetes plugin runs there, and state then reads the same from every checkout), or
    the built copy with its sub-charts when `dependencies:` are not vendored."""
    resolved = Path(chart_source.chart_ref(spec, project_dir).path or "")
    try:
        return str(resolved.relative_to(project_dir.resolve()))
    except ValueError:
        return str(resolved)


def _repository_opts(chart: RepoChart, project_dir: Path, *, with_url: bool) -> RepositoryOptsArgs:
    ca_file: pulumi.Input[str] | None = None
    if chart.ca_file:
        ca_file = str(project_dir / chart.ca_file)
    elif chart.ca is not None:
        ca_file = pulumi.Output.from_input(chart.ca).apply(ca_bundle_file)
    return RepositoryOptsArgs(
        repo=chart.repo if with_url else None, username=chart.username,
        password=pulumi.Output.secret(chart.password) if chart.password is not None else None, ca_file=ca_file)


def ca_bundle_file(pem: str) -> str:
    """A CA bundle given as content (code, stack config) as the file the kubernetes plugin reads;
    named by its content, so the Release's input is the same at every run."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "helmlife", "ca")
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem)
    return str(path)


# --- ReleaseArgs -> ChartSpec ---------------------------------------------------------------

def _get(args: Any, field: str) -> Any:
    return args.get(field) if isinstance(args, dict) else getattr(args, field, None)


def to_spec(args: Any, resource_name: str) -> dict[str, Any]:
    """A ChartSpec document from ReleaseArgs: what pre_exec renders and the steps check."""
    problems: list[str] = []
    spec: dict[str, Any] = {"name": _get(args, "name") or resource_name}
    spec.update({theirs: _get(args, ours) for ours, theirs in SAME.items() if _get(args, ours) is not None})
    chart, version, repo = _get(args, "chart"), _get(args, "version"), _get(args, "repository_opts")
    repo_url = _get(repo, "repo") if repo is not None else None
    if repo_url:
        spec["chart"] = {"repo": repo_url, "name": chart, "version": version, **_access(repo)}
    elif isinstance(chart, str) and chart.startswith("oci://"):
        registry, _, name = chart.rpartition("/")
        spec["chart"] = {"repo": registry, "name": name, "version": version}
    elif version:
        problems.append("  - version: a version needs repository_opts.repo; a local chart's version is its Chart.yaml")
    else:
        spec["chart"] = chart
    if _get(args, "timeout") is not None:
        spec["timeout"] = f"{int(_get(args, 'timeout'))}s"
    if _get(args, "skip_await"):
        spec["wait"] = False
    spec.update(_values(_get(args, "values") or {}))
    files = [getattr(asset, "path", asset) for asset in _get(args, "value_yaml_files") or []]
    if files:
        spec["values_files"] = [str(f) for f in files]
    if problems:
        raise SpecError(f"invalid chart spec for chart {spec['name']!r} (from ReleaseArgs):\n" + "\n".join(problems))
    return spec


def _access(repo: Any) -> dict[str, Any]:
    """username, password (always secret, even if given as a plain string) and ca_file."""
    out: dict[str, Any] = {k: _get(repo, k) for k in ("username", "ca_file") if _get(repo, k)}
    if _get(repo, "password"):
        out["password"] = pulumi.Output.secret(_get(repo, "password"))
    return out


def _values(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values become one inline YAML document; a top-level key holding an Output becomes a
    secret value (it may come from a secret, and state must never show it in plain text)."""
    plain = {k: v for k, v in values.items() if not _has_output(v)}
    outputs = [{"key": k, "value": v, "secret": True} for k, v in values.items() if _has_output(v)]
    out: dict[str, Any] = {}
    if plain:
        out["yaml_files_content"] = [yaml.safe_dump(plain, sort_keys=False)]
    if outputs:
        out["values"] = outputs
    return out


def _has_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, dict):
        return any(_has_output(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_output(v) for v in value)
    return False
