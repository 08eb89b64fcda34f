"""Example hooks, one chart in each style.

demo-app uses decorator-registered functions (kopf's style); demo-operator subclasses
LifecycleChart and overrides step methods (the Qovery HelmChart trait's style).
"""
from __future__ import annotations

from typing import Any

from kubernetes import client

from helmlife import HookContext, Hooks, LifecycleChart, TemporaryError, hook_options

app_hooks = Hooks()


@app_hooks.pre_exec
def note_versions(ctx: HookContext) -> dict[str, Any]:
    ctx.log.info("demo-app: %s -> %s", ctx.previous_version or "not installed", ctx.target_version)
    return {"upgraded_from": ctx.previous_version}


@app_hooks.post_exec
def publish_release_info(ctx: HookContext) -> dict[str, Any]:
    """Leave a ConfigMap that other teams read to learn what is deployed (a typical post-sync job)."""
    core = client.CoreV1Api(ctx.kube)
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=f"{ctx.release}-release-info", labels={"app.kubernetes.io/part-of": ctx.release}),
        data={"chartVersion": str(ctx.target_version), "upgradedFrom": str(ctx.payload.get("upgraded_from"))},
    )
    try:
        core.replace_namespaced_config_map(body.metadata.name, ctx.namespace, body)
    except client.exceptions.ApiException as err:
        if err.status != 404:
            raise
        core.create_namespaced_config_map(ctx.namespace, body)
    return {"release_info": body.metadata.name}


class DemoOperatorChart(LifecycleChart):
    """The operator's CRDs must be served before anything uses them: check after deploy."""

    def check_prerequisites(self, ctx: HookContext) -> None:
        version = client.VersionApi(ctx.kube).get_code()
        ctx.log.info("cluster version %s", version.git_version)

    @hook_options(retries=9, delay="2s")
    def validate(self, ctx: HookContext) -> dict[str, Any]:
        ext = client.ApiextensionsV1Api(ctx.kube)
        served = []
        for name in self.spec.crds or ["widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"]:
            crd = ext.read_custom_resource_definition(name)
            established = any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])
            if not established:
                raise TemporaryError(f"CRD {name} is not Established yet")
            served.append(name)
        return {"crds_served": served}
