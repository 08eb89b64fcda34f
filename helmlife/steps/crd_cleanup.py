"""crd_cleanup: on create, record the CRDs the chart owns; on delete, remove them.

The release depends on this step, so the engine deletes it *after* the release: helm
uninstall first, then the CRDs (the Prometheus-operator sequence). Custom resources still
stored under those CRDs block the deletion unless the spec says to force it, because
deleting a CRD silently deletes every object of its kind.
"""
from __future__ import annotations

from .. import charts, kube
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    crds: list[str] | None = None


class Outputs(StepOutputs):
    owned_crds: list[str] = []


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    if inputs.crds is not None:
        owned = list(inputs.crds)
    else:
        owned = charts.crd_names_from_yaml(inputs.helm.show_crds(charts.chart_ref(inputs.spec, inputs.base_dir)))
    return Outputs(owned_crds=owned)


def delete(inputs: Inputs, outputs: Outputs) -> None:
    names, spec = outputs.owned_crds, inputs.spec
    if not names or spec.dry_run:
        return
    left = {n: objs for n in names if (objs := kube.custom_resources_left(inputs.api, n))}
    if left and not spec.force_crd_deletion:
        listing = "; ".join(f"{n}: {', '.join(objs[:5])}{' ...' if len(objs) > 5 else ''}" for n, objs in left.items())
        raise RuntimeError(
            f"{spec.name}: refusing to delete CRDs that still hold custom resources ({listing}). "
            "Deleting a CRD deletes all of its objects. Delete those objects first, or set "
            "force_crd_deletion: true on the chart to delete them with the CRDs, then run the destroy again."
        )
    kube.delete_crds(inputs.api, names, timeout=spec.timeout_seconds)
