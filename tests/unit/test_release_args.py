"""LifecycleChart takes a kubernetes.helm.v3.ReleaseArgs unchanged (a one-line migration), read
with the real pulumi-kubernetes SDK that scripts/bootstrap test provides outside the venv."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from helmlife.release_args import to_spec
from helmlife.spec import SpecError, parse_spec

SDK = Path(__file__).resolve().parents[2] / ".tools" / "pulumi-kubernetes-sdk"


@pytest.fixture(scope="module")
def k8s() -> Any:
    if not (SDK / "pulumi_kubernetes").is_dir():
        pytest.fail(f"{SDK} is missing: run scripts/bootstrap test", pytrace=False)
    sys.path.insert(0, str(SDK))
    from pulumi_kubernetes.helm import v3

    return v3


def test_repository_chart_maps_field_by_field(k8s: Any) -> None:
    args = k8s.ReleaseArgs(chart="hello-repo", version="0.2.0", namespace="web", create_namespace=True,
                           atomic=True, force_update=True, timeout=90, skip_await=True, name="hello",
                           repository_opts=k8s.RepositoryOptsArgs(repo="http://127.0.0.1:8879"),
                           values={"greeting": "hi", "image": {"tag": "1.2"}})
    spec = parse_spec(to_spec(args, "resource-name"))
    assert spec.name == "hello" and spec.namespace == "web" and spec.create_namespace and spec.atomic
    assert spec.chart.model_dump(exclude_none=True) == {"repo": "http://127.0.0.1:8879", "name": "hello-repo",
                                                        "version": "0.2.0"}
    assert spec.force_upgrade and spec.timeout == "90s" and spec.wait is False
    assert spec.yaml_files_content == ["greeting: hi\nimage:\n  tag: '1.2'\n"]


def test_local_chart_and_default_name(k8s: Any) -> None:
    spec = parse_spec(to_spec(k8s.ReleaseArgs(chart="charts/demo-app", value_yaml_files=[
        pulumi.FileAsset("values/web.yaml")]), "web"))
    assert spec.name == "web" and spec.chart.model_dump() == {"path": "charts/demo-app"}
    assert spec.values_files == ["values/web.yaml"]


def test_outputs_in_values_become_secret_values(k8s: Any) -> None:
    token = pulumi.Output.secret("t0k3n")
    spec = to_spec(k8s.ReleaseArgs(chart="c", values={"auth": {"token": token}, "plain": 1}), "web")
    assert spec["values"] == [{"key": "auth", "value": {"token": token}, "secret": True}]
    assert spec["yaml_files_content"] == ["plain: 1\n"]


def test_options_helmlife_cannot_honour_are_refused_by_name(k8s: Any) -> None:
    with pytest.raises(SpecError) as err:
        to_spec(k8s.ReleaseArgs(chart="c", postrender="./kustomize.sh", reuse_values=True, reset_values=True,
                                repository_opts=k8s.RepositoryOptsArgs(repo="https://r", key_file="k.pem")), "web")
    text = str(err.value)
    assert "postrender: './kustomize.sh' is not supported" in text and "reuse_values" in text
    assert "reset_values" not in text  # what helmlife always does
    assert "repository_opts.key_file" in text


class NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return args.name, {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pulumi.runtime.test
def test_repository_credentials_carry_over_and_the_password_stays_secret(k8s: Any):
    pulumi.runtime.set_mocks(NoResources())
    spec = to_spec(k8s.ReleaseArgs(chart="app", version="1.0.0", repository_opts=k8s.RepositoryOptsArgs(
        repo="https://charts.example.com", username="ci", password="pw", ca_file="ca.pem")), "web")
    chart = spec["chart"]
    assert chart["username"] == "ci" and chart["ca_file"] == "ca.pem"

    async def secret() -> bool:
        return await chart["password"].is_secret()

    return pulumi.Output.from_input(secret()).apply(lambda flag: None if flag else pytest.fail("not secret"))
