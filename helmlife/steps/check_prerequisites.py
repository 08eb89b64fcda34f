"""check_prerequisites: fail `pulumi preview` before anything touches the cluster.

The built-in checks run in the provider's `check`, which the engine calls during preview,
so a pull-request preview already fails on a missing values file or a chart version that the
repository does not have.
"""
from __future__ import annotations

from typing import Any

from .. import chart_source, kube
from ..actions import render
from ..spec import RepoChart
from ..values import split_values
from .contract import ChartInputs, StepOutputs, changed_paths


class Inputs(ChartInputs):
    pass


Outputs = StepOutputs


def problems(inputs: Inputs) -> list[str]:
    spec, base = inputs.spec, inputs.base_dir
    found: list[str] = []
    try:
        if isinstance(spec.chart, RepoChart):
            why = chart_source.repo_has_chart(spec.chart, inputs.helm)
            if why:
                found.append(why)
        else:
            chart_source.read_chart_yaml(chart_source.chart_dir(spec, base))  # type: ignore[arg-type]
            chart_source.chart_ref(spec, base)  # sub-charts resolved now, so a missing one fails preview
    except ValueError as err:
        found.append(str(err))
    try:
        split_values(spec, base)
    except ValueError as err:
        found.append(str(err))
    if not spec.create_namespace:
        try:
            if not kube.namespace_exists(inputs.api, spec.namespace):
                found.append(f"namespace: {spec.namespace!r} does not exist; create it first or set create_namespace: true")
        except Exception as err:  # noqa: BLE001 - the message is what the user needs
            found.append(f"cannot reach the cluster to check namespace {spec.namespace!r}: {err}")
    return found


def check(inputs: Inputs) -> list[str]:
    found = problems(inputs)
    if not found and inputs.hooks.get("check_prerequisites"):
        try:
            inputs.run_hooks("check_prerequisites")
        except Exception as err:  # noqa: BLE001
            found.append(str(err))
    return found


def prepare(inputs: Inputs, olds: dict[str, Any]) -> dict[str, Any]:
    """Start rendering the chart with its values when they changed, in the background (the
    engine checks resources one at a time, so waiting here would render the charts in a row).
    A values.schema.json violation or a template error then fails `pulumi preview` at the
    release step's check, and `up` in this step's run, before any step changes anything; both
    name the chart. The render is kept for the release step's manifest diff in the same run."""
    if not olds or changed_paths(olds, inputs.model_dump(mode="json"), render.RENDER_INPUTS):
        render.start(inputs)
    return {}


def run(inputs: Inputs) -> Outputs:
    found = problems(inputs)
    if found:
        raise RuntimeError("; ".join(found))
    render.wait(inputs)  # the chart must render before pre_exec's hooks or helm touch anything
    return Outputs(payload=inputs.run_hooks("check_prerequisites"))


def delete(inputs: Inputs, outputs: Outputs) -> None:
    return None
