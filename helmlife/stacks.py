"""Stack config: which charts a stack (an environment) deploys, validated before anything runs.

A stack's `helmlife:` config holds the cluster to reach and the list of charts, each a
ChartSpec. Errors name the stack, the chart and the field, because in a pull request the
preview output is the only place a reviewer sees them.
"""
from __future__ import annotations

import os
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .spec import Action, ChartSpec, RepoChart, format_validation_error
from .values import deep_merge


class StackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kubeconfig_path: str | None = Field(default=None, description="Kubeconfig file, relative to the project.")
    kube_context: str | None = None
    charts: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("charts")
    @classmethod
    def _unique(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, c in enumerate(v):
            if not c.get("name"):
                raise ValueError(f"entry {i} has no name; every chart needs `name`")
        names = [c["name"] for c in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"chart names must be unique in a stack; repeated: {', '.join(dupes)}")
        return v


class StackConfigError(ValueError):
    pass


BASE_FILE = "stacks/base.yaml"
# `${VAR}` or `${VAR:-default}`, expanded in `chart.repo` only (see expand_env).
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """`${VAR}` and `${VAR:-default}` replaced from `env`, as a POSIX shell would (an empty
    VAR takes the default too). A repository's host and port differ per machine (the local
    cluster's `HELMLIFE_REPO_PORT`, a CI mirror) while the chart pin stays the same, so
    repository URLs may name variables; nothing else in a stack file does, so a `$` in a value
    never changes meaning. An unset variable without a default is an error, not an empty string."""

    def one(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if value := env.get(name):
            return value
        if default is not None:
            return default
        raise ValueError(f"{m.group(0)}: environment variable {name} is not set; set it, or write "
                         f"${{{name}:-DEFAULT}} to give a default")

    return ENV_REFERENCE.sub(one, text)


def _expand_repo(entry: Any, env: Mapping[str, str]) -> Any:
    chart = entry.get("chart") if isinstance(entry, dict) else None
    if not isinstance(chart, dict) or not isinstance(chart.get("repo"), str):
        return entry
    return {**entry, "chart": {**chart, "repo": expand_env(chart["repo"], env)}}


def load_base(project_dir: Path) -> dict[str, dict[str, Any]]:
    """Shared chart defaults by chart name (stacks/base.yaml), so a stack lists only what differs."""
    path = project_dir / BASE_FILE
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    charts = doc.get("charts") or {}
    if not isinstance(charts, dict) or not all(isinstance(v, dict) for v in charts.values()):
        raise StackConfigError(f"{BASE_FILE}: 'charts' must map chart names to spec fields")
    return charts


def with_base(entry: Any, base: dict[str, dict[str, Any]]) -> Any:
    """A stack's chart entry laid over the base entry of the same name (maps merge, the rest replaces)."""
    if not isinstance(entry, dict) or entry.get("name") not in base:
        return entry
    return deep_merge({"name": entry["name"], **base[entry["name"]]}, entry)


def parse_stack_config(stack: str, raw: dict[str, Any], base: dict[str, dict[str, Any]] | None = None,
                       env: Mapping[str, str] | None = None) -> tuple[StackConfig, list[ChartSpec]]:
    """Validate the whole config and every chart, reporting all problems at once.

    `env` (default: this process's environment) expands `${VAR:-default}` in `chart.repo`."""
    env = os.environ if env is None else env
    try:
        cfg = StackConfig.model_validate(raw)
    except ValidationError as err:
        raise StackConfigError(format_validation_error(err, f"stack {stack!r}")) from None
    problems: list[str] = []
    specs: list[ChartSpec] = []
    for i, entry in enumerate(cfg.charts):
        label = f"stack {stack!r}, chart {entry.get('name', f'#{i}')!r}"
        try:
            spec = ChartSpec.model_validate(_expand_repo(with_base(entry, base or {}), env))
        except ValidationError as err:
            problems.append(format_validation_error(err, label))
            continue
        except ValueError as err:
            problems.append(f"invalid chart spec for {label}:\n  - chart.repo: {err}")
            continue
        plain = [(f"values.{j}", "a value marked secret", "secret_config: KEY` instead of `value")
                 for j, v in enumerate(spec.values) if v.secret and v.secret_config is None]
        if isinstance(spec.chart, RepoChart) and spec.chart.password is not None:
            plain.append(("chart.password", "a password", "password_secret_config: KEY` instead of `password"))
        if plain:
            problems.append(
                f"invalid chart spec for {label}:\n" + "\n".join(
                    f"  - {field}: {what} written in the stack file is stored in plain text "
                    "(in the file and in Pulumi's update history); store it with `pulumi config set --secret KEY VALUE` "
                    f"and write `{fix}" for field, what, fix in plain))
            continue
        specs.append(spec)
    problems += dependency_problems(stack, specs, {str(c.get("name")) for c in cfg.charts})
    if problems:
        raise StackConfigError("\n".join(problems))
    return cfg, in_dependency_order(specs)


def dependency_problems(stack: str, specs: list[ChartSpec], declared: set[str]) -> list[str]:
    """`depends_on` naming a chart the stack does not have, one that is being destroyed, or a
    cycle: each message names both ends, since either may be the one to fix. (`declared`: every
    chart name in the stack, including charts whose own spec is invalid and reported already.)"""
    by_name = {s.name: s for s in specs}
    found: list[str] = []
    for spec in specs:
        for dep in spec.depends_on:
            where = f"invalid chart spec for stack {stack!r}, chart {spec.name!r}:\n  - depends_on: {dep!r}"
            if dep not in declared:
                found.append(f"{where} is not a chart of this stack (charts: {', '.join(sorted(declared))}); "
                             "fix the name or add that chart")
            elif dep not in by_name:
                continue
            elif by_name[dep].action is Action.destroy and spec.action is not Action.destroy:
                found.append(f"{where} has action: destroy, so {spec.name!r} would wait for a chart that is "
                             f"being removed; drop the dependency or destroy {spec.name!r} too")
    graph = {s.name: [d for d in s.depends_on if d in by_name] for s in specs}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        cycle = err.args[1]
        found.append(f"invalid stack {stack!r}: depends_on forms a cycle {' -> '.join(repr(n) for n in cycle)}, "
                     "so none of these charts could ever start; remove one of these dependencies")
    return found


def in_dependency_order(specs: list[ChartSpec]) -> list[ChartSpec]:
    """The stack's order, except that a chart comes after the charts it depends on (the program
    needs their step resources to wait for)."""
    done: set[str] = set()
    ordered: list[ChartSpec] = []
    pending = list(specs)
    while pending:  # dependency_problems ruled out cycles and unknown names
        spec = next(s for s in pending if all(d in done for d in s.depends_on))
        pending.remove(spec)
        ordered.append(spec)
        done.add(spec.name)
    return ordered


def read_kubeconfig(cfg: StackConfig, project_dir: Path, env_path: str | None, override: str | None = None) -> str:
    """Kubeconfig content: HELMLIFE_KUBECONFIG (a CI override) wins over the stack's path,
    which wins over KUBECONFIG."""
    path = override or cfg.kubeconfig_path or env_path
    if not path:
        raise StackConfigError("no cluster configured: set helmlife:kubeconfig_path in the stack or KUBECONFIG")
    p = project_dir / path  # an absolute path stays itself
    try:
        return p.read_text()
    except OSError as err:
        # The shipped stacks name the default local cluster's kubeconfig; another
        # HELMLIFE_CLUSTER_NAME writes its own elsewhere (docs/toolchain.md), so say how to reach it.
        raise StackConfigError(f"helmlife:kubeconfig_path: cannot read {p} ({err.strerror}); "
                               "start the cluster (scripts/cluster up) or fix the path (a local cluster not "
                               "named helmlife: export HELMLIFE_KUBECONFIG=$(scripts/cluster kubeconfig))") from None
