"""release: the Helm release itself (Qovery's `exec`), composed from helmlife.actions."""
from __future__ import annotations

from typing import Any

from .. import kube, releases
from ..actions.install import install
from ..actions.remediate import remediate
from ..actions.uninstall import uninstall
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    chart_digest: str | None = None
    values: dict[str, Any] = {}
    secret_values: dict[str, Any] = {}


class Outputs(StepOutputs):
    revision: int | None = None
    status: str | None = None
    deployed_version: str | None = None
    app_version: str | None = None
    resources: list[str] = []


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    remediate(inputs)  # a release a dead helm left pending would refuse the install
    result = install(inputs)
    info, meta = result.get("info", {}), result.get("chart", {}).get("metadata", {})
    return Outputs(
        payload=inputs.payload,
        revision=result.get("version"),
        status=info.get("status"),
        deployed_version=meta.get("version"),
        app_version=meta.get("appVersion"),
        resources=[str(r) for r in kube.manifest_objects(result.get("manifest", ""), inputs.namespace)],
    )


def drifted(inputs: Inputs, outputs: Outputs) -> bool:
    """True when state says deployed but the cluster has no such release (deleted by hand,
    or a new cluster behind the same kubeconfig): the next `up` installs it again."""
    if inputs.spec.dry_run:
        return False
    try:
        record = releases.latest(inputs.api, inputs.release, inputs.namespace)
        return record is None or not record.live
    except Exception:  # noqa: BLE001 - an unreachable cluster is reported by check_prerequisites
        return False


def delete(inputs: Inputs, outputs: Outputs) -> None:
    uninstall(inputs)
