"""Migrating from `kubernetes.helm.v3.Release`: its `ReleaseArgs` read as a ChartSpec.

helmlife does not depend on pulumi-kubernetes: its resource plugin cannot be built here, and
with the package installed `pulumi install` fetches that plugin. A user who migrates has it
already and passes the same `ReleaseArgs` (and `RepositoryOptsArgs`) to `LifecycleChart`;
fields are read by name. Options helmlife cannot honour are refused by name, not ignored.
"""
from __future__ import annotations

from typing import Any

import pulumi
import yaml

from .spec import SpecError

# ReleaseArgs field -> ChartSpec field, for those that carry over as they are.
SAME = {"namespace": "namespace", "create_namespace": "create_namespace", "atomic": "atomic",
        "force_update": "force_upgrade"}
# Fields helmlife does itself or that change nothing it does: accepted when set to these values.
ACCEPTED = {"reset_values": (True, None), "dependency_update": (True, False, None), "description": None,
            "max_history": None, "skip_crds": (False, None), "lint": (False, None)}


def _get(args: Any, field: str) -> Any:
    return args.get(field) if isinstance(args, dict) else getattr(args, field, None)


def to_spec(args: Any, resource_name: str) -> dict[str, Any]:
    """A ChartSpec document from ReleaseArgs; SpecError names what cannot carry over."""
    problems: list[str] = []
    handled = {"chart", "version", "repository_opts", "name", "timeout", "skip_await", "values",
               "value_yaml_files", *SAME}
    for field in _fields(args):
        value = _get(args, field)
        if field in handled or value in (None, False, [], {}):
            continue
        if field in ACCEPTED and (ACCEPTED[field] is None or value in ACCEPTED[field]):  # type: ignore[operator]
            continue
        problems.append(f"  - {field}: {value!r} is not supported by LifecycleChart; remove it "
                        "(docs/spec.md lists what a chart spec can say)")
    spec: dict[str, Any] = {"name": _get(args, "name") or resource_name}
    spec.update({theirs: _get(args, ours) for ours, theirs in SAME.items() if _get(args, ours) is not None})
    chart, version, repo = _get(args, "chart"), _get(args, "version"), _get(args, "repository_opts")
    repo_url = _get(repo, "repo") if repo is not None else None
    for field in ("cert_file", "key_file"):
        if repo is not None and _get(repo, field):
            problems.append(f"  - repository_opts.{field}: client certificates are not supported; use "
                            "username with password_secret_config (docs/spec.md, chart sources)")
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


def _fields(args: Any) -> list[str]:
    if isinstance(args, dict):
        return list(args)
    return [f for f in dir(type(args)) if isinstance(getattr(type(args), f, None), property)]


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
