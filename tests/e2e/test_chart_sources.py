"""Where community charts come from: private HTTPS repositories, private OCI registries, and
local charts with sub-charts. Every source is made here, from charts written in this repository."""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import bcrypt
import pytest
from pulumi import automation as auto

from charts.repo_server import SOURCE_ROOT, build_repo, serve_repo
from helmlife.runner import tool_env
from tests.e2e.conftest import ROOT, TOOLS, Cluster, Project
from tests.e2e.pki import ServerTLS, make_server_tls

pytestmark = pytest.mark.e2e
USER = "helmlife-e2e"
PASSWORD = "pr1vate-Repo-pa55word-e2e"
HELLO = {"name": "hello-repo", "version": "0.1.0"}


@pytest.fixture
def tls(tmp_path: Path) -> ServerTLS:
    return make_server_tls(tmp_path / "pki")


@pytest.fixture
def helm_calls(tmp_path: Path, project: Project) -> Path:
    """Every helm command line the steps run, recorded by a shim in front of the real helm."""
    shim, log = tmp_path / "helm-shim", tmp_path / "helm-argv.log"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {os.path.realpath(TOOLS / "bin" / "helm")} "$@"\n')
    shim.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    project.extra_env.update(HELMLIFE_HELM=str(shim), TMPDIR=str(scratch))
    return log


def assert_no_secret_left(project: Project, helm_log: Path, output: str) -> None:
    """Not in state, not in the output, not on any helm command line, no credential file left."""
    exported = project.cli("stack", "export", "--stack", "t")
    assert PASSWORD not in exported and PASSWORD not in output
    assert not [p for p in (project.root / ".tools" / "state").rglob("*.json") if PASSWORD in p.read_text()]
    argv = helm_log.read_text()
    assert PASSWORD not in argv, "a password reached helm's command line"
    assert not list(Path(project.extra_env["TMPDIR"]).glob("helmlife-*")), "private files were left behind"
    resources = json.loads(exported)["deployment"]["resources"]
    pre_exec = next(r for r in resources if r["type"].endswith("helmlife:PreExec"))
    assert "ciphertext" in pre_exec["outputs"]["__repo_auth"]
    # The Release got the password too (the kubernetes plugin fetches the chart), encrypted.
    release = next(r for r in resources if r["type"] == "kubernetes:helm.sh/v3:Release")
    opts = release["outputs"].get("repositoryOpts") or {}
    if "password" in json.dumps(release["inputs"]):
        assert "ciphertext" in json.dumps(opts.get("password") or release["inputs"]["repositoryOpts"])


def repo_chart(ns: str, repo: str, **source: object) -> dict:
    return {"name": "private", "namespace": ns, "create_namespace": True, "timeout": "60s",
            "chart": {"repo": repo, **HELLO, **source},
            "values": [{"key": "greeting", "value": "from a private source"}]}


def test_private_https_repository(project: Project, cluster: Cluster, tls: ServerTLS, helm_calls: Path,
                                  tmp_path: Path) -> None:
    url, stop = serve_repo(build_repo(tmp_path / "repo").parent, auth=(USER, PASSWORD),
                           tls=(str(tls.cert_file), str(tls.key_file)))
    try:
        with pytest.raises(urllib.error.HTTPError, match="401"):  # the repository really is private
            urllib.request.urlopen(f"{url}/index.yaml", context=ssl.create_default_context(cafile=tls.ca_file))
        ns = project.namespace
        st = project.stack("t")
        st.set_config("helmlife:repoPassword", auto.ConfigValue("not-the-password", secret=True))
        project.write_stack("t", [repo_chart(ns, url, username=USER, password_secret_config="repoPassword",
                                             ca_file=str(tls.ca_file))])
        wrong = project.preview("t")
        assert not wrong.ok
        assert "chart.repo: cannot read" in wrong.output and "HTTP 401" in wrong.output, wrong.output

        st.set_config("helmlife:repoPassword", auto.ConfigValue(PASSWORD, secret=True))
        up = project.up("t")
        assert up.ok, up.output
        assert cluster.configmap(ns, "private").data == {"greeting": "from a private source", "chartVersion": "0.1.0"}
        assert "repo update helmlife" in helm_calls.read_text()
        assert_no_secret_left(project, helm_calls, up.output)
        assert (p := project.preview("t")).ok and p.changes == {}, p.output
    finally:
        stop()


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    tls: ServerTLS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry(tmp_path: Path, tls: ServerTLS) -> Iterator[Registry]:
    """distribution's registry (scripts/bootstrap test) on loopback, HTTPS with the test CA,
    htpasswd-protected."""
    binary = TOOLS / "bin" / "registry"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run scripts/bootstrap test", pytrace=False)
    work = tmp_path / "registry"
    work.mkdir()
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=6)).decode()
    (work / "htpasswd").write_text(f"{USER}:{hashed}\n")
    host = f"127.0.0.1:{free_port()}"
    (work / "config.yml").write_text(json.dumps({
        "version": 0.1, "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(work / "data")}},
        "http": {"addr": host, "tls": {"certificate": str(tls.cert_file), "key": str(tls.key_file)}},
        "auth": {"htpasswd": {"realm": "helmlife-e2e", "path": str(work / "htpasswd")}},
    }))
    log = (work / "registry.log").open("w")
    proc = subprocess.Popen([str(binary), "serve", str(work / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    try:
        context = ssl.create_default_context(cafile=tls.ca_file)
        for _ in range(200):  # up to ~20s for it to listen
            try:
                urllib.request.urlopen(f"https://{host}/v2/", context=context, timeout=1)
            except urllib.error.HTTPError as err:
                if err.code == 401:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (work / "registry.log").read_text()
            time.sleep(0.1)
        else:
            pytest.fail(f"registry did not start:\n{(work / 'registry.log').read_text()}", pytrace=False)
        yield Registry(host, tls)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def helm(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    env = {**os.environ, **tool_env(ROOT, TOOLS)}
    proc = subprocess.run([str(TOOLS / "bin" / "helm"), *args], capture_output=True, text=True, input=stdin,
                          env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_private_oci_registry(project: Project, cluster: Cluster, registry: Registry, helm_calls: Path,
                              tmp_path: Path) -> None:
    # Publish the chart the way a vendor does: package, log in, push.
    config, packages = tmp_path / "push-registry.json", tmp_path / "packages"
    helm("package", str(SOURCE_ROOT / "hello-repo" / "0.1.0"), "-d", str(packages))
    ca = ["--ca-file", str(registry.tls.ca_file)]
    helm("registry", "login", registry.host, "--username", USER, "--password-stdin", "--registry-config", str(config),
         *ca, stdin=PASSWORD)
    helm("push", str(packages / "hello-repo-0.1.0.tgz"), f"oci://{registry.host}/charts", "--registry-config",
         str(config), *ca)

    ns = project.namespace
    st = project.stack("t")
    st.set_config("helmlife:registryPassword", auto.ConfigValue(PASSWORD, secret=True))
    st.set_config("helmlife:registryCa", auto.ConfigValue(registry.tls.ca_pem))  # the CA from config, no file
    source = {"username": USER, "password_secret_config": "registryPassword", "ca_config": "registryCa"}
    project.write_stack("t", [{**repo_chart(ns, f"oci://{registry.host}/charts", **source),
                               "chart": {"repo": f"oci://{registry.host}/charts", **source, **HELLO, "version": "9.9.9"}}])
    missing = project.preview("t")
    assert not missing.ok
    assert f"chart: cannot read oci://{registry.host}/charts/hello-repo version 9.9.9" in missing.output, missing.output

    project.write_stack("t", [repo_chart(ns, f"oci://{registry.host}/charts", **source)])
    # The kubernetes plugin's OCI client reads neither repositoryOpts' credentials nor a CA
    # (pulumi-kubernetes 4.25): pre_exec pulls the chart with them and the Release installs that.
    up = project.up("t")
    assert up.ok, up.output
    assert cluster.configmap(ns, "private").data == {"greeting": "from a private source", "chartVersion": "0.1.0"}
    argv = helm_calls.read_text()
    assert f"registry login {registry.host} --username {USER} --password-stdin" in argv
    assert_no_secret_left(project, helm_calls, up.output)
    assert (p := project.preview("t")).ok and p.changes == {}, p.output


def parent_chart(tmp_path: Path) -> Path:
    """dep-parent and its file:// sub-chart, the repository dependency pointed at the running
    loopback repository (its port is the machine's: HELMLIFE_REPO_PORT)."""
    src = ROOT / "tests" / "e2e" / "charts"
    for name in ("dep-parent", "dep-lib"):
        shutil.copytree(src / name, tmp_path / "charts" / name)
    chart_yaml = tmp_path / "charts" / "dep-parent" / "Chart.yaml"
    port = os.environ.get("HELMLIFE_REPO_PORT") or "8879"
    chart_yaml.write_text(chart_yaml.read_text().replace("http://127.0.0.1:8879", f"http://127.0.0.1:{port}"))
    return tmp_path / "charts" / "dep-parent"


def test_local_chart_with_dependencies(project: Project, cluster: Cluster, tmp_path: Path) -> None:
    ns = project.namespace
    parent = parent_chart(tmp_path)
    cache = tmp_path / "chart-cache"
    project.extra_env["HELMLIFE_CHART_CACHE"] = str(cache)
    spec = {"name": "parent", "chart": str(parent), "namespace": ns, "create_namespace": True, "timeout": "60s"}
    project.write_stack("t", [spec])
    up = project.up("t")
    assert up.ok, up.output
    assert cluster.configmap(ns, "parent-parent").data == {"chartVersion": "0.1.0"}
    assert cluster.configmap(ns, "parent-lib").data == {"message": "from the file:// sub-chart"}
    assert cluster.configmap(ns, "parent").data["greeting"] == "hi from the parent chart"  # hello-repo, from the repo
    assert not (parent / "charts").exists() and not (parent / "Chart.lock").exists(), "the source tree stays as it is"
    built = list(cache.iterdir())
    assert [p.name.split("-")[:2] for p in built] == [["dep", "parent"]]
    assert sorted(f.name for f in (built[0] / "dep-parent" / "charts").iterdir()) == ["dep-lib-0.1.0.tgz",
                                                                                      "hello-repo-0.1.0.tgz"]
    assert (p := project.preview("t")).ok and p.changes == {}, p.output

    # Editing the file:// sub-chart changes the parent's digest: the release upgrades.
    values = parent.parent / "dep-lib" / "values.yaml"
    values.write_text("message: edited sub-chart\n")
    assert (r := project.up("t")).ok, r.output
    assert cluster.configmap(ns, "parent-lib").data == {"message": "edited sub-chart"}
    assert cluster.deployed_revision(ns, "parent") == 2

    # A sub-chart that is not there fails preview, naming the chart and the dependency.
    shutil.rmtree(parent.parent / "dep-lib")
    broken = project.preview("t")
    assert not broken.ok
    assert "dependency 'dep-lib' of chart 'dep-parent' (file://../dep-lib) has no Chart.yaml" in broken.output, \
        broken.output
    assert cluster.deployed_revision(ns, "parent") == 2
