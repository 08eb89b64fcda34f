"""Hooks the end-to-end tests attach by chart name (tests/e2e/conftest.py writes a __main__.py
that passes these to deploy_stack)."""
from __future__ import annotations

from typing import Any

from kubernetes import client
from pulumi.dynamic import CreateResult, ResourceProvider

from helmlife import HookContext, Hooks, LifecycleChart, PermanentError, TemporaryError, hook_options
from helmlife.kube import read_or_none


def _record(ctx: HookContext, name: str, data: dict[str, str]) -> None:
    core = client.CoreV1Api(ctx.kube)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)
    try:
        core.replace_namespaced_config_map(name, ctx.namespace, body)
    except client.exceptions.ApiException as err:
        if err.status != 404:
            raise
        core.create_namespaced_config_map(ctx.namespace, body)


# "hooked": a hook on every step; the payload each adds must reach the next.
hooked = Hooks()
STAMPS = "default"  # where "hooked" stamps: check_prerequisites runs before its namespace exists
WATCHED_CRD = "widgets.demo.helmlife.dev"  # a CRD of charts/demo-operator (crds/: helm installs it)


def stamp(ctx: HookContext) -> None:
    """A ConfigMap `<namespace>-at-<event>` in STAMPS, written (again) by each run of the hook:
    its resourceVersion orders the hooks by the cluster's clock, and its data says what the
    cluster held then (Helm's deployed records of the release, the chart's CRD)."""
    deployed = client.CoreV1Api(ctx.kube).list_namespaced_secret(
        ctx.namespace, label_selector=f"owner=helm,name={ctx.release},status=deployed").items
    crd = read_or_none(client.ApiextensionsV1Api(ctx.kube).read_custom_resource_definition, WATCHED_CRD)
    name, data = f"{ctx.namespace}-at-{ctx.step.replace('_', '-')}", {
        "helm_deployed": str(len(deployed)), "crd": str(crd is not None)}
    core = client.CoreV1Api(ctx.kube)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)
    if read_or_none(core.read_namespaced_config_map, name, STAMPS) is None:
        core.create_namespaced_config_map(STAMPS, body)
    else:
        core.replace_namespaced_config_map(name, STAMPS, body)


@hooked.check_prerequisites
def hooked_prereq(ctx: HookContext) -> dict[str, Any]:
    stamp(ctx)
    return {"trail": ["check_prerequisites"]}


@hooked.pre_exec
def hooked_pre(ctx: HookContext) -> dict[str, Any]:
    stamp(ctx)
    return {"trail": [*ctx.payload.get("trail", []), "pre_exec"], "previous": ctx.previous_version}


@hooked.post_exec
def hooked_post(ctx: HookContext) -> dict[str, Any]:
    stamp(ctx)
    trail = [*ctx.payload.get("trail", []), "post_exec"]
    _record(ctx, f"{ctx.release}-trail", {"trail": ",".join(trail), "target": str(ctx.target_version)})
    return {"trail": trail}


@hooked.validate
def hooked_validate(ctx: HookContext) -> None:
    stamp(ctx)
    ctx.log.info("validate saw trail %s", ctx.payload.get("trail"))


@hooked.teardown
def hooked_teardown(ctx: HookContext) -> None:
    stamp(ctx)


# "prefail": pre_exec refuses, so the release must never be touched.
prefail = Hooks()


@prefail.pre_exec
def refuse(ctx: HookContext) -> None:
    if any(v.key == "refuse" for v in ctx.spec.values):
        raise PermanentError("pre_exec refused on purpose (e2e)")


# "broken": a release that cannot become Ready; the failure hook adds a line to the output.
broken = Hooks()


@broken.on_deploy_failure
def explain(ctx: HookContext) -> None:
    ctx.diagnostics.append(f"  e2e-hook: deploy of {ctx.release} failed on attempt {ctx.attempt}")


# "retried": the failure hook asks for one more deploy attempt before giving up.
retried = Hooks()


@retried.on_deploy_failure(retries=1)
def retry_once(ctx: HookContext) -> None:
    raise TemporaryError(f"maybe a node frees up (attempt {ctx.attempt})", delay=1)


# "checked": a custom validate check that fails.
checked = Hooks()


@checked.validate
def smoke_test(ctx: HookContext) -> None:
    raise PermanentError("smoke test: /healthz said 'degraded'")


# "edge": post_exec and validate record what they saw, and how many times they ran.
counted = Hooks()


def _count_run(ctx: HookContext) -> None:
    name = f"{ctx.release}-seen-{ctx.step.replace('_', '-')}"
    old = read_or_none(client.CoreV1Api(ctx.kube).read_namespaced_config_map, name, ctx.namespace)
    runs = int((old.data or {}).get("runs", "0")) if old else 0
    _record(ctx, name, {"runs": str(runs + 1), "previous_version": str(ctx.previous_version),
                        "target_version": str(ctx.target_version)})


@counted.pre_exec
def counted_pre(ctx: HookContext) -> None:
    """Also records which chart version Helm's deployed record held when the hook ran: on a
    breaking upgrade, the old one (the hook runs before the uninstall)."""
    secrets = client.CoreV1Api(ctx.kube).list_namespaced_secret(
        ctx.namespace, label_selector=f"owner=helm,name={ctx.release},status=deployed").items
    _count_run(ctx)
    _record(ctx, f"{ctx.release}-pre-exec-saw", {"deployed_helm_records": str(len(secrets))})


@counted.post_exec
def counted_post(ctx: HookContext) -> None:
    _count_run(ctx)


@counted.validate
def counted_validate(ctx: HookContext) -> None:
    _count_run(ctx)


@counted.teardown
def counted_teardown(ctx: HookContext) -> None:
    _count_run(ctx)


class SubclassedChart(LifecycleChart):
    """The trait style: override step methods."""

    def pre_exec(self, ctx: HookContext) -> dict[str, Any]:
        return {"from_method": True, "release": self.spec.name}

    def post_exec(self, ctx: HookContext) -> None:
        _record(ctx, f"{ctx.release}-method", {"from_method": str(ctx.payload.get("from_method"))})

    @hook_options(retries=19, delay=1)
    def validate(self, ctx: HookContext) -> None:
        crd = client.ApiextensionsV1Api(ctx.kube).read_custom_resource_definition("widgets.demo.helmlife.dev")
        if not any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or []):
            raise TemporaryError("widgets CRD not established yet")


# "tidy": pre_exec makes an object the chart does not own; teardown removes it again.
tidy = Hooks()


@tidy.pre_exec
def make_side_object(ctx: HookContext) -> None:
    _record(ctx, f"{ctx.release}-side-object", {"made_by": "pre_exec"})


@tidy.teardown
def remove_side_object(ctx: HookContext) -> None:
    client.CoreV1Api(ctx.kube).delete_namespaced_config_map(f"{ctx.release}-side-object", ctx.namespace)
    ctx.log.info("teardown removed %s-side-object", ctx.release)


COMPONENTS = {"subclassed": SubclassedChart}
HOOKS = {"hooked": hooked, "prefail": prefail, "broken": broken, "retried": retried, "checked": checked,
         "tidy": tidy, "edge": counted}



class NoopProvider(ResourceProvider):
    """A do-nothing dynamic provider for engine-feature tests (see test_platform)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("noop", props)
