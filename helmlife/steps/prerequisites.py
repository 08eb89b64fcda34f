"""check_prerequisites: fail `pulumi preview` before anything touches the cluster.

The built-in checks run in the provider's `check`, which the engine calls during preview,
so a pull-request preview already fails on a missing values file or a chart version that the
repository does not have.
"""
from __future__ import annotations

from typing import Any

from .. import charts, kube
from ..spec import ChartSpec, RepoChart
from ..values import split_values
from .base import api, project_dir, run_user_hooks, spec_of

TRIGGERS = ("spec", "chart_version", "chart_digest", "hooks")
CHECK_NEEDS = ("spec", "project_dir", "kubeconfig")


def builtin_problems(spec: ChartSpec, props: dict[str, Any]) -> list[tuple[str, str]]:
    base = project_dir(props)
    problems: list[tuple[str, str]] = []
    if isinstance(spec.chart, RepoChart):
        why = charts.repo_has_chart(spec.chart)
        if why:
            problems.append(("release", why))
    else:
        try:
            charts.read_chart_yaml(charts.chart_dir(spec, base))  # type: ignore[arg-type]
        except ValueError as err:
            problems.append(("release", str(err)))
    try:
        split_values(spec, base)
    except ValueError as err:
        problems.append(("release", str(err)))
    if not spec.create_namespace:
        try:
            if not kube.namespace_exists(api(props), spec.namespace):
                problems.append(("release", f"namespace: {spec.namespace!r} does not exist; create it first or set create_namespace: true"))
        except Exception as err:  # noqa: BLE001 - the message is what the user needs
            problems.append(("release", f"cannot reach the cluster to check namespace {spec.namespace!r}: {err}"))
    return problems


def check(news: dict[str, Any]) -> list[tuple[str, str]]:
    spec = spec_of(news)
    problems = builtin_problems(spec, news)
    if not problems and news.get("hooks"):
        try:
            run_user_hooks(news, "check_prerequisites")
        except Exception as err:  # noqa: BLE001
            problems.append(("release", str(err)))
    return [(prop, f"{news['release']}: check_prerequisites: {msg}") for prop, msg in problems]


def _run(props: dict[str, Any]) -> dict[str, Any]:
    problems = builtin_problems(spec_of(props), props)
    if problems:
        raise RuntimeError("; ".join(msg for _, msg in problems))
    return {"payload": run_user_hooks(props, "check_prerequisites")}


def create(props: dict[str, Any]) -> dict[str, Any]:
    return _run(props)


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    return _run(news)
