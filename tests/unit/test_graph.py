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
        if args.typ == "kubernetes:helm.sh/v3:Release":
            outs["status"] = {"revision": 1, "status": "deployed", "version": "1.0.0"}
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
def test_deploy_builds_two_steps_around_a_real_release(mocks: Mocks):
    chart = _build({"name": "op", "chart": "charts/demo-operator/1.0.0", "namespace": "ns"})

    def check(_: Any) -> None:
        by_name = {r.name: r for r in mocks.resources if not r.typ.startswith("kubernetes:")}
        steps = [r.name for r in mocks.resources if r.typ.startswith("pulumi-python:dynamic")]
        assert steps == ["op-pre-exec", "op-validate"]
        assert by_name["op"].typ == "helmlife:index:LifecycleChart"
        release = next(r for r in mocks.resources if r.typ == "kubernetes:helm.sh/v3:Release")
        assert release.name == "op" and release.inputs["chart"] == "charts/demo-operator/1.0.0"
        assert release.inputs["name"] == "op" and release.inputs["namespace"] == "ns"
        assert release.inputs["atomic"] is True and release.inputs["skipAwait"] is False
        assert release.inputs["timeout"] == 180 and release.inputs["resetValues"] is True
        # Four resources per chart: the component, two steps, the Release (plus two providers per cluster).
        assert len([r for r in mocks.resources if not r.typ.startswith("pulumi:providers:")]) == 4
        assert by_name["op-pre-exec"].inputs["__crds"] == ["gadgets.demo.helmlife.dev", "widgets.demo.helmlife.dev"]
        assert by_name["op-pre-exec"].inputs["__chart_version"] == "1.0.0"

    return all_registered(chart).apply(check)


def all_registered(chart) -> pulumi.Output[Any]:
    return pulumi.Output.all(chart.urn, *[s.urn for s in chart.steps.values()], chart.release.urn)


@pulumi.runtime.test
def test_dependencies_order_the_graph(mocks: Mocks):
    """Dependencies are what make destroy run in reverse: each waits on the one before."""
    chart = _build({"name": "op", "chart": "charts/demo-operator/1.0.0"})

    def check(_: Any) -> None:
        order = [r.name for r in mocks.resources if not r.typ.startswith(("pulumi:providers:", "helmlife:"))]
        assert order == ["op-pre-exec", "op", "op-validate"], order

    return all_registered(chart).apply(check)


@pulumi.runtime.test
def test_secret_values_are_secret_inputs_and_the_kubeconfig_is_a_provider_secret(mocks: Mocks):
    chart = _build({"name": "app", "chart": "charts/demo-app",
                    "values": [{"key": "token", "value": "t0k3n", "secret": True}, {"key": "plain", "value": 1}]})
    pre = chart.steps["pre_exec"]

    def check(args: list[Any]) -> None:
        secret_values, plain = args
        assert secret_values == {"token": "t0k3n"}
        assert plain == {"plain": 1}
        step = next(r for r in mocks.resources if r.name == "app-pre-exec")
        assert "t0k3n" not in repr(step.inputs["__spec"])
        # Credentials are recorded once per cluster, by the providers, not per step.
        steps = [r for r in mocks.resources if r.typ.startswith("pulumi-python:dynamic")]
        assert steps and not any("kubeconfig" in repr(sorted(r.inputs)) for r in steps)
        providers = {r.typ: r for r in mocks.resources if r.typ.startswith("pulumi:providers:")}
        assert sorted(providers) == ["pulumi:providers:kubernetes", "pulumi:providers:pulumi-python"]
        for cfg in (providers["pulumi:providers:pulumi-python"].inputs["helmlife-cluster:kubeconfig"],
                    providers["pulumi:providers:kubernetes"].inputs["kubeconfig"]):
            assert cfg.get(pulumi.runtime.rpc._special_sig_key) == pulumi.runtime.rpc._special_secret_sig, cfg
        assert all(r.provider and "helmlife-cluster" in r.provider for r in steps), [r.provider for r in steps]

    async def is_secret(out: pulumi.Output[Any]) -> bool:
        return await out.is_secret()

    out = pulumi.Output.all(pre.out("secret_values"), pre.out("values"))
    return pulumi.Output.all(out, pulumi.Output.from_input(is_secret(pre.out("secret_values")))).apply(
        lambda a: (check(a[0]), assert_secret(a[1])))


@pulumi.runtime.test
def test_charts_on_one_cluster_share_the_providers(mocks: Mocks):
    from helmlife.chart import LifecycleChart

    kubeconfig = pulumi.Output.secret("apiVersion: v1\nkind: Config\n")
    charts = [LifecycleChart(n, {"name": n, "chart": "charts/demo-app"}, kubeconfig=kubeconfig, project_dir=ROOT)
              for n in ("a", "b")]
    other = LifecycleChart("c", {"name": "c", "chart": "charts/demo-app"}, kubeconfig=kubeconfig,
                           kube_context="other", project_dir=ROOT)

    def check(_: Any) -> None:
        providers = sorted((r.typ, r.name) for r in mocks.resources if r.typ.startswith("pulumi:providers:"))
        assert providers == [("pulumi:providers:kubernetes", "cluster"), ("pulumi:providers:kubernetes", "cluster-2"),
                             ("pulumi:providers:pulumi-python", "helmlife-cluster"),
                             ("pulumi:providers:pulumi-python", "helmlife-cluster-2")]

    return pulumi.Output.all(*[all_registered(c) for c in (*charts, other)]).apply(check)


@pulumi.runtime.test
def test_a_users_kubernetes_provider_is_the_charts_cluster(mocks: Mocks):
    """The way every pulumi-kubernetes resource takes its cluster: opts.provider."""
    import pulumi_kubernetes as k8s

    from helmlife.chart import LifecycleChart

    mine = k8s.Provider("mine", kubeconfig="apiVersion: v1\nkind: Config\n", context="ctx")
    chart = LifecycleChart("app", {"name": "app", "chart": "charts/demo-app"}, project_dir=ROOT,
                           opts=pulumi.ResourceOptions(provider=mine))

    def check(_: Any) -> None:
        release = next(r for r in mocks.resources if r.typ == "kubernetes:helm.sh/v3:Release")
        assert release.provider and "::mine::" in release.provider, release.provider
        kinds = [r.name for r in mocks.resources if r.typ == "pulumi:providers:kubernetes"]
        assert kinds == ["mine"]  # no second kubernetes provider
        steps = next(r for r in mocks.resources if r.typ == "pulumi:providers:pulumi-python")
        assert steps.inputs["helmlife-cluster:kube_context"] == "ctx"

    return all_registered(chart).apply(check)


def assert_secret(*flags: bool) -> None:
    assert all(flags), flags


@pulumi.runtime.test
def test_destroy_action_builds_no_steps(mocks: Mocks):
    chart = _build({"name": "gone", "chart": "charts/demo-app", "action": "destroy"})
    assert chart.steps == {} and chart.release is None
    return chart.urn.apply(lambda _: [r.name for r in mocks.resources if r.name != "gone"
                                      and not r.typ.startswith("pulumi:providers:")] == []
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
        pre = next(r for r in mocks.resources if r.name == "app-pre-exec")
        assert pre.inputs["__spec"]["values"] == [{"key": "token", "secret": True, "value": "[secret]"}]

    return all_registered(chart).apply(check)


@pulumi.runtime.test
def test_depends_on_waits_for_the_other_charts_validate(mocks: Mocks):
    op = _build({"name": "op", "chart": "charts/demo-operator/1.0.0"})
    app = _build({"name": "app", "chart": "charts/demo-app", "depends_on": ["op"]}, depends_on=[op])
    assert app.waits_for == [op]

    def check(_: Any) -> None:
        order = [r.name for r in mocks.resources]
        assert order.index("op-validate") < order.index("app-pre-exec")

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
    pre = chart.steps["pre_exec"]

    def check(args: list[Any]) -> None:
        auth, secret = args
        assert auth == {"password": "hunter2-in-code", "ca": "PEM"} and secret
        step = next(r for r in mocks.resources if r.name == "priv-pre-exec")
        assert "hunter2-in-code" not in repr(step.inputs["__spec"])
        assert step.inputs["__spec"]["chart"]["password"] == "[secret]"
        release = next(r for r in mocks.resources if r.typ == "kubernetes:helm.sh/v3:Release")
        opts = release.inputs["repositoryOpts"]  # the secret leaf makes the property secret (at least)
        password = opts if pulumi.runtime.rpc._special_sig_key in opts else opts["password"]
        assert password.get(pulumi.runtime.rpc._special_sig_key) == pulumi.runtime.rpc._special_secret_sig
        assert "hunter2-in-code" in repr(password)

    async def is_secret(out: pulumi.Output[Any]) -> bool:
        return await out.is_secret()

    return pulumi.Output.all(pre.out("repo_auth"), pulumi.Output.from_input(is_secret(pre.out("repo_auth")))).apply(
        lambda a: pulumi.Output.all(all_registered(chart)).apply(lambda _: check(a)))
