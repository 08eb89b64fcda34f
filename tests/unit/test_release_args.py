"""ChartSpec and `kubernetes.helm.v3.ReleaseArgs`, both ways, with the real pulumi-kubernetes SDK
(a dependency of helmlife since issue 17).

`from_spec`: the Release a ChartSpec declares. `to_spec`: what the steps read from ReleaseArgs a
user hands LifecycleChart directly (a one-line migration); those ReleaseArgs then go to the
Release unchanged, so no field of them is refused."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_kubernetes.helm.v3 import ReleaseArgs, RepositoryOptsArgs

from helmlife.release_args import DESCRIPTION_PREFIX, arguments, checked_inputs, from_spec, to_spec
from helmlife.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]


# --- ReleaseArgs -> ChartSpec ------------------------------------------------------------------

def test_repository_chart_maps_field_by_field() -> None:
    args = ReleaseArgs(chart="hello-repo", version="0.2.0", namespace="web", create_namespace=True,
                       atomic=True, force_update=True, timeout=90, skip_await=True, name="hello",
                       repository_opts=RepositoryOptsArgs(repo="http://127.0.0.1:8879"),
                       values={"greeting": "hi", "image": {"tag": "1.2"}})
    spec = parse_spec(to_spec(args, "resource-name"))
    assert spec.name == "hello" and spec.namespace == "web" and spec.create_namespace and spec.atomic
    assert spec.chart.model_dump(exclude_none=True) == {"repo": "http://127.0.0.1:8879", "name": "hello-repo",
                                                        "version": "0.2.0"}
    assert spec.force_upgrade and spec.timeout == "90s" and spec.wait is False
    assert spec.yaml_files_content == ["greeting: hi\nimage:\n  tag: '1.2'\n"]


def test_local_chart_and_default_name() -> None:
    spec = parse_spec(to_spec(ReleaseArgs(chart="charts/demo-app", value_yaml_files=[
        pulumi.FileAsset("values/web.yaml")]), "web"))
    assert spec.name == "web" and spec.chart.model_dump() == {"path": "charts/demo-app"}
    assert spec.values_files == ["values/web.yaml"]


def test_oci_chart_is_split_into_registry_and_name() -> None:
    spec = parse_spec(to_spec(ReleaseArgs(chart="oci://registry.example.com/charts/app", version="1.4.0"), "app"))
    assert spec.chart.model_dump(exclude_none=True) == {"repo": "oci://registry.example.com/charts", "name": "app",
                                                        "version": "1.4.0"}


def test_outputs_in_values_become_secret_values() -> None:
    token = pulumi.Output.secret("t0k3n")
    spec = to_spec(ReleaseArgs(chart="c", values={"auth": {"token": token}, "plain": 1}), "web")
    assert spec["values"] == [{"key": "auth", "value": {"token": token}, "secret": True}]
    assert spec["yaml_files_content"] == ["plain: 1\n"]


def test_fields_the_steps_do_not_read_are_not_refused() -> None:
    """Issue 17: every ReleaseArgs field works as it does on a bare Release (postrender,
    skip_crds, max_history, reuse_values, a client key, ...): the Release gets them; the steps
    read only the chart, values, name, namespace and flags."""
    args = ReleaseArgs(chart="c", postrender="./kustomize.sh", reuse_values=True, skip_crds=True, max_history=3,
                       repository_opts=RepositoryOptsArgs(repo="https://r", key_file="k.pem"), version="1.0.0")
    spec = parse_spec(to_spec(args, "web"))
    assert spec.name == "web"
    assert spec.chart.model_dump(exclude_none=True) == {"repo": "https://r", "name": "c", "version": "1.0.0"}


class NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return args.name, {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pulumi.runtime.test
def test_repository_credentials_carry_over_and_the_password_stays_secret():
    pulumi.runtime.set_mocks(NoResources())
    spec = to_spec(ReleaseArgs(chart="app", version="1.0.0", repository_opts=RepositoryOptsArgs(
        repo="https://charts.example.com", username="ci", password="pw", ca_file="ca.pem")), "web")
    chart = spec["chart"]
    assert chart["username"] == "ci" and chart["ca_file"] == "ca.pem"

    async def secret() -> bool:
        return await chart["password"].is_secret()

    return pulumi.Output.from_input(secret()).apply(lambda flag: None if flag else pytest.fail("not secret"))


# --- ChartSpec -> ReleaseArgs ------------------------------------------------------------------

REPO_SPEC = {"name": "hello", "namespace": "web", "create_namespace": True, "atomic": False, "force_upgrade": True,
             "timeout": "90s", "wait": False,
             "chart": {"repo": "http://127.0.0.1:8879", "name": "hello-repo", "version": "0.2.0"}}


def test_a_repository_chart_spec_declares_the_release() -> None:
    args = arguments(parse_spec(REPO_SPEC), ROOT, {"greeting": "hi"}, rollout="abc123")
    assert {k: v for k, v in args.items() if k != "repository_opts"} == {
        "name": "hello", "namespace": "web", "create_namespace": True, "atomic": False, "skip_await": True,
        "timeout": 90, "force_update": True, "values": {"greeting": "hi"}, "chart": "hello-repo", "version": "0.2.0",
        # The spec declares every value: one set by hand is not kept by the next upgrade.
        "reset_values": True,
        # Helm keeps the description with the revision: what tells a helmlife-deployed release.
        "description": f"{DESCRIPTION_PREFIX}abc123",
    }
    assert args["repository_opts"].repo == "http://127.0.0.1:8879" and args["repository_opts"].password is None


def test_an_oci_chart_has_its_registry_in_the_chart_reference() -> None:
    spec = parse_spec({"name": "app", "chart": {"repo": "oci://registry.example.com/charts", "name": "app",
                                                 "version": "1.4.0"}})
    args = arguments(spec, ROOT, {})
    assert args["chart"] == "oci://registry.example.com/charts/app" and args["version"] == "1.4.0"
    assert "repository_opts" not in args  # a public registry needs no login
    assert args["description"] is None  # no rollout token yet: the Release writes no description


def test_a_local_chart_inside_the_project_is_relative_to_it() -> None:
    """The kubernetes plugin runs in the project directory, and the state then reads the same
    from every checkout."""
    args = arguments(parse_spec({"name": "web", "chart": "charts/demo-app"}), ROOT, {})
    assert args["chart"] == "charts/demo-app" and "version" not in args


def test_spec_to_release_args_and_back_keeps_the_chart_and_flags() -> None:
    spec = parse_spec(REPO_SPEC)
    back = parse_spec(to_spec(from_spec(spec, ROOT, {"greeting": "hi"}, {}), "resource-name"))
    for field in ("name", "namespace", "create_namespace", "atomic", "force_upgrade", "timeout", "wait", "chart"):
        assert getattr(back, field) == getattr(spec, field), field
    assert back.yaml_files_content == ["greeting: hi\n"]


def test_checked_inputs_are_the_plugins_release_struct() -> None:
    """What the kubernetes plugin's Check records (camelCase, every field with its zero value,
    nil pointers left out): a refresh writes exactly this for a Release taking over old state,
    so the first diff finds nothing."""
    args = arguments(parse_spec(REPO_SPEC), ROOT, {"greeting": "hi"}, rollout="abc123")
    checked = checked_inputs(args, "0.2.0")
    assert {k: checked[k] for k in ("chart", "version", "name", "namespace", "createNamespace", "skipAwait",
                                     "forceUpdate", "resetValues", "timeout", "values", "description")} == {
        "chart": "hello-repo", "version": "0.2.0", "name": "hello", "namespace": "web", "createNamespace": True,
        "skipAwait": True, "forceUpdate": True, "resetValues": True, "timeout": 90, "values": {"greeting": "hi"},
        "description": f"{DESCRIPTION_PREFIX}abc123"}
    assert checked["postrender"] == "" and checked["skipCrds"] is False and checked["reuseValues"] is False
    assert "maxHistory" not in checked  # a nil pointer
    assert checked["repositoryOpts"] == {"caFile": "", "certFile": "", "keyFile": "", "password": "",
                                         "repo": "http://127.0.0.1:8879", "username": ""}
    # A local chart: the version the program read from Chart.yaml.
    local = arguments(parse_spec({"name": "web", "chart": "charts/demo-app"}), ROOT, {})
    assert checked_inputs(local, "0.1.0")["version"] == "0.1.0"
