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


class HookCallbacks:
    """Stands in for the engine's hook-callback server, which mocks do not start: the release's
    ErrorHook registers here, as it would with the real CLI."""

    def __init__(self) -> None:
        self.error_hooks: list[str] = []

    def register_error_hook(self, hook: pulumi.ErrorHook) -> None:
        self.error_hooks.append(hook.name)


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch) -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, preview=False)
    monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "callbacks", HookCallbacks())
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
            "op-check-prerequisites", "op-pre-exec", "op-crd-cleanup", "op-release", "op-post-exec", "op-validate"]
        assert by_name["op"].typ == "helmlife:index:LifecycleChart"
        for step in ("op-check-prerequisites", "op-pre-exec", "op-crd-cleanup", "op-release", "op-post-exec",
                     "op-validate"):
            assert by_name[step].typ.startswith("pulumi-python:dynamic/helmlife:")
        assert by_name["op-crd-cleanup"].inputs["crds"] == ["gadgets.demo.helmlife.dev", "widgets.demo.helmlife.dev"]
        assert by_name["op-release"].inputs["chart_version"] == "1.0.0"

    return all_registered(chart).apply(check)


def all_registered(chart) -> pulumi.Output[Any]:
    return pulumi.Output.all(chart.urn, *[s.urn for s in chart.steps.values()])


@pulumi.runtime.test
def test_dependencies_chain_the_steps(mocks: Mocks):
    """Dependencies are what make destroy run in reverse: each step waits on the one before."""
    chart = _build({"name": "op", "chart": "charts/demo-operator/1.0.0"})

    assert chart.step_dependencies == {
        "check_prerequisites": [],
        "pre_exec": ["check_prerequisites"],
        "crd_cleanup": ["pre_exec"],
        "release": ["pre_exec", "crd_cleanup"],
        "post_exec": ["release"],
        "validate": ["post_exec"],
    }

    def check(_: Any) -> None:
        order = [r.name for r in mocks.resources if r.name != "op"]
        assert order.index("op-crd-cleanup") < order.index("op-release") < order.index("op-post-exec")

    return all_registered(chart).apply(check)


@pulumi.runtime.test
def test_secret_values_are_secret_inputs_and_the_kubeconfig_is_the_cluster_providers(mocks: Mocks):
    chart = _build({"name": "app", "chart": "charts/demo-app",
                    "values": [{"key": "token", "value": "t0k3n", "secret": True}, {"key": "plain", "value": 1}]})
    release = chart.steps["release"]

    def check(args: list[Any]) -> None:
        secret_values, plain = args
        assert secret_values == {"token": "t0k3n"}
        assert plain == {"plain": 1}
        rel = next(r for r in mocks.resources if r.name == "app-release")
        assert "t0k3n" not in repr(rel.inputs["spec"])
        # Credentials are recorded once, by the provider every step runs in, not per step.
        steps = [r for r in mocks.resources if r.typ.startswith("pulumi-python:dynamic")]
        assert steps and not any("kubeconfig" in r.inputs or "kube_context" in r.inputs for r in steps)
        providers = [r for r in mocks.resources if r.typ == "pulumi:providers:pulumi-python"]
        assert [p.name for p in providers] == ["helmlife-cluster"]
        kubeconfig = providers[0].inputs["helmlife-cluster:kubeconfig"]
        assert kubeconfig.get(pulumi.runtime.rpc._special_sig_key) == pulumi.runtime.rpc._special_secret_sig, kubeconfig
        assert kubeconfig["value"].startswith("apiVersion: v1")
        assert all(r.provider and "helmlife-cluster" in r.provider for r in steps), [r.provider for r in steps]

    async def is_secret(out: pulumi.Output[Any]) -> bool:
        return await out.is_secret()

    out = pulumi.Output.all(release.secret_values, release.values)  # type: ignore[attr-defined]
    return pulumi.Output.all(out, pulumi.Output.from_input(is_secret(release.secret_values))).apply(  # type: ignore[attr-defined]
        lambda a: (check(a[0]), assert_secret(a[1])))


@pulumi.runtime.test
def test_charts_on_one_cluster_share_one_provider(mocks: Mocks):
    from helmlife.chart import LifecycleChart

    kubeconfig = pulumi.Output.secret("apiVersion: v1\nkind: Config\n")
    charts = [LifecycleChart(n, {"name": n, "chart": "charts/demo-app"}, kubeconfig=kubeconfig, project_dir=ROOT)
              for n in ("a", "b")]
    other = LifecycleChart("c", {"name": "c", "chart": "charts/demo-app"}, kubeconfig=kubeconfig,
                           kube_context="other", project_dir=ROOT)

    def check(_: Any) -> None:
        providers = sorted(r.name for r in mocks.resources if r.typ == "pulumi:providers:pulumi-python")
        assert providers == ["helmlife-cluster", "helmlife-cluster-2"]

    return pulumi.Output.all(*[c.urn for c in (*charts, other)], *[s.urn for c in (*charts, other)
                                                                   for s in c.steps.values()]).apply(check)


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


@pulumi.runtime.test
def test_secret_config_outputs_never_enter_the_spec_input(mocks: Mocks):
    """Stack files give secret values as `secret_config`, which the program resolves into secret
    Outputs: the spec every step carries must mask them, not try to serialize them."""
    chart = _build({"name": "app", "chart": "charts/demo-app",
                    "values": [{"key": "token", "value": pulumi.Output.secret("t0k3n"), "secret": True}]})

    def check(_: Any) -> None:
        rel = next(r for r in mocks.resources if r.name == "app-release")
        assert rel.inputs["spec"]["values"] == [{"key": "token", "secret": True, "value": "[secret]"}]

    return all_registered(chart).apply(check)


@pulumi.runtime.test
def test_depends_on_waits_for_the_other_charts_validate(mocks: Mocks):
    op = _build({"name": "op", "chart": "charts/demo-operator/1.0.0"})
    app = _build({"name": "app", "chart": "charts/demo-app", "depends_on": ["op"]}, depends_on=[op])
    assert app.waits_for == [op]

    def check(_: Any) -> None:
        order = [r.name for r in mocks.resources]
        assert order.index("op-validate") < order.index("app-check-prerequisites")

    return pulumi.Output.all(all_registered(op), all_registered(app)).apply(check)


def test_depends_on_names_need_the_charts(mocks: Mocks) -> None:
    from helmlife.spec import SpecError

    with pytest.raises(SpecError, match=r"depends_on names 'op'; pass those LifecycleCharts as depends_on="):
        _build({"name": "app", "chart": "charts/demo-app", "depends_on": ["op"]})
    gone = _build({"name": "op", "chart": "charts/demo-operator/1.0.0", "action": "destroy"})
    with pytest.raises(SpecError, match=r"depends on 'op', whose action is destroy"):
        _build({"name": "app", "chart": "charts/demo-app"}, depends_on=[gone])


@pulumi.runtime.test
def test_repository_password_is_a_secret_input_and_only_marked_in_the_spec(mocks: Mocks):
    chart = _build({"name": "priv", "chart": {"repo": "https://charts.example.com", "name": "c", "version": "1.0.0",
                                              "username": "u", "password": "hunter2-in-code", "ca": "PEM"}})
    release = chart.steps["release"]

    def check(args: list[Any]) -> None:
        auth, secret = args
        assert auth == {"password": "hunter2-in-code", "ca": "PEM"} and secret
        rel = next(r for r in mocks.resources if r.name == "priv-release")
        assert "hunter2-in-code" not in repr(rel.inputs["spec"])
        assert rel.inputs["spec"]["chart"]["password"] == "[secret]"

    async def is_secret(out: pulumi.Output[Any]) -> bool:
        return await out.is_secret()

    return pulumi.Output.all(release.repo_auth,  # type: ignore[attr-defined]
                             pulumi.Output.from_input(is_secret(release.repo_auth))).apply(check)  # type: ignore[attr-defined]
