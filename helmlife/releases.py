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
from datetime import datetime
from typing import Any

from . import kube
from .k8s import client

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
    chart_name: str | None = None
    description: str | None = None  # info.description: a Release helmlife declared writes "helmlife <token>"
    # When this revision was deployed (Helm's `info.last_deployed`): unlike the revision number,
    # it changes on every install, including a reinstall that starts again at revision 1.
    last_deployed: str | None = None

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


def _newest(api: client.ApiClient, namespace: str, selector: str) -> dict[str, Any] | None:
    """The newest revision's Secret as the API server sends it, parsed as plain JSON: the
    client's models for every stored revision (each a whole gzipped release) took 1.3 ms of CPU
    per read of a one-revision release against 0.85 ms, more with history, and every chart reads
    its record at every preview."""
    secrets = kube.read_json(client.CoreV1Api(api).list_namespaced_secret, namespace, label_selector=selector)["items"]
    return max(secrets, key=lambda s: int((s["metadata"].get("labels") or {}).get("version", 0))) if secrets else None


def _record(api: client.ApiClient, name: str, namespace: str, selector: str) -> ReleaseRecord | None:
    newest = _newest(api, namespace, selector)
    if newest is None:
        return None
    doc = decode(newest["data"]["release"])
    meta = (doc.get("chart") or {}).get("metadata") or {}
    return ReleaseRecord(
        name=name, namespace=namespace, revision=int(doc.get("version", 0)),
        status=(doc.get("info") or {}).get("status", ""), chart_version=meta.get("version"),
        app_version=meta.get("appVersion"), manifest=doc.get("manifest") or "", config=doc.get("config") or {},
        chart_name=meta.get("name"), description=(doc.get("info") or {}).get("description"),
        last_deployed=(doc.get("info") or {}).get("last_deployed"),
    )


# The chart version Helm had when validate's delete, the first of a chart's deletes, read its
# record; pre_exec's delete, after the uninstall removed that record, tells the `teardown` hooks
# this version (pre_exec's own recorded target is another after an upgrade that helm rolled
# back). Both deletes run in the one process of the cluster's steps provider, in one operation;
# without a note (a delete that failed in between, run again later) pre_exec's target stands in.
_before_uninstall: dict[tuple[str, str | None, str, str], str] = {}


def note_before_uninstall(kubeconfig: str, context: str | None, record: ReleaseRecord) -> None:
    if record.live and record.chart_version:
        _before_uninstall[(kubeconfig, context, record.namespace, record.name)] = record.chart_version


def version_before_uninstall(kubeconfig: str, context: str | None, name: str, namespace: str) -> str | None:
    """The version noted by `note_before_uninstall` in this process, once."""
    return _before_uninstall.pop((kubeconfig, context, namespace, name), None)


@dataclass(frozen=True)
class Revision:
    """One stored revision as Helm labels its Secret: enough to spot a stuck release without
    decoding it. `created` is when helm wrote the Secret, so a pending revision's age is how
    long its operation has been running."""

    revision: int
    status: str
    created: datetime


def revisions(api: client.ApiClient, name: str, namespace: str) -> list[Revision]:
    """Every revision Helm stores for the release, oldest first ([] when it has none), from the
    Secrets' metadata alone (each Secret's data is a whole gzipped release)."""
    found = [Revision(int(labels.get("version", 0)), labels.get("status", ""),
                      datetime.fromisoformat(str(meta["creationTimestamp"]).replace("Z", "+00:00")))
             for meta in kube.metadata_list(api, f"/api/v1/namespaces/{namespace}/secrets", f"owner=helm,name={name}")
             for labels in [meta.get("labels") or {}]]
    return sorted(found, key=lambda r: r.revision)
