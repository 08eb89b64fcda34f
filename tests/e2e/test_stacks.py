"""Stacks as environments: promotion and pull-request previews, on the local cluster."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml
from kubernetes import client

from charts.repo_server import build_repo, serve_repo
from helmlife.kube import read_or_none
from helmlife.runner import local_kubeconfig
from tests.e2e.conftest import KUBECONFIG, ROOT, TOOLS, Cluster, Project, copy_project, helmlife, shipped_stack_env

pytestmark = pytest.mark.e2e


ENVS = ("dev", "staging", "prod")


def space(proj: Project, env: str) -> str:
    """The namespace of `env` in this test's copy: the shipped one with the copy's suffix, so no
    other test (test_platform deploys the shipped dev stack as it is) shares it."""
    return f"helmlife-{env}-{proj.namespace}"


@pytest.fixture
def envs(tmp_path, cluster: Cluster):
    """A copy of the project with the real dev/staging/prod stack files, each environment's
    namespace made this test's own, run as a user's shell runs them on this run's cluster."""
    copy_project(tmp_path / "project", None)
    proj = Project(tmp_path / "project", tmp_path / "journal.jsonl", uuid.uuid4().hex[:5],
                   extra_env=shipped_stack_env())
    for f in (ROOT / "stacks").iterdir():
        text = f.read_text()
        for env in ENVS:
            text = text.replace(f"namespace: helmlife-{env}\n", f"namespace: {space(proj, env)}\n")
        (proj.root / "stacks" / f.name).write_text(text)
    yield proj
    for name in ENVS:
        proj.destroy(name)
    core = client.CoreV1Api(cluster.api)
    for env in ENVS:
        if read_or_none(core.read_namespace, space(proj, env)) is not None:
            core.delete_namespace(space(proj, env))


def edit(proj: Project, stack: str, old: str, new: str, count: int = 1) -> None:
    path = proj.root / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    assert text.count(old) >= count, (old, text)
    path.write_text(text.replace(old, new, count))


def test_promotion_flow(envs: Project, cluster: Cluster) -> None:
    assert (r := envs.up("dev")).ok, r.output
    assert (r := envs.up("staging")).ok, r.output
    assert cluster.deployed_revision(space(envs, "staging"), "hello-repo") == 1
    assert (p := envs.preview("staging")).ok and p.changes == {}, p.output

    # Bump a pinned chart version in dev: until dev runs it, promoting it is refused.
    edit(envs, "dev", "version: 0.1.0", "version: 0.2.0")
    pending = helmlife(envs, "promote", "dev", "staging", "--dry-run")
    assert pending.returncode != 0 and "stack 'dev' has pending changes" in pending.stderr
    assert (r := envs.up("dev")).ok, r.output
    assert cluster.configmap(space(envs, "dev"), "hello-repo").data["chartVersion"] == "0.2.0"

    staging_file = envs.root / "stacks" / "Pulumi.staging.yaml"
    before = staging_file.read_text()
    dry = helmlife(envs, "promote", "dev", "staging", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "-        version: 0.1.0" in dry.stdout and "+        version: 0.2.0" in dry.stdout
    assert '+          value: "1.1"' in dry.stdout  # the promotable image tag
    assert staging_file.read_text() == before, "--dry-run must not write"

    refused = helmlife(envs, "promote", "dev", "prod")
    assert refused.returncode != 0
    assert "prod is not the next environment after dev" in refused.stderr

    done = helmlife(envs, "promote", "dev", "staging")
    assert done.returncode == 0, done.stderr
    after = staging_file.read_text()
    assert "version: 0.2.0" in after and "hello from staging" in after  # env-specific values stay
    assert "# Pinned versions below" in after  # comments survive
    assert f"namespace: {space(envs, 'staging')}" in after

    preview = helmlife(envs, "preview", "staging", "--json")
    assert preview.returncode == 0, preview.stderr
    digest = json.loads(preview.stdout)
    summary = subprocess.run([sys.executable, "-m", "helmlife", "preview-summary", "-"], input=json.dumps(digest),
                             capture_output=True, text=True, env=envs.env(), cwd=ROOT, check=True).stdout
    assert "hello-repo" in summary and "upgrade 0.1.0 → 0.2.0" in summary, summary
    assert "release — update" in summary and "pre_exec — update" in summary, summary

    assert (r := envs.up("staging")).ok, r.output
    assert cluster.configmap(space(envs, "staging"), "hello-repo").data["chartVersion"] == "0.2.0"
    assert cluster.deployed_revision(space(envs, "staging"), "hello-repo") == 2

    # A failed dev update (a demo-app no node can schedule) blocks the next promotion.
    path = envs.root / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    start, end = text.index("    - name: demo-app\n"), text.index("    - name: demo-operator\n")
    path.write_text(text[:start]
                    + f"    - name: demo-app\n      namespace: {space(envs, 'dev')}\n      timeout: 5s\n      values:\n"
                      "        - key: nodeSelector.no-such-node\n          value: \"true\"\n"
                    + text[end:])
    failed = envs.up("dev")
    assert not failed.ok
    blocked = helmlife(envs, "promote", "dev", "staging")
    assert blocked.returncode != 0
    assert "last update of stack 'dev' failed" in blocked.stderr


def test_bad_stack_config_fails_at_preview(envs: Project, cluster: Cluster) -> None:
    edit(envs, "staging", f"      namespace: {space(envs, 'staging')}\n", f"      namespace: {space(envs, 'staging')}\n      timeout: soon\n")
    preview = envs.preview("staging")
    assert not preview.ok
    assert "stack 'staging', chart 'demo-app'" in preview.output
    assert "- timeout:" in preview.output and "Go syntax" in preview.output
    assert cluster.release_secrets(space(envs, "staging"), "demo-app") == []


def renamed_kubeconfig(name: str) -> str:
    """The local cluster's kubeconfig as `scripts/cluster up` writes it for HELMLIFE_CLUSTER_NAME=name:
    everything named kwok-<name>, that context current."""
    doc = yaml.safe_load(KUBECONFIG.read_text())
    new = f"kwok-{name}"
    for section in ("clusters", "contexts", "users"):
        for item in doc[section]:
            item["name"] = new
    for item in doc["contexts"]:
        item["context"].update(cluster=new, user=new)
    doc["current-context"] = new
    return yaml.safe_dump(doc)


def test_dev_stack_follows_cluster_name_and_repo_port(envs: Project, cluster: Cluster, tmp_path) -> None:
    """The shipped dev stack with a cluster not named `helmlife` and the chart repository on a port
    other than 8879: no context name and no port are written in the stack files. The kubeconfig
    is where `scripts/cluster up` writes it for that name, exported as HELMLIFE_KUBECONFIG as
    docs/toolchain.md says (the stack names the default cluster's)."""
    name = f"renamed-{uuid.uuid4().hex[:6]}"
    own = envs.root / ".tools" / "cluster"
    own.unlink()  # the project's own cluster directory instead of the link to the shared one
    kubeconfig = local_kubeconfig(envs.root, name)
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text(renamed_kubeconfig(name))
    url, stop = serve_repo(build_repo(tmp_path / "repo").parent)
    port = url.rsplit(":", 1)[1]
    assert port != "8879"
    envs.extra_env.update(HELMLIFE_CLUSTER_NAME=name, HELMLIFE_REPO_PORT=port, HELMLIFE_KUBECONFIG=str(kubeconfig))
    try:
        up = envs.up("dev")
        assert up.ok, up.output
        repo_cm = cluster.configmap(space(envs, "dev"), "hello-repo")
        assert repo_cm is not None and repo_cm.data["greeting"] == "hi from the dev stack"
        state = json.dumps(envs.stack("dev").export_stack().deployment)
        assert f"http://127.0.0.1:{port}" in state and "127.0.0.1:8879" not in state
        assert (p := envs.preview("dev")).ok and p.changes == {}, p.output
        assert (d := envs.destroy("dev")).ok, d.output
    finally:
        stop()
    assert cluster.release_secrets(space(envs, "dev"), "hello-repo") == []
