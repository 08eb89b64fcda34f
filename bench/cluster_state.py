"""The cluster between two timed runs: every tool's `up` starts from the same empty state.

Namespaces are made once, before anything is timed, and kept (every tool passes
`--create-namespace`, which then costs the same for all). What one tool's destroy leaves
behind on purpose is removed untimed: helm never deletes CRDs on uninstall (helmlife does,
in pre_exec's delete), and the demo post_exec hook writes a ConfigMap outside the release.
A Helm release still present after a destroy is a failure of that tool, and stops the run.
"""
from __future__ import annotations

import time
from pathlib import Path

from kubernetes import client, config

from fleet import CRD_GROUP_SUFFIX, NAMESPACE_PREFIX


class Cluster:
    def __init__(self, kubeconfig: Path) -> None:
        self.api = config.new_client_from_config(str(kubeconfig))
        self.core = client.CoreV1Api(self.api)
        self.ext = client.ApiextensionsV1Api(self.api)

    def ensure_namespaces(self, n: int) -> None:
        have = {ns.metadata.name for ns in self.core.list_namespace().items}
        for i in range(n):
            name = f"{NAMESPACE_PREFIX}{i:03d}"
            if name not in have:
                self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def namespaces(self) -> list[str]:
        return sorted(ns.metadata.name for ns in self.core.list_namespace().items
                      if ns.metadata.name.startswith(NAMESPACE_PREFIX))

    def releases(self) -> list[str]:
        """namespace/name of every Helm release stored in the benchmark's namespaces."""
        found = set()
        for ns in self.namespaces():
            for s in self.core.list_namespaced_secret(ns, label_selector="owner=helm").items:
                found.add(f"{ns}/{s.metadata.labels.get('name')}")
        return sorted(found)

    def crds(self) -> list[str]:
        return sorted(c.metadata.name for c in self.ext.list_custom_resource_definition().items
                      if c.spec.group.endswith(CRD_GROUP_SUFFIX))

    def reset(self, timeout: float = 120.0) -> None:
        """Remove what destroys leave by design (CRDs, hook ConfigMaps) and wait until gone."""
        for name in self.crds():
            self.ext.delete_custom_resource_definition(name)
        for ns in self.namespaces():
            for cm in self.core.list_namespaced_config_map(ns).items:
                if cm.metadata.name.endswith("-release-info"):
                    self.core.delete_namespaced_config_map(cm.metadata.name, ns)
        deadline = time.monotonic() + timeout
        while self.crds() or self.pods():
            if time.monotonic() > deadline:
                raise TimeoutError(f"still present after {timeout:.0f}s: {self.crds()} {self.pods()[:5]}")
            time.sleep(0.5)

    def pods(self) -> list[str]:
        return [f"{p.metadata.namespace}/{p.metadata.name}"
                for p in self.core.list_pod_for_all_namespaces().items
                if p.metadata.namespace.startswith(NAMESPACE_PREFIX)]
