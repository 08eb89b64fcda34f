"""A step that failed because the cluster did not answer says so, and says which cluster.

Deep inside the kubernetes client or helm, an API server that is down shows as "connection
refused" with a host and port at best, and looks like the step's own failure ("deploy failed",
"validate check failed"). With one stack per environment the first question is *which*
cluster, so the provider re-raises such failures naming the kubeconfig's context and server,
and what to do: once the cluster answers, `pulumi up` again resumes (a release the outage left
pending is remediated by pre_exec first).
"""
from __future__ import annotations

import contextlib
from typing import Iterator
from urllib.parse import urlparse

import yaml

# How a connection failure reads in helm's output and in the kubernetes client's (urllib3) errors.
SIGNS = ("connection refused", "max retries exceeded", "no route to host", "i/o timeout", "no such host",
         "connection reset", "tls handshake timeout", "timed out")
HELM_UNREACHABLE = "Kubernetes cluster unreachable"


class ClusterUnreachable(RuntimeError):
    """The step could not talk to the cluster; the message names it."""


def cluster_of(kubeconfig: str, context: str | None) -> tuple[str, str]:
    """(context name, API server URL) the kubeconfig content points at; '?' where it does not say."""
    try:
        doc = yaml.safe_load(kubeconfig) or {}
        name = context or doc.get("current-context") or "?"
        ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == name), {})
        cluster = next((c.get("cluster") or {} for c in doc.get("clusters") or [] if c.get("name") == ctx.get("cluster")), {})
        return name, cluster.get("server") or "?"
    except (yaml.YAMLError, AttributeError):
        return context or "?", "?"


def is_unreachable(err: BaseException, server: str) -> bool:
    """True when `err` is about not reaching `server`, not about the step's own work (a refused
    connection to an HTTP check's URL is a failed check, not a missing cluster)."""
    text = str(err)
    if HELM_UNREACHABLE in text:
        return True
    url = urlparse(server)
    mentions = bool(url.netloc) and (url.netloc in text or f"host='{url.hostname}', port={url.port}" in text)
    return mentions and any(sign in text.lower() for sign in SIGNS)


@contextlib.contextmanager
def naming_cluster(kubeconfig: str, context: str | None) -> Iterator[None]:
    """Re-raise a failure to reach the cluster as `ClusterUnreachable`; anything else as it is."""
    try:
        yield
    except Exception as err:
        name, server = cluster_of(kubeconfig, context)
        if not is_unreachable(err, server):
            raise
        raise ClusterUnreachable(
            f"cannot reach the Kubernetes cluster of context {name!r} at {server} (the stack's "
            f"helmlife:kubeconfig_path, or HELMLIFE_KUBECONFIG): {err}\n"
            "Nothing is lost: once the cluster answers, run `pulumi up` again and it resumes from here "
            "(a release the outage left pending is rolled back or reinstalled first)."
        ) from err
