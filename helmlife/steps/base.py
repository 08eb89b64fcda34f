"""The one dynamic provider every lifecycle step shares.

Pulumi stores a pickled copy of a dynamic provider in state and uses that copy for `delete`.
`StepProvider` therefore holds nothing but the name of its step: the pickle is a reference
to this importable class plus one string, and every operation is looked up at call time in
the step table (`helmlife.steps`). Upgrading helmlife upgrades what runs at destroy time.

What a step module never has to write lives here, once: inputs validated into the step's
model, `skip` (nothing runs, preview shows no change), "no trigger changed: keep the old
outputs", and reading state written by earlier helmlife versions.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
import traceback
from typing import Any, Iterator

from pulumi.dynamic import (CheckFailure, CheckResult, ConfigureRequest, CreateResult, DiffResult, ReadResult,
                            ResourceProvider, UpdateResult)
from pydantic import ValidationError

from .. import provider_pool
from ..hooks import debugging
from ..spec import Action, ChartSpec, full_doc
from ..unreachable import naming_cluster
from . import CLUSTER_CONFIG, CREDENTIALS, RENAME, RETIRED, StepDef, lookup, retired
from .contract import StepInputs, StepOutputs, changed_paths, contains_unknown

PROVIDER_KEY = "__provider"  # the dynamic provider's own property (its pickle)
HIDDEN = "__"  # bookkeeping: recorded, diffed, never printed by Pulumi's display


def unwrap(props: dict[str, Any]) -> dict[str, Any]:
    """Property names as the step models use them (state written before `shown` has them bare)."""
    return {k.removeprefix(HIDDEN) if k != PROVIDER_KEY else k: v for k, v in props.items()}


def wrap(step: StepDef, props: dict[str, Any]) -> dict[str, Any]:
    """Property names as recorded: what a reviewer reads bare, the rest `__`-prefixed."""
    return {k if k in step.shown or k.startswith(HIDDEN) else HIDDEN + k: v for k, v in props.items()}

# The engine's first call into the dynamic-provider process unpickles StepProvider, importing
# this module: from here on step operations are no longer queued on the SDK's four gRPC threads.
provider_pool.widen()


# The property a check failure names. The engine prints a named property's whole value before
# the reason (`property spec value {map[chart:...` : the spec, as a Go map); with none it prints
# "<type> resource '<name>' has a problem: <reason>", and the reason names the field itself.
WHOLE_RESOURCE = ""


def journal(step: str, operation: str, release: Any) -> None:
    """Append one line per step operation to $HELMLIFE_JOURNAL, when set: an audit trail of
    what ran, in which order, that outlives the cluster objects a destroy removes."""
    path = os.environ.get("HELMLIFE_JOURNAL")
    if path:
        line = json.dumps({"t": time.time(), "release": release, "step": step, "op": operation})
        with open(path, "a") as fh:
            fh.write(line + "\n")


class StepFailed(RuntimeError):
    """A step's run or delete failed; the message starts with `<release>: <step>: `, as a
    failed check's does, so the engine's error line names the chart and the step."""


@contextlib.contextmanager
def naming_step(release: str, step: str) -> Iterator[None]:
    """Re-raise a failure as `StepFailed` naming release and step (once: a message that
    already starts with the release gets the step after it). With HELMLIFE_DEBUG the
    original's traceback is printed first."""
    try:
        yield
    except Exception as err:
        text = str(err)
        rest = text.removeprefix(f"{release}: ")
        if rest.startswith(f"{step}: "):
            raise
        if debugging():
            traceback.print_exc()  # the provider's stderr: shown in the CLI's output
        raise StepFailed(f"{release}: {step}: {rest}") from None


def normalize(step: StepDef, props: dict[str, Any]) -> dict[str, Any]:
    """Props in this version's shape, whichever version wrote them, so diffs compare like
    with like: hooks by event (0.1 kept a flat list and `failure_hooks`), no empty context,
    and the spec with today's defaults filled in (steps record it without them)."""
    out = unwrap(props)
    hooks = out.get("hooks")
    if isinstance(hooks, list) or "failure_hooks" in out:
        events = {step.hooks[0]: hooks} if isinstance(hooks, list) and step.hooks else {}
        if out.get("failure_hooks"):
            events["on_deploy_failure"] = out["failure_hooks"]
        out.pop("failure_hooks", None)
        out["hooks"] = {e: refs for e, refs in events.items() if refs}
    if not out.get("kube_context"):
        out.pop("kube_context", None)
    spec = out.get("spec")
    if isinstance(spec, dict):
        out["spec"] = spec = full_doc(spec)
        try:
            if not contains_unknown(spec):
                out["spec"] = ChartSpec.model_validate(spec).model_dump(mode="json")
        except ValidationError:
            pass  # check() reports it with the field named
    return out


def skipped(props: dict[str, Any]) -> bool:
    spec = props.get("spec")
    return isinstance(spec, dict) and spec.get("action") == Action.skip.value


class StepProvider(ResourceProvider):
    """Delegates to the step table; see the module docstring for why it is this thin."""

    serialize_as_secret_always = False  # it holds no secret: only a step name

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step

    def configure(self, req: ConfigureRequest) -> None:
        """The cluster provider's configuration: its credentials (not pickled: set per process)."""
        self.cluster = {k: v for k, key in CLUSTER_CONFIG.items() if (v := req.config.get(key))}

    def _on_cluster(self, props: dict[str, Any]) -> dict[str, Any]:
        """Props with the provider's credentials: they win over a copy an older state recorded
        in the step, so every operation, delete included, uses the cluster's current ones.
        Only operations see them; what the step records never holds them."""
        return {**props, **getattr(self, "cluster", {})}

    def _def(self) -> StepDef:
        return lookup(self.step)

    def _parse(self, props: dict[str, Any]) -> tuple[StepInputs, StepOutputs]:
        module = self._def().module
        return module.Inputs.model_validate(props), module.Outputs.model_validate(props)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        step = self._def()
        props = normalize(step, self._on_cluster(news))
        # What upstream steps hand over (`wires`) is unknown until they ran; a check needs only
        # the chart's own inputs, so a preview of a new chart still renders and checks it.
        wired = {"payload", *step.wires}
        own = {k: v for k, v in props.items() if k in step.module.Inputs.model_fields and k not in wired}
        if step.name in RETIRED or skipped(props) or contains_unknown(own):
            return CheckResult(news, [])
        try:
            known = {k: v for k, v in props.items() if not (k in wired and contains_unknown(v))}
            inputs = step.module.Inputs.model_validate({**known, "payload": {}})
        except ValidationError as err:
            name = (props.get("spec") or {}).get("name", "?")
            return CheckResult(news, [CheckFailure(WHOLE_RESOURCE, f"{name}: {step.name}: invalid inputs: {err}")])
        problems = step.module.check(inputs)
        derived: dict[str, Any] = {}
        if not problems and step.prepare is not None:
            try:
                with naming_cluster(inputs.kubeconfig, inputs.kube_context):
                    derived = step.prepare(inputs, normalize(step, self._on_cluster(olds)) if olds else {})
            except ValueError as err:
                if debugging():
                    traceback.print_exc()  # the provider's stderr: shown in the CLI's output
                problems = [str(err)]
        failures = [CheckFailure(WHOLE_RESOURCE, f"{inputs.release}: {step.name}: {msg}") for msg in problems]
        return CheckResult({**news, **wrap(step, derived)}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        step = self._def()
        old, new = normalize(step, self._on_cluster(olds)), normalize(step, self._on_cluster(news))
        if step.name in RETIRED:
            return DiffResult(changes=False)
        if skipped(new):
            return DiffResult(changes=False)
        if old.get("skipped"):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        changed = changed_paths(old, new, (*step.triggers, *step.kept, *CREDENTIALS, *RENAME), since=step.since)
        replaces = sorted({p.split(".")[0] for p in step.replace_on if p in changed})
        return DiffResult(changes=bool(changed) or self._lacks_outputs(old), replaces=[HIDDEN + r for r in replaces],
                          delete_before_replace=False)

    def _lacks_outputs(self, old: dict[str, Any]) -> bool:
        """Outputs this version records that the state does not have yet (`StepDef.backfill`)."""
        return bool(self._def().unrecorded(old))

    def create(self, props: dict[str, Any]) -> CreateResult:
        step = self._def()
        norm = normalize(step, self._on_cluster(props))
        if skipped(norm):  # a skipped step that never ran records a placeholder, touches nothing
            outs: dict[str, Any] = {"skipped": True}
        else:
            outs = self._run(norm, "create")
        release = norm["spec"]["name"]
        return CreateResult(id_=f"{norm['spec']['namespace']}/{release}/{step.name}",
                            outs={**props, **wrap(step, outs)})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        step = self._def()
        old, new = normalize(step, self._on_cluster(olds)), normalize(step, self._on_cluster(news))
        if old.get("skipped") or changed_paths(old, new, step.triggers, since=step.since):
            outs = self._run(new, "update")
        else:  # nothing to run: the outputs it made last time, and what check derived anew
            outs = {k: old.get(k) for k in step.outputs if k not in new}
            outs.update(self._settled(new))
            if self._lacks_outputs(old):
                outs.update(step.module.backfill(step.module.Inputs.model_validate(new)))  # type: ignore[attr-defined]
        return UpdateResult(outs={**news, **wrap(step, {**outs, "skipped": False})})

    def _settled(self, props: dict[str, Any]) -> dict[str, Any]:
        settle = getattr(self._def().module, "settle", None)
        return settle(self._def().module.Inputs.model_validate(props)) if settle else {}

    def _run(self, props: dict[str, Any], operation: str) -> dict[str, Any]:
        step = self._def()
        journal(step.name, operation, props["spec"]["name"])
        inputs = step.module.Inputs.model_validate(props)
        with naming_step(inputs.release, step.name), naming_cluster(inputs.kubeconfig, inputs.kube_context):
            outs = step.module.run(inputs).model_dump(mode="json")
        return {**outs, **self._settled(props), "skipped": False}

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """`pulumi refresh`: the step's outputs as the cluster has them now. An empty id tells
        the engine the resource is gone, so the next `up` creates it again."""
        step = self._def()
        norm = normalize(step, self._on_cluster(props))
        if step.name == "release" and not norm.get("skipped"):  # helmlife 0.2's: rewritten as the Release's
            inputs, outputs = self._parse(norm)
            with naming_cluster(inputs.kubeconfig, inputs.kube_context):
                taken = retired.release_state(inputs, outputs)  # type: ignore[arg-type]
            return ReadResult("", {}) if taken is None else ReadResult(*taken)
        if step.refresh is None or norm.get("skipped") or skipped(norm):
            return ReadResult(id_, props)
        with naming_cluster(norm.get("kubeconfig") or "", norm.get("kube_context")):
            found = step.refresh(*self._parse(norm))
        if found is None:
            return ReadResult("", {})
        outs = {**props, **wrap(step, found)}
        # Inputs too, so the next preview diffs (and shows) live against desired; the engine
        # keeps what was secret in the old inputs secret.
        inputs = {k: v for k, v in outs.items() if unwrap({k: None}).popitem()[0] not in (*step.outputs, "skipped")
                  and k != PROVIDER_KEY}
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        step = self._def()
        norm = normalize(step, self._on_cluster(props))
        journal(step.name, "delete", (norm.get("spec") or {}).get("name"))
        if norm.get("skipped"):
            return
        if step.name == "release" and "spec" not in norm:  # taken over by a refresh, not yet by the Release
            retired.uninstall_taken_over(norm)
            return
        inputs, outputs = self._parse(norm)
        with naming_step(inputs.release, step.name), naming_cluster(inputs.kubeconfig, inputs.kube_context):
            if step.name in RETIRED:
                retired.delete_retired(step.name, inputs, outputs)  # type: ignore[arg-type]
            else:
                step.module.delete(inputs, outputs)
