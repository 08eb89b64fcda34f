"""uninstall: `helm uninstall`, refused while it would take custom resources with it.

Deleting a CRD deletes every custom resource of its kind. `helm uninstall` deletes the CRDs a
chart ships as templates; in a destroy, `crd_cleanup` then deletes the crds/ CRDs the release
step was handed (`owned_crds`). So the check runs before anything is removed: if any of those
CRDs still stores custom resources, other than the ones the uninstall itself deletes, the
uninstall is refused, naming them, and the release (hence the whole chart) stays as it was,
unless `force_crd_deletion`. Idempotent: an absent release is already uninstalled.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .. import kube, releases
from ..crds import CRD_KIND

if TYPE_CHECKING:  # steps import actions, not the other way round
    from kubernetes import client

    from ..steps.contract import StepInputs


SHOWN = 5  # custom resources named per CRD in a refusal


def owner(release: str, namespace: str) -> str:
    """The value of the CRD owner mark (kube.OWNER_ANNOTATION) for a release."""
    return f"{namespace}/{release}"


def crds_at_risk(api: "client.ApiClient", release: str, namespace: str, owned_crds: Iterable[str] = ()) -> dict[str, list[str]]:
    """Custom resources an uninstall would lose, by CRD: those of the release's template CRDs
    and of `owned_crds` (unless another release claims them), minus the objects the release's
    manifest creates (helm deletes those itself, before the CRDs)."""
    record = releases.latest(api, release, namespace)
    removed = kube.manifest_objects(record.manifest, namespace, uninstalled_only=True) if record and record.live else []
    templated = [r.name for r in removed if r.kind == CRD_KIND]
    names = [*kube.owned_by(api, owned_crds, owner(release, namespace)), *templated]
    return kube.custom_resources_left(api, names, removed=removed, cap=SHOWN)


def refusal(release: str, left: dict[str, list[str]]) -> str:
    listing = "; ".join(f"{n}: {', '.join(objs[:SHOWN])}{' ...' if len(objs) > SHOWN else ''}"
                        for n, objs in sorted(left.items()))
    return (f"{release}: refusing to delete CRDs that still hold custom resources ({listing}). "
            "Deleting a CRD deletes all of its objects. Delete those objects first, or set "
            "force_crd_deletion: true on the chart to delete them with the CRDs, then run it again.")


def uninstall(inputs: "StepInputs", owned_crds: Iterable[str] = ()) -> None:
    spec = inputs.spec
    if spec.dry_run:
        return
    if not spec.force_crd_deletion and (left := crds_at_risk(inputs.api, spec.name, spec.namespace, owned_crds)):
        raise RuntimeError(refusal(spec.name, left) + " Nothing was uninstalled or deleted.")
    inputs.helm.uninstall(spec.name, spec.namespace, spec.timeout)
