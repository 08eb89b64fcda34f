"""diagnose: what a person looks at next when a deploy fails, gathered inside the failure."""
from __future__ import annotations

from datetime import datetime


from .. import kube
from ..k8s import client


def cluster_view(api: client.ApiClient, namespace: str, release: str, since: datetime) -> list[str]:
    """Events since the attempt started and the release's unready pods, best effort."""
    lines: list[str] = []
    try:
        lines += [f"  event: {e}" for e in kube.recent_events(api, namespace, since=since)]
        lines += [f"  {p}" for p in kube.pod_states(api, namespace, f"{kube.INSTANCE_LABEL}={release}")]
    except Exception as err:  # noqa: BLE001 - diagnostics must not hide the real failure
        lines.append(f"  (could not read events/pods: {err})")
    return lines
