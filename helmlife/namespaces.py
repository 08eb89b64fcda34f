"""The release namespace: created by helmlife when asked, and removed again only when it is
helmlife's and nothing of anyone else's is left in it.

`create_namespace` used to be only helm's `--create-namespace`, after which nobody knew who had
made the namespace, so a destroy could never safely remove it. pre_exec now creates it with
the kubernetes client and marks it with `CREATED_BY` (the release's name). The mark lives on
the namespace itself, not only in Pulumi state: it survives pre_exec re-running on a namespace
that already exists, and a namespace someone deleted and made again by hand is not ours.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .k8s import client, dynamic
from .kube import read_or_none

CREATED_BY = "helmlife.dev/created-by-release"
# What the control plane itself puts into every namespace, or derives from other objects:
# these never make a namespace "in use".
SYSTEM_OBJECTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}
# Kinds that only mirror or describe other objects (Services, anything that emits events).
DERIVED_KINDS = {("", "Event"), ("events.k8s.io", "Event"), ("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice")}
DERIVED_GROUPS = {"metrics.k8s.io"}


def ensure(api: client.ApiClient, name: str, release: str) -> bool:
    """Create the namespace, marked as this release's, if it is missing.

    Returns whether helmlife created it for this release (now or on an earlier run)."""
    core = client.CoreV1Api(api)
    ns = read_or_none(core.read_namespace, name)
    if ns is None:
        body = client.V1Namespace(metadata=client.V1ObjectMeta(name=name, annotations={CREATED_BY: release}))
        try:
            core.create_namespace(body)
            return True
        except client.ApiException as err:
            if err.status != 409:  # made by someone else in between: theirs
                raise
        ns = core.read_namespace(name)
    return created_by(ns) == release


def created_by(ns: client.V1Namespace) -> str | None:
    return (ns.metadata.annotations or {}).get(CREATED_BY)


def leftovers(api: client.ApiClient, name: str) -> list[str]:
    """`Kind/name` of every object that makes the namespace non-empty.

    Not counted: what Kubernetes puts into every namespace (`kube-root-ca.crt`, the `default`
    ServiceAccount and its token Secrets), events, Endpoints/EndpointSlices (they mirror
    Services), objects already being deleted, and objects with an owner (the garbage collector
    removes them with it; while the owner lives in the namespace, the owner is counted)."""
    dyn = dynamic.DynamicClient(api)
    dyn.resources.invalidate_cache()  # CRDs installed since the last discovery count too
    found: list[str] = []
    for res in dyn.resources.search():
        if (isinstance(res, dynamic.resource.ResourceList) or not res.namespaced or not res.preferred
                or "list" not in (res.verbs or []) or "/" in res.name
                or (res.group, res.kind) in DERIVED_KINDS or res.group in DERIVED_GROUPS):
            continue
        for item in res.get(namespace=name).items:
            meta = item.metadata
            if meta.deletionTimestamp or meta.ownerReferences or _system(res.kind, item):
                continue
            found.append(f"{res.kind}/{meta.name}")
    return sorted(found)


def _system(kind: str, item: object) -> bool:
    meta = item.metadata  # type: ignore[attr-defined]
    if (kind, meta.name) in SYSTEM_OBJECTS:
        return True
    annotations = meta.annotations or {}
    return (kind == "Secret" and getattr(item, "type", None) == "kubernetes.io/service-account-token"
            and annotations.get("kubernetes.io/service-account.name") == "default")


@dataclass(frozen=True)
class Outcome:
    """What happened to the namespace at destroy, in a sentence for the output."""

    deleted: bool
    reason: str


def delete_if_created_and_empty(api: client.ApiClient, name: str, release: str, timeout: float,
                                poll: float = 0.5) -> Outcome:
    """Delete the namespace if this release created it and it is empty; wait until it is gone
    (bounded by `timeout`), so a following `up` does not meet a terminating namespace."""
    core = client.CoreV1Api(api)
    ns = read_or_none(core.read_namespace, name)
    if ns is None:
        return Outcome(False, f"namespace {name} is already gone")
    owner = created_by(ns)
    if owner != release:
        who = "by hand or by another tool" if owner is None else f"for release {owner}"
        return Outcome(False, f"kept namespace {name}: helmlife did not create it for {release} (it was made {who})")
    left = leftovers(api, name)
    if left:
        shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        return Outcome(False, f"kept namespace {name}: it still holds {shown}")
    read_or_none(core.delete_namespace, name)  # already gone (404) is fine
    deadline = time.monotonic() + timeout
    while read_or_none(core.read_namespace, name) is not None:
        if time.monotonic() >= deadline:
            return Outcome(True, f"deleted namespace {name} (created by helmlife for {release}, empty); "
                                 f"still terminating after {timeout:.0f}s")
        time.sleep(poll)
    return Outcome(True, f"deleted namespace {name} (created by helmlife for {release}, empty)")
