"""LifecycleChart: one Helm release and its lifecycle as a Pulumi component.

The lifecycle of the Qovery `HelmChart` trait becomes a resource graph, built from the step
table in `helmlife.steps`:

    check_prerequisites -> pre_exec -> crd_cleanup -> release -> post_exec -> validate

Pulumi creates along the dependencies and deletes against them, so `pulumi up` runs the
steps in that order and `pulumi destroy` undoes them in reverse: the release is uninstalled
before its CRDs are removed. Each step is a resource, so `pulumi preview` lists which steps
will run and the changed inputs say why.
"""
from __future__ import annotations

import hashlib
import os
import signal
import threading
import types
from pathlib import Path
from typing import Any, Mapping, Sequence

import pulumi
from pulumi.dynamic import Resource

from . import chart_source, crds, kube, release_args, releases
from .actions.uninstall import crds_at_risk, refusal
from .canonical import canonical_json
from .helm import Helm, HelmError
from .hooks import Hooks, debugging, hook_ref
from .spec import Action, ChartSpec, RepoChart, SpecError, compact_doc, parse_spec
from .steps import CLUSTER_CONFIG, HOOK_EVENTS, LIFECYCLE, StepDef
from .steps.base import StepProvider
from .values import split_values

TYPE_TOKEN = "helmlife:index:LifecycleChart"
STEP_MODULE = "helmlife"  # step resources are typed pulumi-python:dynamic/helmlife:<StepType>
SECRET_INPUTS = ("secret_values", "values_digest", "repo_auth")  # the kubeconfig is the cluster provider's
_clusters: dict[tuple[int, Any, str | None], pulumi.ProviderResource] = {}


def cluster_provider(kubeconfig: pulumi.Input[str], kube_context: str | None) -> pulumi.ProviderResource:
    """The provider every step of one cluster runs in, holding its credentials.

    Pulumi writes the whole state at every step operation, so a kubeconfig copied into each
    step's inputs and outputs (twelve copies per chart) made every checkpoint, and every
    `up`, slower with the stack's size (docs/benchmark.md). As with pulumi-kubernetes'
    `Provider`, the credentials are recorded once per cluster, and destroy configures the
    provider from that record.
    """
    monitor = id(pulumi.runtime.settings.get_monitor())  # one registry per program run (and per mock test)
    key = (monitor, kubeconfig if isinstance(kubeconfig, str) else id(kubeconfig), kube_context)
    if key not in _clusters:
        taken = {k for k in _clusters if k[0] == monitor}
        name = "helmlife-cluster" + (f"-{len(taken) + 1}" if taken else "")
        config = {CLUSTER_CONFIG["kubeconfig"]: pulumi.Output.secret(kubeconfig),
                  CLUSTER_CONFIG["kube_context"]: kube_context or ""}
        _clusters[key] = pulumi.ProviderResource("pulumi-python", name, config)
    return _clusters[key]


class _StepResource(Resource):
    """Base of the generated step resource classes (one per StepDef, for its type token)."""

    def __init__(self, step: StepDef, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        self.step_name = step.name
        outs = {k: None for k in step.outputs}
        # Steps echo their inputs as outputs (delete only sees outputs); the engine must keep
        # the secret ones encrypted there too, since a dynamic provider cannot mark them itself.
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_INPUTS))
        super().__init__(StepProvider(step.name), name, {**outs, **props}, pulumi.ResourceOptions.merge(opts, secret))


STEP_RESOURCES: dict[str, type[_StepResource]] = {
    s.name: types.new_class(s.type_name, (_StepResource,), {"module": STEP_MODULE, "name": s.type_name})
    for s in LIFECYCLE
}


def _digest(*parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:16]


def _aliases(step: StepDef, chart: str) -> list[pulumi.Alias]:
    """Resources named before the step table keep their state (no replacement on upgrade)."""
    if not step.legacy:
        return []
    old_name, old_type = step.legacy
    return [pulumi.Alias(name=f"{chart}-{old_name}", type_=f"pulumi-python:dynamic/{STEP_MODULE}:{old_type}")]


def _error_hook_opts(release: str) -> pulumi.ResourceOptions:
    """Pulumi's ErrorHook on the release: the engine tells the program which operation failed.

    The step itself already put the cluster's events and pod states into the error and ran
    the user's on_deploy_failure hooks (which may retry within their bound), so the engine
    is told not to retry again: a failed deploy fails `pulumi up` once, clearly.
    """

    def on_error(args: pulumi.ErrorHookArgs) -> bool:
        pulumi.log.warn(
            f"on_deploy_failure: {args.failed_operation} of release {release} failed "
            f"({len(args.errors)} error(s)); events and pod states are in the error below"
        )
        return False

    return pulumi.ResourceOptions(hooks=pulumi.ResourceHookBinding(
        on_error=[pulumi.ErrorHook(f"helmlife-{release}-on-deploy-failure", on_error)]))


def quiet_interrupt() -> None:
    """When an operation fails, the language host stops the program with SIGINT, and Python
    ended every failed `preview`/`up` with a KeyboardInterrupt traceback of the language
    host's exec, below the real error. The program exits quietly instead (exit code 130, as
    for SIGINT); HELMLIFE_DEBUG keeps the traceback. Only from the main thread, and only over
    Python's own handler: a handler the user installed stays."""
    if (debugging() or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return
    signal.signal(signal.SIGINT, _exit_quietly)


def _exit_quietly(_signum: int, _frame: types.FrameType | None) -> None:
    raise SystemExit(130)


class LifecycleChart(pulumi.ComponentResource):
    """A Helm release with hooks, ordered steps and CRD cleanup.

    `spec` is a `ChartSpec` (or its dict), or the `ReleaseArgs` of a `kubernetes.helm.v3.Release`
    being migrated (docs/design.md, "Migrating from kubernetes.helm.v3.Release").

    Subclass it and override a hook method (`check_prerequisites`, `pre_exec`,
    `on_deploy_failure`, `post_exec`, `validate`, `teardown`; each takes a `HookContext` and
    may return a dict to add to the payload), or pass `hooks=` a `Hooks` set built with
    decorators. Both run; methods first. Hook methods run inside the step's provider, where
    `self.spec` is the only attribute.
    """

    spec: ChartSpec

    def __init__(
        self,
        name: str,
        spec: ChartSpec | Mapping[str, Any] | Any,
        *,
        kubeconfig: pulumi.Input[str],
        kube_context: str | None = None,
        hooks: Hooks | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        depends_on: Sequence["LifecycleChart"] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        quiet_interrupt()
        if not isinstance(spec, (ChartSpec, Mapping)):  # kubernetes.helm.v3.ReleaseArgs: a migration
            spec = release_args.to_spec(spec, name)
        self.spec = parse_spec(dict(spec) if isinstance(spec, Mapping) else spec, where=f"chart {name!r}")
        self.waits_for = self._dependencies(depends_on)
        user_hooks = hooks or Hooks()
        refs = {event: self._method_refs(event) + user_hooks.refs(event) for event in HOOK_EVENTS}
        self.steps: dict[str, _StepResource] = {}
        self.step_dependencies: dict[str, list[str]] = {}
        self.release: _StepResource | None = None
        outputs: dict[str, Any] = {"action": self.spec.action.value}
        base = Path(project_dir) if project_dir else Path.cwd()
        if self.spec.action is Action.destroy and pulumi.runtime.is_dry_run():
            pulumi.Output.from_input(kubeconfig).apply(lambda kc: self._refuse_destroy(base, kc, kube_context))
        if self.spec.action is not Action.destroy:
            # With action destroy there are no steps: the engine deletes the previous ones in
            # reverse order (uninstall, then CRDs) and the component stays.
            self._build(name, base, kubeconfig, kube_context, refs)
            self.release = self.steps["release"]
            self.revision = self.release.revision  # type: ignore[attr-defined]
            self.status = self.release.status  # type: ignore[attr-defined]
            self.owned_crds = self.steps["crd_cleanup"].owned_crds  # type: ignore[attr-defined]
            outputs.update(revision=self.revision, status=self.status, chart_version=self._facts["chart_version"],
                           owned_crds=self.owned_crds,
                           checks_passed=self.steps["validate"].checks_passed)  # type: ignore[attr-defined]
        self.register_outputs(outputs)

    def _build(self, name: str, base: Path, kubeconfig: pulumi.Input[str], kube_context: str | None,
               refs: dict[str, list[str]]) -> None:
        self._facts = facts = self._chart_facts(base)
        common: dict[str, Any] = {
            "spec": compact_doc(self.spec.public_doc()),
            "project_dir": str(base),
            "chart_version": facts["chart_version"],
        }
        cluster = cluster_provider(kubeconfig, kube_context)
        chart = self.spec.chart
        if isinstance(chart, RepoChart) and (chart.password is not None or chart.ca is not None):
            common["repo_auth"] = pulumi.Output.secret({"password": chart.password, "ca": chart.ca})
        for step in LIFECYCLE:
            props = {
                **common,
                "hooks": {e: refs[e] for e in step.hooks if refs[e]},
                **{f: facts[f] for f in step.facts},
                **{key: getattr(self.steps[src.split(".")[0]], src.split(".")[1]) for key, src in step.wires.items()},
            }
            after = [self.steps[a] for a in step.after] or [c.steps["validate"] for c in self.waits_for]
            opts = pulumi.ResourceOptions(parent=self, depends_on=after, aliases=_aliases(step, name), provider=cluster)
            if "on_deploy_failure" in step.hooks:
                opts = pulumi.ResourceOptions.merge(opts, _error_hook_opts(self.spec.name))
            self.steps[step.name] = STEP_RESOURCES[step.name](step, f"{name}-{step.suffix}", props, opts)
            self.step_dependencies[step.name] = list(step.after)

    def _dependencies(self, charts: Sequence["LifecycleChart"]) -> list["LifecycleChart"]:
        """The charts whose validate step this chart's first step waits for (Flux's `dependsOn`,
        helmfile's `needs`). `spec.depends_on` names them; the program passes the objects."""
        given = {c.spec.name: c for c in charts}
        missing = [n for n in self.spec.depends_on if n not in given]
        if missing:
            raise SpecError(f"chart {self.spec.name!r}: depends_on names {', '.join(map(repr, missing))}; pass those "
                            "LifecycleCharts as depends_on=[...]")
        gone = [n for n, c in given.items() if c.spec.action is Action.destroy and self.spec.action is not Action.destroy]
        if gone:
            raise SpecError(f"chart {self.spec.name!r}: depends on {', '.join(map(repr, gone))}, whose action is destroy; "
                            "drop the dependency or destroy this chart too")
        return list(given.values())

    def _chart_facts(self, base: Path) -> dict[str, Any]:
        """Version, digest, CRDs and values, read on the deploying machine.

        Problems are not raised here: check_prerequisites reports them during preview with
        the field named, and no later step can run before it passes.
        """
        facts: dict[str, Any] = {"chart_version": None, "chart_digest": None}
        try:
            facts["chart_version"] = chart_source.chart_version(self.spec, base)
            facts["chart_digest"] = chart_source.chart_digest(self.spec, base)
        except (ValueError, OSError):
            pass
        try:
            public, secret = split_values(self.spec, base)
        except ValueError:
            public, secret = {}, {}
        facts["values"] = public
        facts["secret_values"] = pulumi.Output.secret(secret) if secret else {}
        facts["values_digest"] = pulumi.Output.secret(
            pulumi.Output.from_input(secret).apply(lambda s: _digest(public, s))) if secret else _digest(public, {})
        try:
            found = crds.of_chart(self.spec, base, public, helm=None)
        except (crds.ChartFileError, OSError):
            found = None  # crd_cleanup's check reads the chart again and names the file at preview
        facts["crds"] = self.spec.crds if self.spec.crds is not None else (
            [c.name for c in found] if found is not None else None)
        facts["crd_digest"] = crds.digest(found) if found is not None else facts["chart_digest"]
        return facts

    def _refuse_destroy(self, base: Path, kubeconfig: str, kube_context: str | None) -> None:
        """Preview of `action: destroy`: the release step's delete will refuse to uninstall while
        the chart's CRDs hold custom resources; say so now, with the same message. (Removing a
        chart from the stack, or `pulumi destroy`, runs no chart code at preview: there the
        refusal comes at the start of the destroy, before anything is removed.)"""
        spec = self.spec
        if spec.force_crd_deletion or spec.dry_run:
            return
        try:
            api = kube.api_client(kubeconfig, kube_context)
            record = releases.latest(api, spec.name, spec.namespace)
            if record is None or not record.live:
                return  # nothing to uninstall
            try:
                found = crds.of_chart(spec, base, split_values(spec, base)[0], Helm(kubeconfig, kube_context))
            except (ValueError, OSError, HelmError):
                found = None  # the chart cannot be read now: the template CRDs are still checked
            owned = spec.crds if spec.crds is not None else [c.name for c in found or []]
            left = crds_at_risk(api, spec.name, spec.namespace, owned)
        except Exception as err:  # noqa: BLE001 - a preview must not fail on what it could not check
            pulumi.log.warn(f"{spec.name}: could not check the CRDs for custom resources before destroy: {err}")
            return
        if left:
            raise pulumi.RunError(refusal(spec.name, left))  # fails the preview with just this message

    def _method_refs(self, event: str) -> list[str]:
        """A subclass's override of a hook method becomes a hook reference."""
        mine = getattr(type(self), event, None)
        if mine is None or mine is getattr(LifecycleChart, event):
            return []
        return [hook_ref(mine)]

    # The default hooks do nothing: the built-in behaviour lives in helmlife.steps.
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

    def teardown(self, ctx: Any) -> None:
        return None
