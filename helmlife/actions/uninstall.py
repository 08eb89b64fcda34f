"""uninstall: `helm uninstall`, refused while it would take custom resources with it.

Deleting a CRD deletes every custom resource of its kind. `helm uninstall` deletes the CRDs a
chart ships as templates; in a destroy, pre_exec's delete then removes the crds/ CRDs the
release owns (`owned_crds`, `actions.crd_cleanup`). So validate's delete, the first of a destroy, checks before anything is
removed: if any of those CRDs still stores custom resources, other than the ones the uninstall
itself deletes, the destroy is refused, naming them, and the whole chart stays as it was,
unless `force_crd_deletion`. pre_exec checks the same before a breaking-version reinstall.
`uninstall` itself is for stacks not yet moved to the Release (steps/retired.py), and for
remediation. Idempotent: an absent release is already uninstalled.

CRDs the chart annotates `helm.sh/resource-policy: keep` are neither deleted nor at risk: the
uninstall leaves them and their custom resources. That is said, naming them, at preview (the
plan pre_exec shows, whenever it renders) and at destroy, so nothing is left behind unseen.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .. import helm_yaml, kube, releases
from ..crds import CRD_KIND
from ..hooks import step_logger

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


def kept_crds(docs: Iterable[Any]) -> list[str]:
    """The CRDs among a release's objects annotated `helm.sh/resource-policy: keep` (a chart
    default of certificate controllers): `helm uninstall` leaves them, and with them every
    custom resource of their kinds, without a word."""
    return sorted(str(d["metadata"]["name"]) for d in docs
                  if isinstance(d, dict) and d.get("kind") == CRD_KIND and (d.get("metadata") or {}).get("name")
                  and (d["metadata"].get("annotations") or {}).get(kube.HELM_RESOURCE_POLICY) == "keep")


def kept_notice(api: "client.ApiClient", release: str, names: list[str], *, done: bool) -> str:
    """Says which CRDs a destroy leaves behind (`done`: it has), with the custom resources they hold."""
    left = kube.custom_resources_left(api, names, cap=SHOWN)
    listing = "; ".join(f"{n} (holding {', '.join(left[n][:SHOWN])}{' ...' if len(left[n]) > SHOWN else ''})"
                        if n in left else n for n in names)
    verb = "were left in the cluster" if done else "will stay in the cluster after a destroy"
    return (f"{release}: CRDs annotated helm.sh/resource-policy: keep {verb}, with every custom resource of "
            f"their kinds: {listing}. Delete them yourself when nothing uses them any more.")


def uninstall(inputs: "StepInputs", owned_crds: Iterable[str] = (), step: str = "release") -> None:
    spec = inputs.spec
    if spec.dry_run:
        return
    if not spec.force_crd_deletion and (left := crds_at_risk(inputs.api, spec.name, spec.namespace, owned_crds)):
        raise RuntimeError(refusal(spec.name, left) + " Nothing was uninstalled or deleted.")
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    kept = kept_crds(helm_yaml.load_all(record.manifest)) if record and record.live else []
    inputs.helm.uninstall(spec.name, spec.namespace, spec.timeout)
    if kept:
        step_logger(spec.name, step).warning("%s", kept_notice(inputs.api, spec.name, kept, done=True))
