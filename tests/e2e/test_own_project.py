"""Issue 18 item 9: a project of a user's own, built from docs/own-project.md alone, deploys with
the plain CLI: the dependency line, the Pulumi.yaml runtime options, a hooks module, a
kubernetes.Provider of their own."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import KUBECONFIG, ROOT, TOOLS, Cluster, user_env

pytestmark = pytest.mark.e2e
GUIDE = ROOT / "docs" / "own-project.md"
# What helmlife asks of the kubernetes client beyond the typed API (raw GETs, metadata-only
# lists, server-side apply), run with the client release the user's project resolved: the
# guide's dependency line takes the newest, whose ApiClient.call_api changed in 37.
CLIENT_CALLS = """
import json, sys
import kubernetes
from helmlife import capabilities, kube, releases
api = kube.api_client(open(sys.argv[1]).read())
name = sys.argv[3] + ".own.helmlife.dev"
crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name},
       "spec": {"group": "own.helmlife.dev", "scope": "Namespaced",
                "names": {"plural": sys.argv[3], "singular": sys.argv[3][:-1], "kind": "Gizmo"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
applied = kube.apply_crds(api, [crd])
listed = [m["name"] for m in kube.crd_metadata(api)]
kube.delete_crds(api, applied, timeout=60)
print(json.dumps({"client": kubernetes.__version__, "kube_version": capabilities.of_cluster(api).kube_version,
                  "applied": applied, "listed": name in listed,
                  "revisions": [r.revision for r in releases.revisions(api, "web", sys.argv[2])]}))
"""
BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def files_of_the_guide() -> dict[str, str]:
    found = dict(BLOCK.findall(GUIDE.read_text()))
    assert {"Pulumi.yaml", "pyproject.toml", "__main__.py", "my_hooks.py"} <= set(found), sorted(found)
    return {name: text.replace("HELMLIFE_PATH", str(ROOT)) for name, text in found.items()}


def cluster_version(cluster: Cluster) -> str:
    from kubernetes import client

    return client.VersionApi(cluster.api).get_code().git_version


def test_a_project_built_from_the_guide_deploys(tmp_path: Path, cluster: Cluster) -> None:
    project = tmp_path / "my-charts"
    project.mkdir()
    for name, text in files_of_the_guide().items():
        (project / name).write_text(text)
    shutil.copytree(ROOT / "charts" / "demo-app", project / "charts" / "demo-app")
    namespace = f"own-project-{os.getpid()}"
    # A user's shell: the toolchain on PATH (as their own install would be), their own state.
    env = {**user_env(), "PATH": os.pathsep.join([str(TOOLS / "bin"), os.environ.get("PATH", "")]),
           "PULUMI_HOME": str(TOOLS / "pulumi-home"), "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", "UV_PYTHON_DOWNLOADS": "never",
           "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "own-project",
           "HELMLIFE_HELM": str(TOOLS / "bin" / "helm")}
    (tmp_path / "state").mkdir()

    def pulumi(*args: str, ok: bool = True) -> str:
        proc = subprocess.run([str(TOOLS / "bin" / "pulumi"), *args, "--non-interactive"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0 or not ok, f"pulumi {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    pulumi("install")
    assert (project / ".venv" / "bin" / "python").exists()  # uv made the virtualenv the runtime names
    pulumi("stack", "init", "dev")
    for key, value in {"kubeconfig": str(KUBECONFIG), "chart": "charts/demo-app", "namespace": namespace}.items():
        pulumi("config", "set", key, value)
    try:
        out = pulumi("up", "--yes")
        assert cluster.deployed_revision(namespace, "web") == 1, out
        recorded = cluster.configmap(namespace, "web-deployed")  # the project's own hook ran
        assert recorded is not None and recorded.data == {"version": "0.1.0"}
        assert "(update)" not in pulumi("preview", "--diff")
        plural = f"gizmos{os.getpid()}"
        calls = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", CLIENT_CALLS, str(KUBECONFIG),
                                namespace, plural], cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert calls.returncode == 0, calls.stderr
        seen = json.loads(calls.stdout)
        assert seen["kube_version"] == cluster_version(cluster), seen
        assert seen["applied"] == [f"{plural}.own.helmlife.dev"] and seen["listed"] and seen["revisions"] == [1], seen
    finally:
        pulumi("destroy", "--yes", ok=False)
    assert cluster.release_secrets(namespace, "web") == []
