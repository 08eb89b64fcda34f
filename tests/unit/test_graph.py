"""Graph wiring with Pulumi mocks: which steps exist, their dependencies and secret inputs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

ROOT = Path(__file__).resolve().parents[2]


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs)
        if args.typ.endswith(":Release"):
            outs.update(revision=1, status="deployed", resources=["Deployment/ns/x"])
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, preview=False)
    return m


def _build(spec: dict[str, Any], **kw: Any):
    from helmlife.chart import LifecycleChart

    return LifecycleChart(spec["name"], spec, kubeconfig="apiVersion: v1\nkind: Config\n", project_dir=ROOT, **kw)


@pulumi.runtime.test
def test_deploy_builds_six_steps_in_a_chain(mocks: Mocks):
    chart = _build({"name": "op", "chart": "charts/demo-operator/1.0.0", "namespace": "ns"})

    def check(_: Any) -> None:
        by_name = {r.name: r for r in mocks.resources}
        assert [r.name for r in mocks.resources if r.typ.startswith("pulumi-python:dynamic")] == [
            "op-prerequisites", "op-pre-exec", "op-crds", "op-release", "op-post-exec", "op-validate"]
        assert by_name["op"].typ == "helmlife:index:LifecycleChart"
        for step in ("op-prerequisites", "op-pre-exec", "op-crds", "op-release", "op-post-exec", "op-validate"):
            assert by_name[step].typ.startswith("pulumi-python:dynamic/helmlife:")
        assert by_name["op-crds"].inputs["crds"] == ["gadgets.demo.helmlife.dev", "widgets.demo.helmlife.dev"]
        assert by_name["op-release"].inputs["chart_version"] == "1.0.0"

    return all_registered(chart).apply(check)


def all_registered(chart) -> pulumi.Output[Any]:
    return pulumi.Output.all(chart.urn, *[s.urn for s in chart.steps.values()])


@pulumi.runtime.test
def test_dependencies_chain_the_steps(mocks: Mocks):
    """Dependencies are what make destroy run in reverse: each step waits on the one before."""
    chart = _build({"name": "op", "chart": "charts/demo-operator/1.0.0"})

    assert chart.step_dependencies == {
        "prerequisites": [],
        "pre_exec": ["prerequisites"],
        "crds": ["pre_exec"],
        "release": ["pre_exec", "crds"],
        "post_exec": ["release"],
        "validate": ["post_exec"],
    }

    def check(_: Any) -> None:
        order = [r.name for r in mocks.resources if r.name != "op"]
        assert order.index("op-crds") < order.index("op-release") < order.index("op-post-exec")

    return all_registered(chart).apply(check)


@pulumi.runtime.test
def test_secret_values_and_kubeconfig_are_secret_inputs(mocks: Mocks):
    chart = _build({"name": "app", "chart": "charts/demo-app",
                    "values": [{"key": "token", "value": "t0k3n", "secret": True}, {"key": "plain", "value": 1}]})
    release = chart.steps["release"]

    def check(args: list[Any]) -> None:
        secret_values, plain = args
        assert secret_values == {"token": "t0k3n"}
        assert plain == {"plain": 1}
        rel = next(r for r in mocks.resources if r.name == "app-release")
        assert "t0k3n" not in repr(rel.inputs["spec"])

    async def is_secret(out: pulumi.Output[Any]) -> bool:
        return await out.is_secret()

    out = pulumi.Output.all(release.secret_values, release.values)  # type: ignore[attr-defined]
    return pulumi.Output.all(out, pulumi.Output.from_input(is_secret(release.secret_values)),  # type: ignore[attr-defined]
                             pulumi.Output.from_input(is_secret(release.kubeconfig))).apply(  # type: ignore[attr-defined]
        lambda a: (check(a[0]), assert_secret(a[1], a[2])))


def assert_secret(*flags: bool) -> None:
    assert all(flags), flags


@pulumi.runtime.test
def test_destroy_action_builds_no_steps(mocks: Mocks):
    chart = _build({"name": "gone", "chart": "charts/demo-app", "action": "destroy"})
    assert chart.steps == {} and chart.release is None
    return chart.urn.apply(lambda _: [r.name for r in mocks.resources if r.name != "gone"] == []
                           or pytest.fail(str([r.name for r in mocks.resources])))


def test_hooks_defined_in_main_are_refused() -> None:
    import types

    from helmlife.hooks import Hooks

    fake_main = types.ModuleType("__main__")
    exec("def hook(ctx):\n    return None\n", fake_main.__dict__)
    with pytest.raises(ValueError, match="importable module"):
        Hooks().pre_exec(fake_main.hook)
