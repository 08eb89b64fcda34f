"""Migrating a kubernetes.helm.v3.Release to LifecycleChart in one line keeps the installed
release: its ReleaseArgs go to LifecycleChart's own Release unchanged, which adopts the release
Helm has (import), with no reinstall: the objects and pods stay. pulumi-kubernetes applies the
declared arguments once after an import (one new revision, the same manifest)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.e2e.conftest import ROOT, TOOLS, Cluster, Project

pytestmark = pytest.mark.e2e
MAIN = """\
import os
from pathlib import Path

from pulumi_kubernetes.helm.v3 import ReleaseArgs
from helmlife import LifecycleChart

# Was: kubernetes.helm.v3.Release("web", ReleaseArgs(...)); the arguments stay as they were.
LifecycleChart("web", ReleaseArgs(name="web", chart="charts/demo-app", namespace={ns!r}, create_namespace=True,
                                  values={{"replicaCount": {replicas}, "message": "migrated"}}),
               kubeconfig=Path(os.environ["E2E_KUBECONFIG"]).read_text())
"""


def test_release_args_migration_keeps_the_installed_release(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    environ = dict(os.environ)  # the program's settings reach the CLI runs only, not this process
    # What kubernetes.helm.v3.Release installed before the migration (helm's own record of it).
    values = project.root / "values.json"
    values.write_text(json.dumps({"replicaCount": 1, "message": "migrated"}))
    subprocess.run([str(TOOLS / "bin" / "helm"), "upgrade", "--install", "web", str(project.root / "charts" / "demo-app"),
                    "-n", ns, "--create-namespace", "-f", str(values), "--wait", "--timeout", "60s",
                    "--kubeconfig", str(cluster.kubeconfig)], check=True, capture_output=True)
    assert cluster.deployed_revision(ns, "web") == 1
    deployment_uid = cluster.deployment(ns, "web").metadata.uid
    pods = {p.metadata.uid for p in cluster.pods(ns, "web")}

    project.extra_env["E2E_KUBECONFIG"] = str(cluster.kubeconfig)  # the CLI's env only, not this process's
    pythonpath = f"{project.root}:{ROOT}"
    project.write_stack("t", [])
    (project.root / "__main__.py").write_text(MAIN.format(ns=ns, replicas=1))
    up = project.run("up", "t", pythonpath=pythonpath)
    assert up.ok, up.output
    assert "kubernetes:helm.sh/v3:Release web importing" in up.output or "imported" in up.output, up.output
    assert cluster.deployment(ns, "web").metadata.uid == deployment_uid  # not reinstalled
    assert {p.metadata.uid for p in cluster.pods(ns, "web")} == pods  # no pod restarted
    revision = cluster.deployed_revision(ns, "web")
    assert revision is not None and revision <= 2, revision  # the first revision stays in Helm's history
    assert project.run("preview", "t", pythonpath=pythonpath).changes == {}

    (project.root / "__main__.py").write_text(MAIN.format(ns=ns, replicas=2))  # a real change: upgraded in place
    up = project.run("up", "t", pythonpath=pythonpath)
    assert up.ok, up.output
    assert cluster.deployed_revision(ns, "web") == revision + 1 and cluster.deployment(ns, "web").spec.replicas == 2
    assert dict(os.environ) == environ
