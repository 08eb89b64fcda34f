"""Failures to reach the cluster name it; other failures pass through unchanged."""
from __future__ import annotations

import pytest
import yaml

from helmlife.unreachable import ClusterUnreachable, cluster_of, is_unreachable, naming_cluster

SERVER = "https://127.0.0.1:32739"
KUBECONFIG = yaml.safe_dump({
    "clusters": [{"name": "c1", "cluster": {"server": SERVER}}, {"name": "c2", "cluster": {"server": "https://prod:6443"}}],
    "contexts": [{"name": "dev", "context": {"cluster": "c1"}}, {"name": "prod", "context": {"cluster": "c2"}}],
    "current-context": "dev",
})


def test_cluster_of_follows_the_context() -> None:
    assert cluster_of(KUBECONFIG, None) == ("dev", SERVER)
    assert cluster_of(KUBECONFIG, "prod") == ("prod", "https://prod:6443")
    assert cluster_of(": not yaml [", None) == ("?", "?")


@pytest.mark.parametrize(("text", "expected"), [
    ('Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:32739/version": dial tcp: connect: connection refused', True),
    ("HTTPSConnectionPool(host='127.0.0.1', port=32739): Max retries exceeded with url: /api/v1/namespaces", True),
    ("validate check 'web' failed: GET http://127.0.0.1:8080/healthz: [Errno 111] Connection refused", False),
    ("steady: deploy failed: Error: UPGRADE FAILED: another operation is in progress", False),
])
def test_only_failures_to_reach_the_server_count(text: str, expected: bool) -> None:
    assert is_unreachable(RuntimeError(text), SERVER) is expected


def test_naming_cluster_rewrites_only_unreachable_failures() -> None:
    with pytest.raises(ClusterUnreachable, match=r"(?s)context 'dev' at https://127\.0\.0\.1:32739.*run `pulumi up` again"):
        with naming_cluster(KUBECONFIG, None):
            raise RuntimeError("HTTPSConnectionPool(host='127.0.0.1', port=32739): Max retries exceeded")
    with pytest.raises(ValueError, match="^its own failure$"):
        with naming_cluster(KUBECONFIG, None):
            raise ValueError("its own failure")
