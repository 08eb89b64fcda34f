"""The platform: the dev stack through the real CLI on the local cluster (issue: platform).

preview -> up -> preview shows no changes -> destroy, asserting on the cluster each time.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT, TOOLS, Cluster, Project

pytestmark = pytest.mark.e2e
NS = "helmlife-dev"


def test_toolchain_versions(toolchain) -> None:
    out = subprocess.run([TOOLS / "bin" / "pulumi", "version"], capture_output=True, text=True, check=True).stdout
    versions = dict(line.split("=", 1) for line in (ROOT / "scripts" / "versions.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert out.strip() == f"v{versions['PULUMI_VERSION']}"
    helm = subprocess.run([TOOLS / "bin" / "helm", "version", "--short"], capture_output=True, text=True, check=True)
    assert helm.stdout.startswith(f"v{versions['HELM_VERSION']}")


def test_dev_stack_preview_up_noop_destroy(dev_project: Project, cluster: Cluster) -> None:
    preview = dev_project.preview("dev")
    assert preview.ok, preview.output
    assert preview.changes.get("create", 0) >= 18, preview.output  # 3 charts x 6 steps (+ components)
    assert cluster.deployed_revision(NS, "demo-app") is None, "preview must not apply anything"

    up = dev_project.up("dev")
    assert up.ok, up.output
    assert cluster.deployed_revision(NS, "demo-app") == 1
    assert cluster.deployed_revision(NS, "demo-operator") == 1
    assert cluster.deployed_revision(NS, "hello-repo") == 1
    assert cluster.ready_pods(NS, "demo-app") == 2
    assert cluster.ready_pods(NS, "demo-operator") == 1
    assert {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"} <= cluster.crd_names()
    repo_cm = cluster.configmap(NS, "hello-repo")
    assert repo_cm is not None and repo_cm.data["greeting"] == "hi from the dev stack"
    info = cluster.configmap(NS, "demo-app-release-info")  # written by the decorator-style post_exec hook
    assert info is not None and info.data["chartVersion"] == "0.1.0"
    assert up.report["outputs"]["demo-app"]["revision"] == 1

    again = dev_project.preview("dev")
    assert again.ok, again.output
    assert again.changes == {}, again.output

    down = dev_project.destroy("dev")
    assert down.ok, down.output
    for release in ("demo-app", "demo-operator", "hello-repo"):
        assert cluster.release_secrets(NS, release) == []
        assert cluster.pods(NS, release) == [] or all(p.metadata.deletion_timestamp for p in cluster.pods(NS, release))
    assert not {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"} & cluster.crd_names()


HOOK_PROGRAM = """\
import os
import pulumi
from pulumi.dynamic import Resource
from tests.e2e.e2e_hooks import NoopProvider


def after_create(args, **kwargs):
    with open(os.environ["MARKER"], "a") as fh:
        fh.write(f"after_create {args.name}\\n")


class Thing(Resource, module="hooktest", name="Thing"):
    pass


hook = pulumi.ResourceHook("mark", after_create)
Thing(NoopProvider(), "thing", {"x": 1}, pulumi.ResourceOptions(hooks=pulumi.ResourceHookBinding(after_create=[hook])))
"""


def test_resource_hooks_run_with_the_built_cli(tmp_path, toolchain) -> None:
    """Pulumi's ResourceHook (ErrorHook is covered by the failing-release test) with our CLI."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: hooktest\nruntime: python\n")
    (root / "__main__.py").write_text(HOOK_PROGRAM)
    marker = tmp_path / "marker"
    env = {**os.environ, "MARKER": str(marker), "PYTHONPATH": f"{root}:{ROOT}"}
    proc = subprocess.run([sys.executable, "-m", "helmlife", "up", "t", "--root", str(root), "--tools", str(TOOLS)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert marker.read_text() == "after_create thing\n"
