"""Thin helpers over the kubernetes Python client: the few cluster questions lifecycle steps ask.

Every helper takes an `ApiClient` built from the same kubeconfig the release uses, so a
step never talks to a different cluster than helm does.
"""
from __future__ import annotations

import functools
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import yaml
from . import helm_yaml
from .k8s import client, config, dynamic

RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
HELM_RESOURCE_POLICY = "helm.sh/resource-policy"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
T = TypeVar("T")
X = TypeVar("X")


def kubeconfig_content(kubeconfig: str | None) -> str:
    """Kubeconfig text from what a kubernetes.Provider accepts: its content, a path, or nothing
    (KUBECONFIG, else ~/.kube/config, as kubectl and the provider look)."""
    if kubeconfig and not _is_path(kubeconfig):
        return kubeconfig
    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
    try:
        return Path(path).expanduser().read_text()
    except OSError as err:
        raise ValueError(f"kubeconfig: cannot read {path} ({err.strerror}); give the provider a kubeconfig "
                         "or point KUBECONFIG at one") from None


def _is_path(text: str) -> bool:
    if "\n" in text:
        return False
    try:
        return not isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return True


@functools.lru_cache(maxsize=16)
def api_client(kubeconfig: str, context: str | None = None) -> client.ApiClient:
    """An ApiClient from kubeconfig *content* (never a path: the content travels as a secret).

    One per cluster and process: every step of every chart in a `pulumi up` shares its
    connection pool instead of parsing the kubeconfig and connecting again."""
    return config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)


@dataclass(frozen=True)
class ObjectRef:
    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


def parse_ref(ref: str, default_namespace: str) -> ObjectRef:
    parts = ref.split("/")
    if len(parts) == 2:
        return ObjectRef(kind=parts[0], name=parts[1], namespace=default_namespace)
    return ObjectRef(kind=parts[0], namespace=parts[1], name=parts[2])


def manifest_objects(manifest: str, default_namespace: str, *, uninstalled_only: bool = False) -> list[ObjectRef]:
    """Objects a rendered release manifest creates (helm applies namespaced ones to the release
    namespace); with `uninstalled_only`, those `helm uninstall` deletes: all but the ones
    annotated `helm.sh/resource-policy: keep`. Parsed as helm parses it (`helm_yaml`)."""
    refs = []
    for doc in helm_yaml.load_all(manifest or ""):
        if isinstance(doc, dict) and doc.get("kind") and (doc.get("metadata") or {}).get("name"):
            meta = doc["metadata"]
            if uninstalled_only and (meta.get("annotations") or {}).get(HELM_RESOURCE_POLICY) == "keep":
                continue
            refs.append(ObjectRef(kind=doc["kind"], name=meta["name"], api_version=doc.get("apiVersion"),
                                  namespace=meta.get("namespace") or default_namespace))
    return refs


# --- readiness ---------------------------------------------------------------------------

_WORKLOAD_READS = {
    "Deployment": ("read_namespaced_deployment_status", "list_namespaced_deployment"),
    "StatefulSet": ("read_namespaced_stateful_set_status", "list_namespaced_stateful_set"),
    "DaemonSet": ("read_namespaced_daemon_set_status", "list_namespaced_daemon_set"),
}


def workload_readiness(kind: str, obj: Any) -> tuple[bool, str]:
    """(ready, what was seen) for a Deployment, StatefulSet or DaemonSet object, as Helm's
    --wait judges it: the current generation observed and every wanted replica updated and
    available (a rollout still in progress is not ready)."""
    st = obj.status
    observed = (st.observed_generation or 0) >= (obj.metadata.generation or 0)
    if kind == "DaemonSet":
        ready = observed and (st.number_ready or 0) >= (st.desired_number_scheduled or 0)
        return ready, f"{st.number_ready or 0}/{st.desired_number_scheduled or 0} ready"
    want = obj.spec.replicas if obj.spec.replicas is not None else 1
    if kind == "StatefulSet":
        return observed and (st.ready_replicas or 0) >= want, f"{st.ready_replicas or 0}/{want} ready"
    if kind == "Deployment":
        ready = (observed and (st.updated_replicas or 0) >= want and (st.available_replicas or 0) >= want
                 and (st.replicas or 0) <= want)
        return ready, f"{st.available_replicas or 0}/{want} available, {st.updated_replicas or 0} updated"
    raise ValueError(f"{kind} is not a workload kind")


def workload_status(api: client.ApiClient, ref: ObjectRef) -> tuple[bool, str]:
    """(ready, what was seen) for a Deployment, StatefulSet or DaemonSet, read now."""
    if ref.kind not in _WORKLOAD_READS:
        raise ValueError(f"{ref.kind} is not a workload kind")
    obj = read_or_none(getattr(client.AppsV1Api(api), _WORKLOAD_READS[ref.kind][0]), ref.name, ref.namespace)
    return (False, "not found") if obj is None else workload_readiness(ref.kind, obj)


def wait_ready(api: client.ApiClient, refs: Iterable[ObjectRef], timeout: float, poll: float = 1.0) -> dict[str, str]:
    """Wait until every workload is Ready; returns {ref: what was seen} for those that never were."""
    pending = {str(r): r for r in refs if r.kind in WORKLOAD_KINDS}
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for key, ref in list(pending.items()):
            ready, seen[key] = workload_status(api, ref)
            if ready:
                del pending[key]
                seen.pop(key)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return {k: seen[k] for k in pending}


@dataclass(frozen=True)
class Workload:
    """A Deployment, StatefulSet or DaemonSet as listed: its kind (list items carry none) and object."""

    kind: str
    obj: Any

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.obj.metadata.name, self.obj.metadata.namespace)


def _ours(obj: Any, release: str, namespace: str) -> bool:
    return _annotated_for(obj.metadata.annotations or {}, release, namespace)


def _annotated_for(notes: dict[str, str], release: str, namespace: str) -> bool:
    """Helm's release annotations name this release."""
    return notes.get(RELEASE_NAME_ANNOTATION) == release and notes.get(RELEASE_NAMESPACE_ANNOTATION, namespace) == namespace


def release_workloads(api: client.ApiClient, namespace: str, release: str) -> list[Workload]:
    """The release's workloads, found by the annotations Helm puts on every object it manages:
    charts label their objects in many ways (`app`/`release`, `app.kubernetes.io/*`, or not at
    all), but Helm's ownership annotation is always there."""
    apps = client.AppsV1Api(api)
    found = []
    for kind, (_, list_call) in _WORKLOAD_READS.items():
        found += [Workload(kind, obj) for obj in getattr(apps, list_call)(namespace).items
                  if _ours(obj, release, namespace)]
    return found


def label_selector(selector: Any) -> str:
    """A V1LabelSelector as the `label_selector` string the list calls take."""
    parts = [f"{k}={v}" for k, v in sorted((selector.match_labels or {}).items())]
    for expr in selector.match_expressions or []:
        values = ",".join(expr.values or [])
        parts.append({"In": f"{expr.key} in ({values})", "NotIn": f"{expr.key} notin ({values})",
                      "Exists": expr.key, "DoesNotExist": f"!{expr.key}"}[expr.operator])
    return ",".join(parts)


def unready_workloads(api: client.ApiClient, workloads: Iterable[Workload]) -> list[str]:
    """One line per workload that is not ready (`Deployment/ns/x: 0/2 available, 0 updated`),
    each followed by its pods that are not Ready, indented."""
    lines = []
    for w in workloads:
        ready, seen = workload_readiness(w.kind, w.obj)
        if not ready:
            lines += [f"{w.ref}: {seen}", *(f"  {pod}" for pod in unready_pods(api, w))]
    return lines


def unready_others(api: client.ApiClient, namespace: str, release: str) -> list[str]:
    """What else `helm --wait` waits for and is not there yet, one line each with the reason:
    the release's Services (a cluster IP; for a LoadBalancer, an address), its
    PersistentVolumeClaims (bound), and the namespace's hook Jobs (complete: helm waits for a
    hook Job whatever `wait` says, and hook objects carry no release annotation), each Job
    followed by its pods that are not Ready, indented, as a workload is."""
    core, lines = client.CoreV1Api(api), []
    for svc in core.list_namespaced_service(namespace).items:
        if not _ours(svc, release, namespace) or svc.spec.type == "ExternalName":
            continue
        if not svc.spec.cluster_ip:
            lines.append(f"Service/{namespace}/{svc.metadata.name}: no cluster IP")
        elif svc.spec.type == "LoadBalancer" and not svc.spec.external_i_ps and not (
                svc.status.load_balancer and svc.status.load_balancer.ingress):
            lines.append(f"Service/{namespace}/{svc.metadata.name}: no load-balancer address")
    for pvc in core.list_namespaced_persistent_volume_claim(namespace).items:
        if _ours(pvc, release, namespace) and pvc.status.phase != "Bound":
            lines.append(f"PersistentVolumeClaim/{namespace}/{pvc.metadata.name}: not bound ({pvc.status.phase})")
    for job in client.BatchV1Api(api).list_namespaced_job(namespace).items:
        done = {c.type for c in job.status.conditions or [] if c.status == "True"} & {"Complete", "Failed"}
        if "helm.sh/hook" in (job.metadata.annotations or {}) and not done:
            lines.append(f"Job/{namespace}/{job.metadata.name}: not complete (hook; {job.status.active or 0} active, "
                         f"{job.status.succeeded or 0} succeeded, {job.status.failed or 0} failed)")
            if job.spec and job.spec.selector:
                pods = core.list_namespaced_pod(namespace, label_selector=label_selector(job.spec.selector)).items
                lines += [f"  {line}" for line in map(pod_state, pods) if line]
    return lines


def unready_pods(api: client.ApiClient, workload: Workload) -> list[str]:
    """The workload's pods that are not Ready (matched by its selector), one line each."""
    pods = client.CoreV1Api(api).list_namespaced_pod(workload.ref.namespace or "",
                                                     label_selector=label_selector(workload.obj.spec.selector)).items
    return [line for line in map(pod_state, pods) if line]


# --- diagnostics for failed deploys -------------------------------------------------------

def recent_events(api: client.ApiClient, namespace: str, since: datetime | None = None, limit: int = 20) -> list[str]:
    """The namespace's latest events, oldest first, one line each (what `kubectl get events` shows)."""
    items = client.CoreV1Api(api).list_namespaced_event(namespace).items

    def stamp(e: Any) -> datetime:
        t = e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp
        return t if t else datetime.fromtimestamp(0, tz=timezone.utc)

    items = sorted(items, key=stamp)
    if since is not None:
        items = [e for e in items if stamp(e) >= since]
    return [
        f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {(e.message or '').strip()}"
        for e in items[-limit:]
    ]


def pod_state(pod: client.V1Pod) -> str | None:
    """What keeps a pod from being Ready (phase, failing conditions, container waits), or None
    when it is Ready."""
    conds = {c.type: c for c in pod.status.conditions or []}
    if conds.get("Ready") is not None and conds["Ready"].status == "True":
        return None
    bits = [f"phase={pod.status.phase}"]
    for c in conds.values():
        if c.status != "True" and (c.reason or c.message):
            bits.append(f"{c.type}={c.reason or ''} {c.message or ''}".strip())
    for cs in pod.status.container_statuses or []:
        if cs.state and cs.state.waiting:
            bits.append(f"{cs.name} waiting: {cs.state.waiting.reason}")
        if cs.state and cs.state.terminated:
            bits.append(f"{cs.name} terminated: {cs.state.terminated.reason}")
    return f"pod/{pod.metadata.name}: " + "; ".join(bits)


# --- CRDs ----------------------------------------------------------------------------------
# Read as plain JSON (`_preload_content=False`): the typed client builds a model object for
# every node of a CRD's openAPIV3Schema, seconds for a large operator's CRDs, and nothing here
# needs more than a few fields. Independent calls on several CRDs run in parallel threads.

OWNER_ANNOTATION = "helmlife.dev/owner"  # "<namespace>/<release>" whose destroy deletes the CRD
FIELD_MANAGER = "helmlife"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
PARALLEL = 8


def read_json(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """A typed-API call's body as plain JSON data (no models built), or None on 404."""
    response = read_or_none(functools.partial(call, _preload_content=False, **kwargs), *args)
    return None if response is None else json.loads(response.data)


def parallel(fn: Callable[[X], T], items: Iterable[X]) -> list[T]:
    """fn over items in threads (API calls wait on the network, not the CPU), results in order."""
    items = list(items)
    if len(items) < 2:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items))) as pool:
        return list(pool.map(fn, items))


def read_crd(api: client.ApiClient, name: str) -> dict[str, Any] | None:
    return read_json(client.ApiextensionsV1Api(api).read_custom_resource_definition, name)


def kept_crds_of(api: client.ApiClient, release: str, namespace: str) -> list[str]:
    """The CRDs in the cluster that Helm installed for this release and keeps past its uninstall
    (`helm.sh/resource-policy: keep`): what a destroy leaves behind, read after the release's
    record is gone (its objects keep Helm's release annotations)."""
    return sorted(str(meta["name"]) for meta in crd_metadata(api) for notes in [meta.get("annotations") or {}]
                  if _annotated_for(notes, release, namespace) and notes.get(HELM_RESOURCE_POLICY) == "keep")


# The API server's metadata-only list (as `kubectl get --show-kind` asks for it): no schemas.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def get_json(api: client.ApiClient, path: str, accept: str = "application/json", **params: Any) -> Any:
    """GET an API path as plain JSON. Through the dynamic client's `request`, whose arguments
    are the same in every kubernetes client release (`ApiClient.call_api`'s changed in 37);
    `params` are its query options (`label_selector`, ...). Errors are `client.ApiException`s."""
    response = dynamic_client(api).request("get", path, serialize=False, header_params={"Accept": accept}, **params)
    return json.loads(response.data)


def metadata_list(api: client.ApiClient, path: str, label_selector: str | None = None) -> list[dict[str, Any]]:
    """The metadata of every object a list path serves, and nothing else (no CRD schema, no
    Secret data), as plain JSON."""
    found = get_json(api, path, METADATA_ONLY, **({"label_selector": label_selector} if label_selector else {}))
    return [item.get("metadata") or {} for item in found.get("items") or []]


def crd_metadata(api: client.ApiClient) -> list[dict[str, Any]]:
    """Every CRD's metadata: a destroy asks once per release, and the list of whole CRDs built as
    client models was most of the CPU of pre_exec's delete in a 60-chart destroy (py-spy), for a
    few annotations."""
    return metadata_list(api, CRD_PATH)


def crd_owner(crd: dict[str, Any]) -> str | None:
    return ((crd.get("metadata") or {}).get("annotations") or {}).get(OWNER_ANNOTATION)


def _served_version(crd: dict[str, Any]) -> str:
    versions = [v for v in crd["spec"]["versions"] if v.get("served", True)]
    return next((v["name"] for v in versions if v.get("storage")), versions[0]["name"])


def _group(api_version: str | None) -> str:
    return api_version.rsplit("/", 1)[0] if api_version and "/" in api_version else ""


def custom_resources(api: client.ApiClient, crd: dict[str, Any], limit: int) -> list[ObjectRef]:
    """Up to `limit` custom resources stored under a CRD, across all namespaces."""
    spec = crd["spec"]
    body = read_json(client.CustomObjectsApi(api).list_cluster_custom_object,
                     spec["group"], _served_version(crd), spec["names"]["plural"], limit=limit) or {}
    return [ObjectRef(kind=spec["names"]["kind"], name=i["metadata"]["name"], namespace=i["metadata"].get("namespace"),
                      api_version=f"{spec['group']}/{_served_version(crd)}") for i in body.get("items", [])]


def owned_by(api: client.ApiClient, names: Iterable[str], owner: str) -> list[str]:
    """The CRDs among `names` that exist and that no other release claims (see `mark_owner`)."""
    names = sorted(set(names))
    crds = parallel(lambda n: read_crd(api, n), names)
    return [n for n, crd in zip(names, crds) if crd is not None and crd_owner(crd) in (None, owner)]


def custom_resources_left(api: client.ApiClient, names: Iterable[str], *, removed: Iterable[ObjectRef] = (),
                          cap: int = 5) -> dict[str, list[str]]:
    """For each CRD that still stores custom resources, up to `cap` + 1 of them ("Kind/ns/name").

    Only existence matters, so each CRD costs one read and one list of at most
    1 + (objects of its kind in `removed`) items; names are listed, capped, only for the CRDs
    that hold some. Objects in `removed` (what `helm uninstall` is about to delete) do not count.
    """
    removed = list(removed)

    def key(ref: ObjectRef, namespaced: bool) -> tuple[str, str, str | None, str]:
        return _group(ref.api_version), ref.kind, ref.namespace if namespaced else None, ref.name

    def one(name: str) -> list[str]:
        crd = read_crd(api, name)
        if crd is None:
            return []
        namespaced = crd["spec"].get("scope") == "Namespaced"
        kind = (crd["spec"]["group"], crd["spec"]["names"]["kind"])
        skip = {key(r, namespaced) for r in removed if (_group(r.api_version), r.kind) == kind}
        left = [r for r in custom_resources(api, crd, 1 + len(skip)) if key(r, namespaced) not in skip]
        if left:  # one more than shown, so the message can say there are more
            left = [r for r in custom_resources(api, crd, cap + 1 + len(skip)) if key(r, namespaced) not in skip]
        return [f"{r.kind}/{r.namespace or '-'}/{r.name}" for r in left[:cap + 1]]

    names = sorted(set(names))
    return {n: objs for n, objs in zip(names, parallel(one, names)) if objs}


def delete_crds(api: client.ApiClient, names: Iterable[str], timeout: float, poll: float = 0.2) -> list[str]:
    """Delete CRDs and wait until the API server no longer serves them; returns those deleted."""
    ext = client.ApiextensionsV1Api(api)
    names = sorted(set(names))
    deleted = [n for n, gone in zip(names, parallel(lambda n: read_json(ext.delete_custom_resource_definition, n), names))
               if gone is not None]
    deadline = time.monotonic() + timeout
    remaining = names
    while remaining:
        remaining = [n for n, crd in zip(remaining, parallel(lambda n: read_crd(api, n), remaining)) if crd is not None]
        if not remaining:
            break
        if time.monotonic() >= deadline:
            raise TimeoutError(f"CRDs still present after {timeout:.0f}s: {', '.join(remaining)}")
        time.sleep(poll)
    return deleted


def apply_crds(api: client.ApiClient, docs: Iterable[dict[str, Any]]) -> list[str]:
    """Server-side apply CRD documents (field manager `helmlife`, taking over the fields helm
    set when it created them); returns their names. The typed client cannot send an apply patch
    (it picks the content type itself); the dynamic client can, in every client release."""
    crds = dynamic_client(api).resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")

    def one(doc: dict[str, Any]) -> str:
        name = doc["metadata"]["name"]
        crds.server_side_apply(body=doc, name=name, field_manager=FIELD_MANAGER, force_conflicts=True, serialize=False)
        return name

    return parallel(one, docs)


def mark_owner(api: client.ApiClient, names: Iterable[str], owner: str) -> list[str]:
    """Annotate existing CRDs with the release whose destroy deletes them; returns those changed.
    Absent CRDs and CRDs already marked are left alone (a read is much cheaper than a patch,
    which makes the API server validate the whole schema again)."""
    ext = client.ApiextensionsV1Api(api)
    patch = {"metadata": {"annotations": {OWNER_ANNOTATION: owner}}}

    def one(name: str) -> str | None:
        crd = read_crd(api, name)
        if crd is None or crd_owner(crd) == owner:
            return None
        return name if read_json(ext.patch_custom_resource_definition, name, patch) is not None else None

    return [n for n in parallel(one, sorted(set(names))) if n]


def read_or_none(read: Callable[..., T], *args: Any) -> T | None:
    """A read call's result, or None on 404: "absent" is an answer, not an error, here."""
    try:
        return read(*args)
    except client.ApiException as err:
        if err.status == 404:
            return None
        raise


# --- adoption ------------------------------------------------------------------------------

def adopt(api: client.ApiClient, ref: ObjectRef, release: str, namespace: str) -> bool:
    """Mark a live object as owned by a Helm release, so `helm install` takes it over.

    Returns False when the object does not exist (nothing to adopt).
    """
    dyn = dynamic.DynamicClient(api)
    try:
        resource = dyn.resources.get(kind=ref.kind, **({"api_version": ref.api_version} if ref.api_version else {}))
    except dynamic.exceptions.ResourceNotFoundError:
        raise ValueError(f"adopt: kind {ref.kind!r} is not served by the cluster") from None
    patch = {"metadata": {"annotations": {RELEASE_NAME_ANNOTATION: release, RELEASE_NAMESPACE_ANNOTATION: namespace},
                          "labels": {MANAGED_BY_LABEL: "Helm"}}}
    kwargs = {"namespace": ref.namespace} if resource.namespaced else {}
    try:
        resource.patch(body=patch, name=ref.name, content_type="application/merge-patch+json", **kwargs)
    except dynamic.exceptions.NotFoundError:
        return False
    return True


_discovery: dict[int, dynamic.DynamicClient] = {}


def dynamic_client(api: client.ApiClient) -> dynamic.DynamicClient:
    """The dynamic client of an ApiClient: discovery is done once per ApiClient (and asked
    again when a kind is not found)."""
    return _discovery.get(id(api)) or _discovery.setdefault(id(api), dynamic.DynamicClient(api))


def object_exists(api: client.ApiClient, obj: dict[str, Any], default_namespace: str) -> bool:
    """Whether a manifest object exists in the cluster (a kind the cluster no longer serves
    counts as absent)."""
    dyn = dynamic_client(api)
    meta = obj.get("metadata") or {}
    try:
        resource = dyn.resources.get(api_version=obj.get("apiVersion"), kind=obj.get("kind"))
    except dynamic.exceptions.ResourceNotFoundError:
        return False
    kwargs = {"namespace": meta.get("namespace") or default_namespace} if resource.namespaced else {}
    try:
        resource.get(name=meta.get("name"), **kwargs)
    except dynamic.exceptions.NotFoundError:
        return False
    return True


def namespace_exists(api: client.ApiClient, name: str) -> bool:
    return read_or_none(client.CoreV1Api(api).read_namespace, name) is not None
