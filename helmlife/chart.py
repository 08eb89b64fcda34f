"""LifecycleChart: one Helm release and its lifecycle as a Pulumi component.

The lifecycle of the Qovery `HelmChart` trait becomes a resource graph:

    Prerequisites -> PreExec -> CrdCleanup -> Release -> PostExec -> Validate

Pulumi creates along the dependencies and deletes against them, so `pulumi up` runs the
steps in that order and `pulumi destroy` undoes them in reverse: the release is uninstalled
before its CRDs are removed. Each step is a resource, so `pulumi preview` lists which steps
will run and the changed inputs say why.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import Resource

from . import charts
from .hooks import STEPS, Hooks, hook_ref
from .spec import Action, ChartSpec, parse_spec
from .steps.base import StepProvider
from .values import split_values

TYPE_TOKEN = "helmlife:index:LifecycleChart"
SECRET_INPUTS = ("kubeconfig", "secret_values", "values_digest")


class _Step(Resource):
    """Base for the step resources: one shared thin provider, named by step."""

    payload: pulumi.Output[Any]

    def __init__(self, step: str, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        self.step_name = step
        outs = {"payload": None, **{k: None for k in getattr(self, "OUTPUTS", ())}}
        # Steps echo their inputs as outputs (delete only sees outputs); the engine must keep
        # the secret ones encrypted there too, since a dynamic provider cannot mark them itself.
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_INPUTS))
        super().__init__(StepProvider(step), name, {**outs, **props}, pulumi.ResourceOptions.merge(opts, secret))


class Prerequisites(_Step, module="helmlife", name="Prerequisites"):
    pass


class PreExec(_Step, module="helmlife", name="PreExec"):
    OUTPUTS = ("previous_version", "restarted", "adopted")
    previous_version: pulumi.Output[str | None]
    restarted: pulumi.Output[bool]


class CrdCleanup(_Step, module="helmlife", name="CrdCleanup"):
    OUTPUTS = ("owned_crds",)
    owned_crds: pulumi.Output[list[str]]


class Release(_Step, module="helmlife", name="Release"):
    OUTPUTS = ("revision", "status", "deployed_version", "app_version", "resources")
    revision: pulumi.Output[int]
    status: pulumi.Output[str]
    deployed_version: pulumi.Output[str]
    resources: pulumi.Output[list[str]]


class PostExec(_Step, module="helmlife", name="PostExec"):
    pass


class Validate(_Step, module="helmlife", name="Validate"):
    OUTPUTS = ("checks_passed",)
    checks_passed: pulumi.Output[list[str]]


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _failure_hook_opts(release: str) -> pulumi.ResourceOptions | None:
    """Pulumi's ErrorHook on the Release: the engine tells the program which operation failed.

    The step itself already put the cluster's events and pod states into the error and ran
    the user's on_deploy_failure hooks (which may retry within their bound), so the engine
    is told not to retry again: a failed deploy fails `pulumi up` once, clearly.
    """
    if type(pulumi.runtime.settings.SETTINGS.monitor).__name__ == "MockMonitor":
        return None  # unit tests with mocks have no engine to call back

    def on_error(args: pulumi.ErrorHookArgs) -> bool:
        pulumi.log.warn(
            f"on_deploy_failure: {args.failed_operation} of release {release} failed "
            f"({len(args.errors)} error(s)); events and pod states are in the error below"
        )
        return False

    return pulumi.ResourceOptions(hooks=pulumi.ResourceHookBinding(
        on_error=[pulumi.ErrorHook(f"helmlife-{release}-on-deploy-failure", on_error)]))


class LifecycleChart(pulumi.ComponentResource):
    """A Helm release with hooks, ordered steps and CRD cleanup.

    Subclass it and override `check_prerequisites`, `pre_exec`, `on_deploy_failure`,
    `post_exec` or `validate` (each takes a `HookContext` and may return a dict to add to the
    payload), or pass `hooks=` a `Hooks` set built with decorators. Both run; methods first.
    Hook methods run inside the step's provider, where `self.spec` is the only attribute.
    """

    spec: ChartSpec

    def __init__(
        self,
        name: str,
        spec: ChartSpec | Mapping[str, Any],
        *,
        kubeconfig: pulumi.Input[str],
        kube_context: str | None = None,
        hooks: Hooks | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self.spec = parse_spec(dict(spec) if isinstance(spec, Mapping) else spec, where=f"chart {name!r}")
        self._hooks = hooks or Hooks()
        base = Path(project_dir) if project_dir else Path.cwd()
        refs = {step: self._method_refs(step) + self._hooks.refs(step) for step in STEPS}

        self.release: Release | None = None
        self.steps: dict[str, _Step] = {}
        self.step_dependencies: dict[str, list[str]] = {}
        if self.spec.action is Action.destroy:
            # No steps: the engine deletes the previous ones in reverse order (uninstall, then CRDs).
            self.register_outputs({"action": "destroy"})
            return

        facts = self._chart_facts(base)
        public_values, secret_values = facts.pop("values")
        spec_doc = self.spec.model_dump(mode="json", exclude={"values"})
        # Secret values travel only in the encrypted `secret_values` input, never in `spec`.
        spec_doc["values"] = [
            {"key": v.key, "value": "[secret]" if v.secret else v.value, "secret": v.secret} for v in self.spec.values
        ]
        common: dict[str, Any] = {
            "release": self.spec.name,
            "namespace": self.spec.namespace,
            "action": self.spec.action.value,
            "spec": spec_doc,
            "project_dir": str(base),
            "kubeconfig": pulumi.Output.secret(kubeconfig),
            "kube_context": kube_context or "",
            "chart_version": facts["chart_version"],
        }
        child = pulumi.ResourceOptions(parent=self)

        def step(cls: type[_Step], step_name: str, hook_step: str | None, deps: list[_Step],
                 extra_opts: pulumi.ResourceOptions | None = None, **props: Any) -> _Step:
            inputs = {**common, "hooks": refs[hook_step] if hook_step else [], **props}
            opts_ = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=deps))
            res = cls(step_name, f"{name}-{step_name.replace('_', '-')}", inputs,
                      pulumi.ResourceOptions.merge(opts_, extra_opts) if extra_opts else opts_)
            self.steps[step_name] = res
            self.step_dependencies[step_name] = [d.step_name for d in deps]  # type: ignore[attr-defined]
            return res

        values_digest: pulumi.Input[str]
        if secret_values:
            values_digest = pulumi.Output.secret(
                pulumi.Output.from_input(secret_values).apply(lambda s: _digest(public_values, s))
            )
        else:
            values_digest = _digest(public_values, {})
        prereq = step(Prerequisites, "prerequisites", "check_prerequisites", [],
                      chart_digest=facts["chart_digest"])
        pre = step(PreExec, "pre_exec", "pre_exec", [prereq],
                   payload=prereq.payload,
                   values_digest=values_digest,
                   adopt=list(self.spec.adopt),
                   breaking_version=self.spec.last_breaking_version_requiring_restart)
        crds = step(CrdCleanup, "crds", None, [pre],
                    crds=facts["crds"], force_crd_deletion=self.spec.force_crd_deletion)
        release = step(Release, "release", None, [pre, crds], _failure_hook_opts(self.spec.name),
                       payload=pre.payload,
                       chart=self.spec.chart.model_dump(mode="json"),
                       chart_digest=facts["chart_digest"],
                       values=public_values,
                       secret_values=pulumi.Output.secret(secret_values) if secret_values else {},
                       atomic=self.spec.atomic, wait=self.spec.wait, timeout=self.spec.timeout,
                       force_upgrade=self.spec.force_upgrade, dry_run=self.spec.dry_run,
                       create_namespace=self.spec.create_namespace,
                       failure_hooks=refs["on_deploy_failure"])
        post = step(PostExec, "post_exec", "post_exec", [release],
                    payload=release.payload, revision=release.revision)
        validate = step(Validate, "validate", "validate", [post],
                        payload=post.payload, revision=release.revision, resources=release.resources,
                        checks=[c.model_dump(mode="json") for c in self.spec.http_checks])
        self.release = release  # type: ignore[assignment]
        self.revision = release.revision
        self.status = release.status
        self.owned_crds = crds.owned_crds  # type: ignore[attr-defined]
        self.register_outputs({
            "revision": release.revision,
            "status": release.status,
            "chart_version": facts["chart_version"],
            "owned_crds": crds.owned_crds,  # type: ignore[attr-defined]
            "checks_passed": validate.checks_passed,  # type: ignore[attr-defined]
        })

    def _chart_facts(self, base: Path) -> dict[str, Any]:
        """Version, digest, CRDs and values read on the deploying machine.

        Problems are not raised here: the Prerequisites step reports them during preview with
        the field named, and no later step can run before it passes.
        """
        facts: dict[str, Any] = {"chart_version": None, "chart_digest": None, "values": ({}, {})}
        try:
            facts["chart_version"] = charts.chart_version(self.spec, base)
            facts["chart_digest"] = charts.chart_digest(self.spec, base)
        except (ValueError, OSError):
            pass
        try:
            facts["values"] = split_values(self.spec, base)
        except ValueError:
            pass
        facts["crds"] = self.spec.crds if self.spec.crds is not None else (
            charts.local_crds(self.spec, base) if charts.chart_dir(self.spec, base) else None
        )
        return facts

    def _method_refs(self, step: str) -> list[str]:
        """A subclass's override of a step method becomes a hook reference."""
        mine = getattr(type(self), step, None)
        if mine is None or mine is getattr(LifecycleChart, step):
            return []
        return [hook_ref(mine)]

    # The default steps do nothing: the built-in behaviour lives in helmlife.steps.
    def check_prerequisites(self, ctx: Any) -> dict[str, Any] | None:
        return None

    def pre_exec(self, ctx: Any) -> dict[str, Any] | None:
        return None

    def on_deploy_failure(self, ctx: Any) -> None:
        return None

    def post_exec(self, ctx: Any) -> dict[str, Any] | None:
        return None

    def validate(self, ctx: Any) -> dict[str, Any] | None:
        return None
