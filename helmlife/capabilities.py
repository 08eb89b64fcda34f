"""What Helm's `.Capabilities` holds for a cluster: its Kubernetes version and API versions.

`helm template` (the render's fallback, see `actions/render.py`) renders client-only: without
`--kube-version` and `--api-versions` it assumes Helm's built-in Kubernetes v1.20 and the API
versions compiled into helm. A chart declaring `kubeVersion: >=1.25.0-0` then refuses to
render at all, and fields that depend on `.Capabilities` come out as for another cluster, so
the recorded manifest differs from what the install really applies. An install asks the
cluster's discovery; this asks the same, with the kubernetes client, the way helm's
`GetVersionSet` does (every served group/version, and group/version/Kind for each resource),
and adds the API versions of the chart's own crds/ CRDs, which helm installs before rendering.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from . import kube
from .k8s import client


@dataclass(frozen=True)
class Capabilities:
    kube_version: str  # the API server's gitVersion, as helm's `.Capabilities.KubeVersion.Version`
    api_versions: tuple[str, ...]

    def helm_args(self) -> list[str]:
        """The flags that make a client-only render see this cluster."""
        return ["--kube-version", self.kube_version, "--api-versions", ",".join(self.api_versions)]


def _get(api: client.ApiClient, path: str) -> dict[str, Any] | None:
    """A discovery document, or None when its group does not answer (an aggregated API that is
    down): helm too renders with the groups that answered."""
    try:
        return kube.get_json(api, path)
    except client.ApiException:
        return None


def _group_versions(api: client.ApiClient) -> list[str]:
    core = (_get(api, "/api") or {}).get("versions") or []
    groups = (_get(api, "/apis") or {}).get("groups") or []
    return [*core, *(v["groupVersion"] for g in groups for v in g.get("versions") or [])]


def crd_api_versions(docs: Iterable[dict[str, Any]]) -> list[str]:
    """group/version and group/version/Kind of every served version of these CRD documents."""
    out = []
    for doc in docs:
        spec = doc.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            if group and kind and version.get("served", True):
                out += [f"{group}/{version['name']}", f"{group}/{version['name']}/{kind}"]
    return out


def of_cluster(api: client.ApiClient, crd_docs: Iterable[dict[str, Any]] = ()) -> Capabilities:
    """The cluster's capabilities, plus those the chart's crds/ CRDs add once helm installs them."""
    version = client.VersionApi(api).get_code().git_version
    gvs = _group_versions(api)
    found: set[str] = set(gvs)
    for gv, doc in zip(gvs, kube.parallel(lambda gv: _get(api, f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"), gvs)):
        found.update(f"{gv}/{r['kind']}" for r in (doc or {}).get("resources") or [] if r.get("kind"))
    found.update(crd_api_versions(crd_docs))
    return Capabilities(kube_version=version, api_versions=tuple(sorted(found)))
