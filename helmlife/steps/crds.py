"""CRD cleanup: on create, record the CRDs the chart owns; on delete, remove them.

The release depends on this step, so the engine deletes it *after* the release: helm
uninstall first, then the CRDs (the Prometheus-operator sequence). Custom resources still
stored under those CRDs block the deletion unless the spec says to force it, because
deleting a CRD silently deletes every object of its kind.
"""
from __future__ import annotations

from typing import Any

from .. import charts, kube
from ..helm import Helm
from .base import api, diff_on, project_dir, spec_of, triggered

TRIGGERS = ("crds", "force_crd_deletion")


def _owned(props: dict[str, Any]) -> list[str]:
    if props.get("crds") is not None:
        return list(props["crds"])
    spec = spec_of(props)
    helm = Helm(props["kubeconfig"], props.get("kube_context") or None)
    return charts.crd_names_from_yaml(helm.show_crds(charts.chart_ref(spec, project_dir(props))))


def diff(olds: dict[str, Any], news: dict[str, Any]):
    # CRDs are cluster-scoped: a release moving namespace or name updates this record in
    # place. A replacement would delete the old record, and with it the CRDs the new release uses.
    return diff_on(olds, news, (*TRIGGERS, "release", "namespace"), replace_on=())


def create(props: dict[str, Any]) -> dict[str, Any]:
    return {"owned_crds": _owned(props)}


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    if not triggered(olds, news, TRIGGERS):
        return {"owned_crds": olds.get("owned_crds", [])}
    return {"owned_crds": _owned(news)}


def delete(props: dict[str, Any]) -> None:
    names = props.get("owned_crds") or []
    if not names or spec_of(props).dry_run:
        return
    client = api(props)
    left = {n: kube.custom_resources_left(client, n) for n in names}
    left = {n: objs for n, objs in left.items() if objs}
    if left and not props.get("force_crd_deletion"):
        listing = "; ".join(f"{n}: {', '.join(objs[:5])}{' ...' if len(objs) > 5 else ''}" for n, objs in left.items())
        raise RuntimeError(
            f"{props['release']}: refusing to delete CRDs that still hold custom resources ({listing}). "
            "Deleting a CRD deletes all of its objects. Delete those objects first, or set "
            "force_crd_deletion: true on the chart to delete them with the CRDs, then run the destroy again."
        )
    kube.delete_crds(client, names, timeout=spec_of(props).timeout_seconds)
