"""CRD cleanup: the chart's CRDs, owned by the release while it is installed and deleted after
its uninstall (the Prometheus-operator sequence). Part of pre_exec, the step the Release depends
on: pre_exec runs before the Release, so its run records (and with `crd_upgrade: apply`,
applies) the CRDs first; the engine deletes it after the Release, so its delete removes them
once helm has uninstalled.

The CRDs are those helm installs: the chart's crds/ and its enabled sub-charts' (see
`helmlife.crds`), read by the program for a local chart, and here, from the pulled chart, for
a repository chart. A file helm could not parse fails the check, so preview names the file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .. import crds, kube
from ..helm import HelmError
from ..hooks import step_logger
from ..spec import CrdUpgrade
from .uninstall import SHOWN, owner, refusal

if TYPE_CHECKING:
    from ..steps.contract import StepInputs
    from ..steps.pre_exec import Inputs


def chart_crds(inputs: "Inputs") -> list[crds.Crd]:
    return crds.of_chart(inputs.spec, inputs.base_dir, inputs.values, inputs.helm) or []


def problems(inputs: "Inputs") -> list[str]:
    """A CRD file helm could not parse, named at preview (the program parsed a local chart's)."""
    if inputs.crds is not None:
        return []
    try:
        chart_crds(inputs)
    except crds.ChartFileError as err:
        return [f"{err}. Helm would fail on this file too"]
    except HelmError:
        pass  # an unreachable chart is reported by the chart prerequisites
    return []


def owned_names(inputs: "Inputs") -> list[str]:
    """The names of the CRDs this release owns: the program's list, or the pulled chart's."""
    return list(inputs.crds) if inputs.crds is not None else [c.name for c in chart_crds(inputs)]


def own(inputs: "Inputs") -> tuple[list[str], list[str]]:
    """Mark the chart's CRDs as this release's (who deletes them at destroy: after a rename the
    new release, not the old one), applying them first with `crd_upgrade: apply`. Returns the
    names owned and applied."""
    spec = inputs.spec
    apply = spec.crd_upgrade is CrdUpgrade.apply
    found = chart_crds(inputs) if inputs.crds is None or apply else []
    owned = list(inputs.crds) if inputs.crds is not None else [c.name for c in found]
    applied: list[str] = []
    log = step_logger(spec.name, "pre_exec")
    if spec.dry_run:
        if apply:
            log.info("dry run: would apply %d CRD(s)", len(found))
        return owned, applied
    if apply and found:
        applied = kube.apply_crds(inputs.api, [c.doc for c in found])
        log.info("applied %d CRD(s) (crd_upgrade: apply): %s", len(applied), ", ".join(applied))
    kube.mark_owner(inputs.api, owned, owner(spec.name, spec.namespace))
    return owned, applied


def remove(inputs: "StepInputs", names: Iterable[str]) -> None:
    """After the uninstall: delete the CRDs this release still owns. validate's delete refused
    the destroy already if they held custom resources; the check runs again here, since objects
    could have been created in between, unless the spec says to force it."""
    spec, names = inputs.spec, list(names)
    mine = kube.owned_by(inputs.api, names, owner(spec.name, spec.namespace)) if names else []
    if not mine:
        return
    if not spec.force_crd_deletion:
        left = kube.custom_resources_left(inputs.api, mine, cap=SHOWN)
        if left:
            raise RuntimeError(refusal(spec.name, left))
    kube.delete_crds(inputs.api, mine, timeout=spec.timeout_seconds)
