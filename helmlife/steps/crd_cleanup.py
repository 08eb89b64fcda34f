"""crd_cleanup: the chart's CRDs. Records them (and, with `crd_upgrade: apply`, applies them)
before the release; removes them on delete, after the release is uninstalled.

The CRDs are those helm installs: the chart's crds/ and its enabled sub-charts' (see
`helmlife.crds`), read by the program for a local chart, and here, from the pulled chart, for
a repository chart. A file helm could not parse fails `check`, so preview names the file.

The release depends on this step, so the engine deletes it *after* the release: helm
uninstall first, then the CRDs (the Prometheus-operator sequence). validate's delete already
refused the destroy if these CRDs held custom resources; the same check runs here again, since
the objects could have been created in between, unless the spec says to force it.
"""
from __future__ import annotations

from typing import Any

from .. import crds, kube
from ..actions.uninstall import SHOWN, owner, refusal
from ..helm import HelmError
from ..hooks import step_logger
from ..spec import CrdUpgrade
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    crds: list[str] | None = None  # None: a repository chart, read here
    crd_digest: str | None = None
    values: dict[str, Any] = {}  # sub-chart conditions and tags are evaluated against them


class Outputs(StepOutputs):
    owned_crds: list[str] = []
    applied_crds: list[str] = []


def chart_crds(inputs: Inputs) -> list[crds.Crd]:
    return crds.of_chart(inputs.spec, inputs.base_dir, inputs.values, inputs.helm) or []


def check(inputs: Inputs) -> list[str]:
    if inputs.crds is not None:
        return []  # read (or declared) by the program, which parsed every file
    try:
        chart_crds(inputs)
    except crds.ChartFileError as err:
        return [f"{err}. Helm would fail on this file too"]
    except HelmError:
        pass  # an unreachable chart is pre_exec's finding (its prerequisites)
    return []


def run(inputs: Inputs) -> Outputs:
    spec = inputs.spec
    apply = spec.crd_upgrade is CrdUpgrade.apply
    found = chart_crds(inputs) if inputs.crds is None or apply else []
    owned = list(inputs.crds) if inputs.crds is not None else [c.name for c in found]
    applied: list[str] = []
    log = step_logger(spec.name, "crd_cleanup")
    if spec.dry_run:
        if apply:
            log.info("dry run: would apply %d CRD(s)", len(found))
    else:
        if apply and found:
            applied = kube.apply_crds(inputs.api, [c.doc for c in found])
            log.info("applied %d CRD(s) (crd_upgrade: apply): %s", len(applied), ", ".join(applied))
        # Who deletes these CRDs at destroy: after a rename, the new release, not the old one.
        kube.mark_owner(inputs.api, owned, owner(spec.name, spec.namespace))
    return Outputs(owned_crds=owned, applied_crds=applied)


def delete(inputs: Inputs, outputs: Outputs) -> None:
    spec = inputs.spec
    if not outputs.owned_crds or spec.dry_run:
        return
    names = kube.owned_by(inputs.api, outputs.owned_crds, owner(spec.name, spec.namespace))
    if not spec.force_crd_deletion:
        left = kube.custom_resources_left(inputs.api, names, cap=SHOWN)
        if left:
            raise RuntimeError(refusal(spec.name, left))
    kube.delete_crds(inputs.api, names, timeout=spec.timeout_seconds)
