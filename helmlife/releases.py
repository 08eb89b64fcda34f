"""Helm's own record of a release: the `sh.helm.release.v1.<name>.v<revision>` Secrets.

Reading them with the kubernetes client answers "what does Helm have?" in one API call,
without a helm subprocess: status (deployed, failed, pending-install, ...), revision, chart
version and the manifest it applied. The record's `release` field is base64 of gzipped
JSON (on top of the Secret's own base64), as Helm 3's secrets driver writes it.
"""
from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client

PENDING = ("pending-install", "pending-upgrade", "pending-rollback")


@dataclass(frozen=True)
class ReleaseRecord:
    name: str
    namespace: str
    revision: int
    status: str
    chart_version: str | None
    app_version: str | None
    manifest: str
    config: dict[str, Any]

    @property
    def live(self) -> bool:
        """A release that exists for helm (anything but uninstalled)."""
        return self.status != "uninstalled"


def decode(data: str) -> dict[str, Any]:
    raw = base64.b64decode(base64.b64decode(data))
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def latest(api: client.ApiClient, name: str, namespace: str) -> ReleaseRecord | None:
    """The newest revision Helm stores for the release, or None when it has none."""
    return _record(api, name, namespace, f"owner=helm,name={name}")


def revision(api: client.ApiClient, name: str, namespace: str, number: int) -> ReleaseRecord | None:
    """One stored revision (Helm keeps the last ten by default), or None."""
    return _record(api, name, namespace, f"owner=helm,name={name},version={number}")


def live(api: client.ApiClient, name: str, namespace: str) -> bool:
    """Whether Helm has the release (any status but uninstalled), read from the `status` label
    Helm keeps on its newest record: no decoding of the record, for the drift check that every
    diff of a release makes (the engine runs diffs one at a time)."""
    newest = _newest(api, namespace, f"owner=helm,name={name}")
    return newest is not None and (newest.metadata.labels or {}).get("status") != "uninstalled"


def _newest(api: client.ApiClient, namespace: str, selector: str) -> client.V1Secret | None:
    secrets = client.CoreV1Api(api).list_namespaced_secret(namespace, label_selector=selector).items
    return max(secrets, key=lambda s: int((s.metadata.labels or {}).get("version", 0))) if secrets else None


def _record(api: client.ApiClient, name: str, namespace: str, selector: str) -> ReleaseRecord | None:
    newest = _newest(api, namespace, selector)
    if newest is None:
        return None
    doc = decode(newest.data["release"])
    meta = (doc.get("chart") or {}).get("metadata") or {}
    return ReleaseRecord(
        name=name, namespace=namespace, revision=int(doc.get("version", 0)),
        status=(doc.get("info") or {}).get("status", ""), chart_version=meta.get("version"),
        app_version=meta.get("appVersion"), manifest=doc.get("manifest") or "", config=doc.get("config") or {},
    )
