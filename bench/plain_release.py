"""A: the Pulumi program a user writes without helmlife (copied as the `__main__.py` of the
benchmark's plain project).

One `kubernetes.Provider` for the cluster and one pulumi-kubernetes `helm.v3.Release` per chart
in the stack config, with the flags every tool here gets: atomic, wait (the Release waits
unless `skip_await`), create namespace, reset values, the same timeout. This is the Release a
`LifecycleChart` wraps, on the same engine and the same plugin, so B/A is what helmlife's
lifecycle (pre_exec, CRD cleanup, validate, hooks, the component) costs on top of it.
"""
from __future__ import annotations

import os

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config("plain")
with open(os.path.abspath(config.require("kubeconfig_path"))) as f:
    cluster = k8s.Provider("cluster", kubeconfig=pulumi.Output.secret(f.read()))
for chart in config.require_object("charts"):
    k8s.helm.v3.Release(
        chart["name"],
        k8s.helm.v3.ReleaseArgs(
            name=chart["name"], namespace=chart["namespace"], chart=chart["chart"], values=chart["values"],
            create_namespace=True, atomic=True, reset_values=True, timeout=chart["timeout_seconds"]),
        opts=pulumi.ResourceOptions(provider=cluster))
