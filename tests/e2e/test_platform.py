"""The platform: the dev stack through the plain Pulumi CLI on the local cluster (issue: platform).

A fresh copy of the working tree is bootstrapped the way a new clone is, then driven with the
commands the README gives: scripts/up, then `pulumi preview/up/destroy/refresh` after
`source .tools/env`, asserting on the cluster each time.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helmlife.runner import tool_env
from tests.e2e.conftest import (
    ROOT, TOOLS, Cluster, copy_checkout, language_host, user_env, write_project_settings,
)

pytestmark = pytest.mark.e2e
NS = "helmlife-dev"
VERSIONS = dict(line.split("=", 1) for line in (ROOT / "scripts" / "versions.env").read_text().splitlines()
                if "=" in line and not line.startswith("#"))


TOOL_CACHE = Path(os.environ.get("HELMLIFE_TOOL_CACHE")
                  or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "helmlife-tools").resolve()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.strip().lstrip("v").split("+")[0].split("-")[0].split("."))


def test_toolchain_versions(toolchain) -> None:
    """Ours are the pinned versions; tools the user already had are within the accepted range."""
    for tool, args, key in ((TOOLS / "bin" / "pulumi", ["version"], "PULUMI"),
                            (language_host(), ["-version"], "PULUMI"),
                            (TOOLS / "bin" / "helm", ["version", "--template", "{{.Version}}"], "HELM")):
        out = subprocess.run([str(tool), *args], capture_output=True, text=True, check=True).stdout
        if Path(os.path.realpath(tool)).is_relative_to(TOOL_CACHE):
            assert _version(out) == _version(VERSIONS[f"{key}_VERSION"]), (tool, out)
        else:
            assert _version(VERSIONS[f"{key}_MIN"]) <= _version(out) < _version(VERSIONS[f"{key}_BELOW"]), (tool, out)


@pytest.fixture
def checkout(tmp_path: Path, cluster: Cluster) -> Path:
    """A fresh copy of the working tree, on the test cluster (the stack's kubeconfig path, through
    the link below; for a cluster not named helmlife, user_env's HELMLIFE_KUBECONFIG)."""
    dest = copy_checkout(tmp_path / "helmlife")
    (dest / ".tools").mkdir()
    (dest / ".tools" / "cluster").symlink_to(TOOLS / "cluster")
    return dest


def shell(checkout: Path, script: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """`script` in a new shell in the checkout, after `source .tools/env`, as the README says."""
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source .tools/env; {script}"], cwd=checkout,
                          env=user_env(), capture_output=True, text=True, timeout=timeout)


def test_dev_stack_fresh_clone_up_noop_refresh_destroy(checkout: Path, cluster: Cluster) -> None:
    boot = subprocess.run([str(checkout / "scripts" / "bootstrap")], cwd=checkout, env=user_env(),
                          capture_output=True, text=True, timeout=1800)
    assert boot.returncode == 0, boot.stderr
    assert (checkout / ".venv" / "bin" / "python").exists()  # uv made the clone's own virtualenv

    preview = shell(checkout, "pulumi stack select --create dev >&2 && pulumi preview --stack dev --json")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    planned = json.loads(preview.stdout)
    # 3 charts x 4: the component, pre_exec, the Release and validate
    assert planned["changeSummary"].get("create", 0) >= 12, preview.stdout
    releases = [s["urn"].rsplit("::", 1)[1] for s in planned["steps"] if s["op"] == "create"
                and s["urn"].split("::")[-2].endswith("kubernetes:helm.sh/v3:Release")]
    assert sorted(releases) == ["demo-app", "demo-operator", "hello-repo"], preview.stdout
    assert cluster.deployed_revision(NS, "demo-app") is None, "preview must not apply anything"

    up = subprocess.run([str(checkout / "scripts" / "up")], cwd=checkout, env=user_env(),
                        capture_output=True, text=True, timeout=900)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "deployed (pulumi stack output --stack dev):" in up.stdout and "demo-operator" in up.stdout, up.stdout
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
    outputs = shell(checkout, "pulumi stack output --stack dev --json")
    assert outputs.returncode == 0, outputs.stderr
    assert json.loads(outputs.stdout)["demo-app"]["revision"] == 1

    again = shell(checkout, "pulumi preview --stack dev --expect-no-changes")
    assert again.returncode == 0, again.stdout + again.stderr

    # A refresh as the last operation must not hide the deployment from promote.
    refresh = shell(checkout, "pulumi refresh --stack dev --yes && python -m helmlife promote dev staging --dry-run")
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    exported = shell(checkout, "pulumi stack export --stack dev")
    assert exported.returncode == 0 and "current-context" not in exported.stdout  # the kubeconfig stays secret

    down = shell(checkout, "pulumi destroy --stack dev --yes")
    assert down.returncode == 0, down.stdout + down.stderr
    for release in ("demo-app", "demo-operator", "hello-repo"):
        assert cluster.release_secrets(NS, release) == []
        assert cluster.pods(NS, release) == [] or all(p.metadata.deletion_timestamp for p in cluster.pods(NS, release))
    assert not {"widgets.demo.helmlife.dev", "gadgets.demo.helmlife.dev"} & cluster.crd_names()


def test_bootstrap_uses_the_tools_already_on_path(tmp_path: Path, toolchain: Path) -> None:
    """pulumi, its language host, helm and uv on PATH at compatible versions: nothing is built."""
    userbin = tmp_path / "userbin"
    userbin.mkdir()
    host = language_host()
    assert host is not None
    tools = {"pulumi": TOOLS / "bin" / "pulumi", "helm": TOOLS / "bin" / "helm", "uv": TOOLS / "bin" / "uv",
             "pulumi-language-python": host, "pulumi-language-python-exec": host.with_name("pulumi-language-python-exec")}
    for name, path in tools.items():
        (userbin / name).symlink_to(os.path.realpath(path))
    # The user's own Pulumi home holds the kubernetes plugin at the version the SDK asks for.
    user_home = tmp_path / "user-pulumi-home"
    installed = user_home / "plugins" / "resource-kubernetes-v4.25.0" / "pulumi-resource-kubernetes"
    installed.parent.mkdir(parents=True)
    [built] = (TOOLS / "pulumi-home" / "plugins").glob("resource-kubernetes-v4.25.0/pulumi-resource-kubernetes")
    installed.symlink_to(os.path.realpath(built))
    checkout = copy_checkout(tmp_path / "helmlife")
    cache = tmp_path / "empty-tool-cache"
    env = user_env(PATH=f"{userbin}:/usr/bin:/bin", HELMLIFE_TOOL_CACHE=str(cache), PULUMI_HOME=str(user_home))
    boot = subprocess.run([str(checkout / "scripts" / "bootstrap")], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600)
    assert boot.returncode == 0, boot.stderr
    for name in ("pulumi", "pulumi-language-python", "helm", "uv"):
        assert f"using {name} " in boot.stderr and f"({userbin / name})" in boot.stderr, boot.stderr
        assert os.readlink(checkout / ".tools" / "bin" / name) == str(userbin / name)
    assert f"using the kubernetes plugin v4.25.0 already installed ({installed})" in boot.stderr, boot.stderr
    assert "building" not in boot.stderr, boot.stderr
    assert list(cache.iterdir()) == [], "nothing may be built"
    plugins = checkout / ".tools" / "pulumi-home" / "plugins"
    assert [str(p.relative_to(plugins)) for p in plugins.rglob("*")] == [
        "resource-kubernetes-v4.25.0", "resource-kubernetes-v4.25.0/pulumi-resource-kubernetes"]
    assert os.readlink(plugins / "resource-kubernetes-v4.25.0" / "pulumi-resource-kubernetes") == str(installed)


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
    write_project_settings(root, name="hooktest")
    (root / "__main__.py").write_text(HOOK_PROGRAM)
    (root / "stacks").mkdir()
    marker = tmp_path / "marker"
    env = {**os.environ, **tool_env(root, TOOLS), "MARKER": str(marker), "PYTHONPATH": f"{root}:{ROOT}"}
    for args in (["stack", "init", "t"], ["up", "--yes", "--stack", "t"]):
        proc = subprocess.run([str(TOOLS / "bin" / "pulumi"), *args], capture_output=True, text=True,
                              env=env, cwd=root, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert marker.read_text() == "after_create thing\n"
