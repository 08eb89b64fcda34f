"""Steps of earlier helmlife versions, as their resources in old state still name them.

helmlife 0.1 and 0.2 had six steps: check_prerequisites (0.1: prerequisites), pre_exec,
crd_cleanup (0.1: crds), release (helm driven by the step itself), post_exec and validate; 0.3
had pre_exec, crd_cleanup, the kubernetes Release and validate. pre_exec and validate are
today's steps too; the others are gone from the graph. Their resources stay in a stack's state
until the program no longer declares them, and Pulumi then deletes them with the provider
pickled in state, which resolves here:

- `check_prerequisites` / `prerequisites` / `post_exec` did nothing at delete, and still do not;
- `crd_cleanup` / `crds`: pre_exec owns the CRDs now (the same owner mark). An `up` deletes the
  old step while Helm still has the release: nothing is touched. In a destroy the release is
  uninstalled first (the Release depended on the step), and the step's delete removes the CRDs
  as it always did: this is `pulumi destroy` of a stack not yet moved;
- `release`: its delete is still what it was, `helm uninstall` (refused while CRDs about to go
  hold custom resources): this is `pulumi destroy` of a stack not yet moved to the Release. An
  `up` never deletes it: the Release takes over its state (an alias, see `chart.py`), after a
  `pulumi refresh` has rewritten it in the Release's shape (`release_adoption`).
"""
from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

from .. import kube, release_args, releases
from ..helm import Helm
from ..actions import crd_cleanup
from ..actions.uninstall import uninstall
from ..spec import RepoChart
from ..values import deep_merge
from .contract import ChartInputs, StepOutputs
from .pre_exec import rollout_token


class Inputs(ChartInputs):
    owned_crds: list[str] | None = None


Outputs = StepOutputs


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    raise RuntimeError(f"{inputs.release}: this step belongs to an earlier helmlife; run `pulumi refresh` once, "
                       "then `pulumi up`, to move the stack to the current graph")


def delete_retired(step: str, inputs: Inputs, outputs: Any) -> None:
    if step == "release":
        uninstall(inputs, inputs.owned_crds or ())
    elif step in ("crd_cleanup", "crds") and not inputs.spec.dry_run:
        record = releases.latest(inputs.api, inputs.release, inputs.namespace)
        if record is None or not record.live:  # uninstalled: never the CRDs of an installed release
            crd_cleanup.remove(inputs, inputs.owned_crds or ())  # type: ignore[arg-type]


def delete(inputs: Inputs, outputs: Outputs) -> None:
    return None


def uninstall_taken_over(props: dict[str, Any]) -> None:
    """`pulumi destroy` after a refresh rewrote the old release step in the Release's shape but
    before an `up` moved it to the Release: uninstall it as the Release would (validate's delete
    has already refused if CRDs about to go hold custom resources)."""
    kubeconfig = kube.kubeconfig_content(props.get("kubeconfig") or None)
    Helm(kubeconfig, props.get("kube_context") or None).uninstall(
        str(props["name"]), str(props["namespace"]), f"{int(props.get('timeout') or 300)}s")


def _secret(value: Any) -> dict[str, Any]:
    """A value the engine records encrypted (the wire form of a secret)."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def release_state(inputs: Inputs, outputs: Any) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """The helm-driven release step's state rewritten as the Release's (`pulumi refresh` with
    this helmlife): the inputs the program now gives the Release, as the kubernetes plugin
    checks them, recorded as its `__inputs`, and Helm's record as its status. The Release then
    takes this state over through its alias and finds nothing to change: no helm call, the
    revision stays. None when Helm no longer has the release (the refresh drops the step and
    the next `up` installs it)."""
    spec = inputs.spec
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    if record is None or not record.live:
        return None
    chart = spec.chart
    if isinstance(chart, RepoChart) and inputs.repo_auth is not None:
        spec = spec.model_copy(update={"chart": chart.model_copy(update={
            "password": inputs.repo_auth.password, "ca": inputs.repo_auth.ca})})
    values = deep_merge(inputs.values, inputs.secret_values)
    args = release_args.arguments(spec, inputs.base_dir, values, rollout_token(inputs.chart_digest, 0))
    checked = release_args.checked_inputs(args, inputs.chart_version)
    if inputs.secret_values:
        checked["values"] = _secret(checked["values"])
    if isinstance(password := (checked.get("repositoryOpts") or {}).get("password"), str):
        checked["repositoryOpts"]["password"] = _secret(password)
    status = {"name": record.name, "namespace": record.namespace, "revision": record.revision,
              "status": record.status, "version": record.chart_version, "appVersion": record.app_version,
              "chart": record.chart_name}
    return f"{spec.namespace}/{spec.name}", {**checked, "status": status, "__inputs": _secret(checked)}, checked
