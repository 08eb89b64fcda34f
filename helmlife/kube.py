"""Thin helpers over the kubernetes Python client: the few cluster questions lifecycle steps ask.

Every helper takes an `ApiClient` built from the same kubeconfig the release uses, so a
step never talks to a different cluster than helm does.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, TypeVar

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from .manifests import documents

RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
INSTANCE_LABEL = "app.kubernetes.io/instance"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
T = TypeVar("T")


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


def manifest_objects(manifest: str, default_namespace: str) -> list[ObjectRef]:
    """Objects a rendered release manifest creates (helm applies namespaced ones to the release namespace)."""
    refs = []
    for doc in documents(manifest):
        if isinstance(doc, dict) and doc.get("kind") and doc.get("metadata", {}).get("name"):
            meta = doc["metadata"]
            refs.append(
                ObjectRef(
                    kind=doc["kind"],
                    name=meta["name"],
                    namespace=meta.get("namespace") or default_namespace,
                    api_version=doc.get("apiVersion"),
                )
            )
    return refs


# --- readiness ---------------------------------------------------------------------------

def workload_status(api: client.ApiClient, ref: ObjectRef) -> tuple[bool, str]:
    """(ready, what was seen) for a Deployment, StatefulSet or DaemonSet."""
    apps = client.AppsV1Api(api)
    try:
        if ref.kind == "Deployment":
            obj = apps.read_namespaced_deployment_status(ref.name, ref.namespace)
            want = obj.spec.replicas if obj.spec.replicas is not None else 1
            st = obj.status
            ready = (
                (st.observed_generation or 0) >= obj.metadata.generation
                and (st.updated_replicas or 0) >= want
                and (st.available_replicas or 0) >= want
                and (st.replicas or 0) <= want
            )
            return ready, f"{st.available_replicas or 0}/{want} available, {st.updated_replicas or 0} updated"
        if ref.kind == "StatefulSet":
            obj = apps.read_namespaced_stateful_set_status(ref.name, ref.namespace)
            want = obj.spec.replicas if obj.spec.replicas is not None else 1
            st = obj.status
            ready = (st.ready_replicas or 0) >= want and (st.observed_generation or 0) >= obj.metadata.generation
            return ready, f"{st.ready_replicas or 0}/{want} ready"
        if ref.kind == "DaemonSet":
            obj = apps.read_namespaced_daemon_set_status(ref.name, ref.namespace)
            st = obj.status
            ready = (
                st.number_ready == st.desired_number_scheduled
                and (st.observed_generation or 0) >= obj.metadata.generation
            )
            return ready, f"{st.number_ready}/{st.desired_number_scheduled} ready"
    except ApiException as err:
        if err.status == 404:
            return False, "not found"
        raise
    raise ValueError(f"{ref.kind} is not a workload kind")


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


def pod_states(api: client.ApiClient, namespace: str, selector: str | None = None) -> list[str]:
    """One line per pod that is not Ready: phase, failing conditions and container waits."""
    lines = []
    for pod in client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector or "").items:
        conds = {c.type: c for c in pod.status.conditions or []}
        if conds.get("Ready") is not None and conds["Ready"].status == "True":
            continue
        bits = [f"phase={pod.status.phase}"]
        for c in conds.values():
            if c.status != "True" and (c.reason or c.message):
                bits.append(f"{c.type}={c.reason or ''} {c.message or ''}".strip())
        for cs in pod.status.container_statuses or []:
            if cs.state and cs.state.waiting:
                bits.append(f"{cs.name} waiting: {cs.state.waiting.reason}")
            if cs.state and cs.state.terminated:
                bits.append(f"{cs.name} terminated: {cs.state.terminated.reason}")
        lines.append(f"pod/{pod.metadata.name}: " + "; ".join(bits))
    return lines


# --- CRDs ----------------------------------------------------------------------------------

def read_or_none(read: Callable[..., T], *args: Any) -> T | None:
    """A read call's result, or None on 404: "absent" is an answer, not an error, here."""
    try:
        return read(*args)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def crd_exists(api: client.ApiClient, name: str) -> bool:
    return read_or_none(client.ApiextensionsV1Api(api).read_custom_resource_definition, name) is not None


def custom_resources_left(api: client.ApiClient, crd_name: str) -> list[str]:
    """Names of the custom resources still stored for a CRD, across all namespaces."""
    crd = read_or_none(client.ApiextensionsV1Api(api).read_custom_resource_definition, crd_name)
    if crd is None:
        return []
    version = next((v.name for v in crd.spec.versions if v.storage), crd.spec.versions[0].name)
    objs = client.CustomObjectsApi(api)
    group, plural = crd.spec.group, crd.spec.names.plural
    items = objs.list_cluster_custom_object(group, version, plural).get("items", [])
    return [
        f"{crd.spec.names.kind}/{i['metadata'].get('namespace', '-')}/{i['metadata']['name']}" for i in items
    ]


def delete_crds(api: client.ApiClient, names: Iterable[str], timeout: float, poll: float = 0.5) -> list[str]:
    """Delete CRDs and wait until the API server no longer serves them; returns those deleted."""
    ext = client.ApiextensionsV1Api(api)
    deleted = []
    for name in names:
        try:
            ext.delete_custom_resource_definition(name)
            deleted.append(name)
        except ApiException as err:
            if err.status != 404:
                raise
    deadline = time.monotonic() + timeout
    remaining = list(names)
    while remaining and time.monotonic() < deadline:
        remaining = [n for n in remaining if crd_exists(api, n)]
        if remaining:
            time.sleep(poll)
    if remaining:
        raise TimeoutError(f"CRDs still present after {timeout:.0f}s: {', '.join(remaining)}")
    return deleted


# --- adoption ------------------------------------------------------------------------------

def adopt(api: client.ApiClient, ref: ObjectRef, release: str, namespace: str) -> bool:
    """Mark a live object as owned by a Helm release, so `helm install` takes it over.

    Returns False when the object does not exist (nothing to adopt).
    """
    dyn = DynamicClient(api)
    try:
        resource = dyn.resources.get(kind=ref.kind, api_version=ref.api_version) if ref.api_version else dyn.resources.get(kind=ref.kind)
    except ResourceNotFoundError:
        raise ValueError(f"adopt: kind {ref.kind!r} is not served by the cluster") from None
    patch = {
        "metadata": {
            "annotations": {RELEASE_NAME_ANNOTATION: release, RELEASE_NAMESPACE_ANNOTATION: namespace},
            "labels": {MANAGED_BY_LABEL: "Helm"},
        }
    }
    kwargs = {"namespace": ref.namespace} if resource.namespaced else {}
    try:
        resource.patch(body=patch, name=ref.name, content_type="application/merge-patch+json", **kwargs)
    except NotFoundError:
        return False
    return True


_discovery: dict[int, DynamicClient] = {}


def object_exists(api: client.ApiClient, obj: dict[str, Any], default_namespace: str) -> bool:
    """Whether a manifest object exists in the cluster (a kind the cluster no longer serves
    counts as absent). Discovery is done once per ApiClient."""
    dyn = _discovery.setdefault(id(api), DynamicClient(api))
    meta = obj.get("metadata") or {}
    try:
        resource = dyn.resources.get(api_version=obj.get("apiVersion"), kind=obj.get("kind"))
    except ResourceNotFoundError:
        return False
    kwargs = {"namespace": meta.get("namespace") or default_namespace} if resource.namespaced else {}
    try:
        resource.get(name=meta.get("name"), **kwargs)
    except NotFoundError:
        return False
    return True


def namespace_exists(api: client.ApiClient, name: str) -> bool:
    return read_or_none(client.CoreV1Api(api).read_namespace, name) is not None
