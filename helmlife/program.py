"""The Pulumi program behind `__main__.py`: one LifecycleChart per chart in the stack config."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import pulumi

from .chart import LifecycleChart
from .hooks import Hooks
from .spec import ChartSpec, RepoChart
from .stacks import load_base, parse_stack_config, read_kubeconfig


def deploy_stack(
    components: Mapping[str, type[LifecycleChart]] | None = None,
    hooks: Mapping[str, Hooks] | None = None,
    project_dir: Path | None = None,
) -> dict[str, LifecycleChart]:
    """Build every chart of the current stack; `components`/`hooks` attach user code by chart name."""
    # The language host runs the program with the project directory as its working directory.
    base = project_dir or Path.cwd()
    stack = pulumi.get_stack()
    raw = pulumi.Config("helmlife")
    cfg, specs = parse_stack_config(stack, base=load_base(base), raw={
        k: v for k, v in {
            "kubeconfig_path": raw.get("kubeconfig_path"),
            "kube_context": raw.get("kube_context"),
            "charts": raw.get_object("charts") or [],
        }.items() if v is not None
    })
    kubeconfig = read_kubeconfig(cfg, base, os.environ.get("KUBECONFIG"), os.environ.get("HELMLIFE_KUBECONFIG"))
    built: dict[str, LifecycleChart] = {}
    for spec in specs:
        spec = _with_secret_config(spec, raw)
        cls = (components or {}).get(spec.name, LifecycleChart)
        chart = cls(spec.name, spec, kubeconfig=kubeconfig, kube_context=cfg.kube_context,
                    hooks=(hooks or {}).get(spec.name), project_dir=base,
                    depends_on=[built[name] for name in spec.depends_on])  # specs come in dependency order
        built[spec.name] = chart
        if chart.release is not None:
            pulumi.export(f"{spec.name}", {
                "namespace": spec.namespace,
                "revision": chart.revision,
                "status": chart.status,
                "chart_version": chart.release.status.version,
            })
    return built


def _with_secret_config(spec: ChartSpec, config: pulumi.Config) -> ChartSpec:
    """Resolve config keys (values' `secret_config`, the chart source's `password_secret_config`
    and `ca_config`) into secret Outputs, so plaintext never enters the spec."""
    update: dict[str, object] = {}
    if any(v.secret_config for v in spec.values):
        update["values"] = [
            v.model_copy(update={"value": config.require_secret(v.secret_config)}) if v.secret_config else v
            for v in spec.values
        ]
    chart = spec.chart
    if isinstance(chart, RepoChart) and (chart.password_secret_config or chart.ca_config):
        update["chart"] = chart.model_copy(update={
            k: config.require_secret(key) for k, key in (("password", chart.password_secret_config),
                                                         ("ca", chart.ca_config)) if key})
    return spec.model_copy(update=update) if update else spec
