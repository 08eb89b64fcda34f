"""A: the Pulumi program a user writes without helmlife (copied as the `__main__.py` of the
benchmark's plain project).

One dynamic-provider resource per chart in the stack config: create and update run `helm
upgrade --install`, delete runs `helm uninstall`, with the helm flags helmlife's release step
uses (`--atomic --wait --create-namespace --reset-values`, uninstall `--wait`). Nothing else:
no prerequisites, hooks, CRD cleanup, readiness validation or manifest diff. So B/A is what
helmlife's lifecycle steps cost on top of the same engine and the same helm work.

The one thing taken from helmlife is `provider_pool.widen`: the Python SDK serves dynamic
providers with four gRPC threads, helmlife's provider raises that, and A must run as many helm
calls at once as B for B/A to measure the steps rather than the thread bound
(`HELMLIFE_PROVIDER_THREADS=4` puts both back on the SDK's four).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Any

import pulumi
import yaml
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from helmlife.provider_pool import widen

INPUTS = ("name", "namespace", "chart", "values", "timeout")


def helm(*args: str, kubeconfig: str) -> None:
    proc = subprocess.run(["helm", *args, "--kubeconfig", kubeconfig], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"helm {args[0]} {args[1]} failed: {proc.stderr.strip()}")


class HelmReleaseProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        widen()
        return CheckResult(news, [])

    def _upgrade(self, props: dict[str, Any]) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump(props["values"], values)
            values.flush()
            helm("upgrade", props["name"], props["chart"], "--install", "--reset-values", "-n", props["namespace"],
                 "--create-namespace", "--atomic", "--wait", "--timeout", props["timeout"], "-f", values.name,
                 kubeconfig=props["kubeconfig"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._upgrade(props)
        return CreateResult(id_=f"{props['namespace']}/{props['name']}", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in INPUTS))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._upgrade(news)
        return UpdateResult(outs=news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        helm("uninstall", props["name"], "-n", props["namespace"], "--wait", "--timeout", props["timeout"],
             kubeconfig=props["kubeconfig"])


class HelmRelease(Resource):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(HelmReleaseProvider(), name, props)


config = pulumi.Config("plain")
kubeconfig = os.path.abspath(config.require("kubeconfig_path"))
for chart in config.require_object("charts"):
    HelmRelease(chart["name"], {**chart, "kubeconfig": kubeconfig})
