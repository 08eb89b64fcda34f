"""LifecycleChart: one Helm release and its lifecycle as a Pulumi component.

The release is a real `kubernetes.helm.v3.Release` (pulumi-kubernetes), on the chart's
`kubernetes.Provider`. The lifecycle of the Qovery `HelmChart` trait is two dynamic-provider
steps around it, built from the step table in `helmlife.steps`:

    pre_exec -> Release -> validate

Pulumi creates along the dependencies and deletes against them: `up` runs them in that order,
`destroy` in reverse (validate refuses first while CRDs about to go hold custom resources; the
Release is uninstalled; then pre_exec's delete removes the CRDs and runs the teardown hooks).
"""
from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi.dynamic import Resource
from pulumi.runtime.proto import engine_pb2

from . import chart_source, cluster, crds, helm_yaml, kube, release_args, releases, unreachable
from .actions import diagnose
from .actions.uninstall import crds_at_risk, kept_crds, kept_notice, refusal
from .canonical import canonical_json
from .helm import Helm, HelmError
from .hooks import HookContext, Hooks, debugging, hook_ref, run_failure_hooks, step_logger
from .release_state import Action as ReleaseAction, ReleaseState, decide
from .spec import Action, ChartSpec, RepoChart, SpecError, compact_doc, parse_spec
from .steps import HOOK_EVENTS, LIFECYCLE, RELEASE, StepDef
from .steps.base import HIDDEN, StepProvider
from .values import split_values

TYPE_TOKEN = "helmlife:index:LifecycleChart"
STEP_MODULE = "helmlife"  # step resources are typed pulumi-python:dynamic/helmlife:<StepType>
SECRET_INPUTS = ("secret_values", "values_digest", "repo_auth")
# The helm-driven release step of helmlife 0.1 and 0.2, whose state the Release takes over.
OLD_RELEASE_TYPE = f"pulumi-python:dynamic/{STEP_MODULE}:Release"


class _StepResource(Resource):
    """Base of the generated step resource classes (one per StepDef, for its type token)."""

    def __init__(self, step: StepDef, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        self.step_name = step.name
        outs = {k: None for k in step.outputs}
        # Steps echo their inputs as outputs (delete only sees outputs); the engine must keep
        # the secret ones encrypted there too, since a dynamic provider cannot mark them itself.
        secret = pulumi.ResourceOptions(additional_secret_outputs=[HIDDEN + k for k in SECRET_INPUTS])
        recorded = {k if k in step.shown else HIDDEN + k: v for k, v in {**outs, **props}.items()}
        super().__init__(StepProvider(step.name), name, recorded, pulumi.ResourceOptions.merge(opts, secret))

    def out(self, key: str) -> pulumi.Output[Any]:
        """An output by its model name (bookkeeping is recorded `__`-prefixed)."""
        return getattr(self, key) if key in self.__dict__ else getattr(self, HIDDEN + key)


STEP_RESOURCES: dict[str, type[_StepResource]] = {
    s.name: types.new_class(s.type_name, (_StepResource,), {"module": STEP_MODULE, "name": s.type_name})
    for s in LIFECYCLE
}


def _digest(*parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:16]


def _log_now(urn: str, message: str) -> None:
    """An error line on the resource, sent before returning: an error hook runs in the engine's
    callback while the operation fails, and `pulumi.log` with a resource only queues the message
    on the program's event loop, which the engine is about to stop."""
    engine = pulumi.runtime.settings.get_engine()
    if engine is None:
        print(message, file=sys.stderr)
        return
    engine.Log(engine_pb2.LogRequest(severity=engine_pb2.ERROR, message=message, urn=urn, streamId=0))


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

    `spec` is a `ChartSpec` (or its dict), or a `kubernetes.helm.v3.ReleaseArgs`, which then goes
    to the Release unchanged (every field works as on a bare Release) while the steps read the
    chart, values, name and namespace from it.

    The cluster is the kubernetes provider in `opts` (`provider=` or `providers=`, or a parent's),
    else the default kubernetes provider; `kubeconfig=`/`kube_context=` make one per cluster.

    Subclass it and override a hook method (`check_prerequisites`, `pre_exec`,
    `on_deploy_failure`, `post_exec`, `validate`, `teardown`; each takes a `HookContext` and
    may return a dict to add to the payload), or pass `hooks=` a `Hooks` set built with
    decorators. Both run; methods first. Hook methods run inside the step's provider (and
    on_deploy_failure in the program), where `self.spec` is the only attribute.
    """

    spec: ChartSpec

    def __init__(
        self,
        name: str,
        spec: ChartSpec | Mapping[str, Any] | Any,
        *,
        kubeconfig: pulumi.Input[str] | None = None,
        kube_context: str | None = None,
        hooks: Hooks | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        depends_on: Sequence["LifecycleChart"] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if kubeconfig is not None or kube_context is not None:
            provider = cluster.kubernetes_provider(kubeconfig, kube_context)
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[provider]))
        super().__init__(TYPE_TOKEN, name, {}, opts)
        quiet_interrupt()
        self.release_args: k8s.helm.v3.ReleaseArgs | None = None
        if isinstance(spec, k8s.helm.v3.ReleaseArgs):
            self.release_args = spec
            spec = release_args.to_spec(spec, name)
        elif not isinstance(spec, (ChartSpec, Mapping)):
            spec = release_args.to_spec(spec, name)
        self.spec = parse_spec(dict(spec) if isinstance(spec, Mapping) else spec, where=f"chart {name!r}")
        self.access = cluster.access_of(self)
        self.waits_for = self._dependencies(depends_on)
        user_hooks = hooks or Hooks()
        self.hook_refs = {event: self._method_refs(event) + user_hooks.refs(event) for event in HOOK_EVENTS}
        self.steps: dict[str, _StepResource] = {}
        self.release: k8s.helm.v3.Release | None = None
        outputs: dict[str, Any] = {"action": self.spec.action.value}
        base = Path(project_dir) if project_dir else Path.cwd()
        self._live = self._helm_record()
        if self.spec.action is Action.destroy and pulumi.runtime.is_dry_run():
            self._refuse_destroy(base)
        if self.spec.action is not Action.destroy:
            # With action destroy there are no steps: the engine deletes the previous ones in
            # reverse order (validate's refusal, uninstall, then CRDs and teardown) and the component stays.
            self._build(name, base)
            self.owned_crds = self.steps["pre_exec"].out("owned_crds")
            outputs.update(chart_version=self._facts["chart_version"], owned_crds=self.owned_crds,
                           checks_passed=self.steps["validate"].out("checks_passed"))
            if self.release is not None:
                self.revision = self.release.status.revision
                self.status = self.release.status.status
                outputs.update(revision=self.revision, status=self.status)
        self.register_outputs(outputs)

    # --- the graph ----------------------------------------------------------------------------

    def _build(self, name: str, base: Path) -> None:
        self._facts = facts = self._chart_facts(base)
        common: dict[str, Any] = {
            "spec": compact_doc(self.spec.public_doc()),
            "project_dir": str(base),
            "chart_version": facts["chart_version"],
        }
        steps_provider = cluster.steps_provider(self.access)
        chart = self.spec.chart
        if isinstance(chart, RepoChart) and (chart.password is not None or chart.ca is not None):
            common["repo_auth"] = pulumi.Output.secret({"password": chart.password, "ca": chart.ca})
        for step in LIFECYCLE:
            if RELEASE in step.after:
                self._build_release(name, base)
            props = {
                **common,
                **({"preview": pulumi.runtime.is_dry_run()} if step.prepare else {}),
                "hooks": {e: self.hook_refs[e] for e in step.hooks if self.hook_refs[e]},
                **{f: facts[f] for f in step.facts},
                **{key: self._wire(src) for key, src in step.wires.items()},
            }
            after: list[pulumi.Resource] = [self.steps[a] if a != RELEASE else self.release or self.steps["pre_exec"]
                                            for a in step.after]
            after = after or [c.steps["validate"] for c in self.waits_for]
            opts = pulumi.ResourceOptions(parent=self, depends_on=after, provider=steps_provider)
            self.steps[step.name] = STEP_RESOURCES[step.name](step, f"{name}-{step.suffix}", props, opts)

    def _wire(self, src: str) -> Any:
        owner, key = src.split(".", 1)
        if owner == RELEASE:
            return self.release.status.revision if self.release is not None and key == "revision" else None
        return self.steps[owner].out(key)

    def _build_release(self, name: str, base: Path) -> None:
        """The Release, after pre_exec. Not declared while the action is skip
        or dry_run and Helm has no release: there is nothing to leave as it is."""
        spec, pre = self.spec, self.steps["pre_exec"]
        leave = spec.action is Action.skip or spec.dry_run
        if leave and self._live is None and self.access.known() is not None:
            return  # Helm has nothing to leave as it is (unknown here: the Release is kept, not deleted)
        args = self.release_args or release_args.from_spec(spec, base, self._facts["values"], self._secret_values(),
                                                           rollout=pre.out("rollout"))
        opts = pulumi.ResourceOptions(
            parent=self,
            depends_on=[pre],
            # A breaking-version reinstall: pre_exec counts them; a new count replaces the Release,
            # uninstalling before installing again.
            replacement_trigger=pre.out("reinstall_key"),
            delete_before_replace=True,
            # The state of helmlife 0.2's helm-driven release step, rewritten by a refresh in the
            # Release's shape (steps/retired.py): taken over as it is, no helm call.
            aliases=[pulumi.Alias(name=f"{name}-release", type_=OLD_RELEASE_TYPE)],
            # A release Helm already has and the stack does not (state lost, an interrupted
            # install): adopted, not installed again. Ignored once the Release is in the state.
            import_=self._adopt(),
            ignore_changes=["*"] if leave else None,
            hooks=pulumi.ResourceHookBinding(on_error=[self._on_deploy_failure()]),
        )
        self.release = k8s.helm.v3.Release(name, args, opts)
        if not leave and spec.wait and not pulumi.runtime.is_dry_run():
            self._watch_readiness(pre)

    def _secret_values(self) -> dict[str, Any]:
        """Secret values for the Release: every leaf a secret Output, so its state encrypts them."""
        def secret(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: secret(v) for k, v in node.items()}
            return pulumi.Output.secret(node)
        return secret(self._facts["secret_value_inputs"])

    def _helm_record(self) -> releases.ReleaseRecord | None:
        """Helm's live record of this release now, asked once while the program runs when the
        cluster's kubeconfig is known here (not an Output); None otherwise."""
        known = self.access.known()
        if known is None:
            return None
        try:
            record = releases.latest(kube.api_client(*known), self.spec.name, self.spec.namespace)
        except Exception as err:  # noqa: BLE001 - pre_exec's check names an unreachable cluster
            pulumi.log.debug(f"{self.spec.name}: could not read Helm's record: {err}")
            return None
        return record if record and record.live else None

    def _adopt(self) -> str | None:
        """The Release's `import` ID when Helm has a release this stack's Release did not deploy
        (state lost, an interrupted install, or a release made by hand or by another tool): it is
        adopted, not installed again. A release a helmlife Release deployed carries its
        description: it is in the state, unless the `up` that created it was interrupted (its
        helm finished, the CLI never recorded it), so it is imported too while deployed (the
        import is a no-op for a Release already in the state), except when a breaking-version
        reinstall is due (Pulumi refuses to replace an imported resource that still declares its
        import)."""
        live = self._live
        if live is None or live.status == "pending-install":
            return None  # pre_exec settles it first: uninstalled if its helm is dead (see pre_exec.run)
        if (live.description or "").startswith(release_args.DESCRIPTION_PREFIX):
            state = ReleaseState(live, self._facts.get("chart_version"),
                                 self.spec.last_breaking_version_requiring_restart, 0)
            if live.status != "deployed" or decide(state).action is ReleaseAction.reinstall:
                return None
        return f"{self.spec.namespace}/{self.spec.name}"

    # --- on_deploy_failure -------------------------------------------------------------------

    def _watch_readiness(self, *before: pulumi.Resource) -> None:
        """Sample the release's readiness while the Release's helm call runs (it starts when
        the steps before it are done), so a failure can say what was not ready although
        `atomic` removed it; stops when the Release is done."""
        self._watch: diagnose.ReadinessWatch | None = None
        spec = self.spec

        def start(args: list[Any]) -> None:
            try:
                api = kube.api_client(kube.kubeconfig_content(args[0] or None), args[1] or None)
            except Exception as err:  # noqa: BLE001 - diagnostics must never fail a deploy
                pulumi.log.debug(f"{spec.name}: no readiness watch: {err}")
                return
            self._watch = diagnose.ReadinessWatch(api, spec.namespace, spec.name,
                                                  diagnose.sample_interval(spec.timeout_seconds),
                                                  delay=diagnose.first_sample(spec.timeout_seconds))
            self._watch.__enter__()

        def stop(_: Any) -> None:
            if self._watch is not None:
                self._watch.__exit__(None, None, None)

        pulumi.Output.all(self.access.kubeconfig, self.access.context, *[r.urn for r in before],
                          *[getattr(r, "id") for r in before]).apply(start)
        assert self.release is not None
        self.release.status.apply(stop)

    def _on_deploy_failure(self) -> pulumi.ErrorHook:
        """Pulumi's ErrorHook on the Release: what the cluster showed while helm waited, the
        namespace's events and what Helm has now, then the user's on_deploy_failure hooks, which
        may ask for another attempt (TemporaryError)."""
        spec, refs = self.spec, self.hook_refs["on_deploy_failure"]
        attempts = [0]

        def on_error(args: pulumi.ErrorHookArgs) -> bool:
            attempts[0] += 1
            watch = getattr(self, "_watch", None)
            if watch is not None:
                watch.__exit__(None, None, None)
            failure = args.errors[0] if args.errors else f"{args.failed_operation} failed"
            known = self.access.known()
            context, server = unreachable.cluster_of(*known) if known else (None, None)
            if known and unreachable.is_unreachable(RuntimeError(failure), server):
                _log_now(args.urn, f"{spec.name}: cannot reach the Kubernetes cluster of context {context!r} at "
                                   f"{server}. Nothing is lost: once it answers, run `pulumi up` again and it resumes "
                                   "(a release the outage left pending is recovered first).")
                return False
            try:
                api = kube.api_client(*known) if known else watch._args[0] if watch else None
            except Exception:  # noqa: BLE001
                api = None
            lines: list[str] = []
            if api is not None:
                since = getattr(watch, "started_at", None)
                lines = diagnose.cluster_view(api, spec.namespace, spec.name, since, watch)
            if refs and api is not None:
                ctx = HookContext(step="on_deploy_failure", spec=spec, release=spec.name, namespace=spec.namespace,
                                  previous_version=None, target_version=self._facts.get("chart_version"), kube=api,
                                  log=step_logger(spec.name, "on_deploy_failure"), attempt=attempts[0],
                                  failure=failure, diagnostics=lines)
                retry = run_failure_hooks(refs, ctx)
                if retry is not None:
                    time.sleep(retry)
                    if watch is not None:
                        watch.restart()
                    return True
            detail = "\n".join(lines) or "  (no unready workloads or events found)"
            after = diagnose.after_failure(api, spec.namespace, spec.name) if api is not None else ""
            _log_now(args.urn, f"{spec.name}: deploy failed.\non_deploy_failure: {args.failed_operation} of release "
                               f"{spec.name} failed; what the cluster shows in namespace {spec.namespace}:\n{detail}\n{after}")
            return False

        return pulumi.ErrorHook(f"helmlife-{pulumi.get_stack()}-{self._name}-on-deploy-failure", on_error)

    # --- facts and checks read while the program runs ------------------------------------------

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

        Problems are not raised here: pre_exec's check reports them during preview with the
        field named, and nothing runs before it passes.
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
        facts["secret_value_inputs"] = secret
        facts["secret_values"] = pulumi.Output.secret(secret) if secret else {}
        facts["values_digest"] = pulumi.Output.secret(
            pulumi.Output.from_input(secret).apply(lambda s: _digest(public, s))) if secret else _digest(public, {})
        try:
            found = crds.of_chart(self.spec, base, public, helm=None)
        except (crds.ChartFileError, OSError):
            found = None  # pre_exec's check reads the chart again and names the file at preview
        facts["crds"] = self.spec.crds if self.spec.crds is not None else (
            [c.name for c in found] if found is not None else None)
        facts["crd_digest"] = crds.digest(found) if found is not None else facts["chart_digest"]
        return facts

    def _refuse_destroy(self, base: Path) -> None:
        """Preview of `action: destroy`: validate's delete will refuse to uninstall while the
        chart's CRDs hold custom resources; say so now, with the same message, and name the CRDs
        `helm.sh/resource-policy: keep` will leave behind. (Removing a chart from the stack, or
        `pulumi destroy`, runs no chart code at preview: there the refusal comes at the start of
        the destroy, before anything is removed.)"""
        spec, known, record = self.spec, self.access.known(), self._live
        if spec.dry_run or known is None or record is None:
            return  # nothing to uninstall, or no way to look from here
        try:
            api = kube.api_client(*known)
            left = {} if spec.force_crd_deletion else self._at_risk(api, base, *known)
            kept = kept_crds(helm_yaml.load_all(record.manifest))
            notice = kept_notice(api, spec.name, kept, done=False) if kept else None
        except Exception as err:  # noqa: BLE001 - a preview must not fail on what it could not check
            pulumi.log.warn(f"{spec.name}: could not check the CRDs for custom resources before destroy: {err}")
            return
        if left:
            raise pulumi.RunError(refusal(spec.name, left))  # fails the preview with just this message
        if notice:
            pulumi.log.warn(notice)

    def _at_risk(self, api: Any, base: Path, kubeconfig: str, kube_context: str | None) -> dict[str, list[str]]:
        """What validate's delete would refuse for: the chart's CRDs holding custom resources."""
        spec = self.spec
        try:
            found = crds.of_chart(spec, base, split_values(spec, base)[0], Helm(kubeconfig, kube_context))
        except (ValueError, OSError, HelmError):
            found = None  # the chart cannot be read now: the template CRDs are still checked
        owned = spec.crds if spec.crds is not None else [c.name for c in found or []]
        return crds_at_risk(api, spec.name, spec.namespace, owned)

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
