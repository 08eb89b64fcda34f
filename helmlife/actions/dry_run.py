"""dry_run: the rendered objects checked by the cluster's API, as `kubectl apply --dry-run=server`.

A chart without values.schema.json takes `replicas: two`; its templates print it, and nothing
complains until helm sends the Deployment at `up`, after the pre_exec hooks and adoption ran
(and `helm template`, the render's fallback, never asks the cluster at all). Each object of a
render is sent to the API server with `dryRun=All`: it decodes, defaults, validates and
admits the object exactly as for a real apply, and stores nothing. Objects are server-side
applied (a live object is judged as changed); one whose namespace does not exist yet
(`create_namespace`) is created in `default` instead, since the API server refuses anything in
a missing namespace before looking at it. Only the objects' kinds and fields are judged, so an
object of that name already there counts as passed.
"""
from __future__ import annotations

import base64
import json
import threading
from typing import Any, Iterable

from .. import kube, manifests
from ..k8s import client, dynamic

FIELD_MANAGER = "helmlife-preview"
DRY_RUN_NAMESPACE = "default"  # where an object of a namespace not created yet is checked
_discovering = threading.Lock()  # renders run in parallel threads; the discovery cache is not thread-safe


def _reason(err: client.ApiException) -> str:
    """The API server's explanation: its message, and each field it names."""
    try:
        body = json.loads(err.body or "{}")
    except (TypeError, ValueError):
        return f"{err.status} {err.reason}"
    causes = [f"{c.get('field')}: {c.get('message')}" for c in (body.get("details") or {}).get("causes") or []
              if c.get("field")]
    message = body.get("message") or f"{err.status} {err.reason}"
    return message if not causes or all(c in message for c in causes) else f"{message} ({'; '.join(causes)})"


def _resource(api: client.ApiClient, obj: dict[str, Any]) -> Any | None:
    """The API resource serving the object's kind, or None.

    A kind the cluster does not serve yet has no resource: the chart's own CRDs (crds/ or
    templates) create it during the install, or another chart of the stack that this one
    depends on does. Its objects cannot be checked before that CRD exists; helm checks them
    at `up`, and an install of a kind nobody defines fails there.
    """
    try:
        with _discovering:
            return kube.dynamic_client(api).resources.get(api_version=obj.get("apiVersion"), kind=obj.get("kind"))
    except dynamic.exceptions.ResourceNotFoundError:
        return None


def _check(api: client.ApiClient, resource: Any, obj: dict[str, Any], namespace: str | None,
           replacing: bool) -> str | None:
    """Why the API server refuses the object, or None when it accepts it (or cannot judge it).
    `namespace` is where it goes (None: cluster-scoped), DRY_RUN_NAMESPACE if that is missing."""
    name = (obj.get("metadata") or {}).get("name")
    where = {"namespace": namespace} if namespace else {}
    body = {**obj, "metadata": {**obj["metadata"], **where}}
    options = {"field_manager": FIELD_MANAGER, "dry_run": "All", **where}
    try:
        if replacing or namespace == DRY_RUN_NAMESPACE:
            resource.create(body=body, **options)
        else:
            resource.server_side_apply(body=body, name=name, force_conflicts=True, **options)
    except (dynamic.exceptions.ConflictError, dynamic.exceptions.NotFoundError):
        # Taken: an object of that name is already where it was checked. Not found: the kind
        # or the namespace went away since discovery. Neither says anything of the fields.
        return None
    except client.ApiException as err:
        return _reason(err)
    return None


def refused(api: client.ApiClient, manifest: str, namespace: str, secrets: Iterable[str],
            replacing: bool = False) -> list[str]:
    """"Kind/namespace/name: the API server's reason" for every object it refuses; secret
    values, should the server quote one, are masked. `replacing`: the live objects are about
    to be deleted (a breaking-version reinstall, `force_upgrade`), so each object is judged as
    created, not as a change to what is live (which may not allow it, e.g. a new selector)."""
    objs = manifests.objects(manifest, namespace)
    served = [(key, resource, obj) for key, obj in objs.items() if (resource := _resource(api, obj)) is not None]
    wanted = {(obj.get("metadata") or {}).get("namespace") or namespace for _, r, obj in served if r.namespaced}
    present = {ns for ns in wanted if kube.namespace_exists(api, ns)}

    def target(resource: Any, obj: dict[str, Any]) -> str | None:
        if not resource.namespaced:
            return None
        ns = (obj.get("metadata") or {}).get("namespace") or namespace
        return ns if ns in present else DRY_RUN_NAMESPACE

    reasons = kube.parallel(lambda item: _check(api, item[1], item[2], target(item[1], item[2]), replacing), served)
    hidden = [form for s in secrets if s for form in (s, base64.b64encode(s.encode()).decode())]
    found = []
    for (key, _, _), reason in zip(served, reasons):
        if reason is not None:
            for secret in hidden:
                reason = reason.replace(secret, "[secret]")
            found.append(f"{key}: {reason}")
    return found
