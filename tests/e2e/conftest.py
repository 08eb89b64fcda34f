"""End-to-end fixtures: the real Pulumi CLI from .tools/, on the local kwok cluster.

Every stack operation is started by the CLI, which runs the program through its Python
language host, as `pulumi up` typed in a shell does (no inline program). Nothing here skips:
a missing tool (the language host included) or a cluster that will not start fails the test,
with the command that fixes it, so a green run always means the real engine ran.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from kubernetes import client, config
from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from helmlife.kube import read_or_none
from helmlife.runner import DEFAULT_CLUSTER, local_kubeconfig, select_stack, tool_env

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
# This run's cluster, as scripts/cluster names it from HELMLIFE_CLUSTER_NAME (.tools/cluster/ for
# the default name, .tools/cluster/<name>/ for any other).
CLUSTER_NAME = os.environ.get("HELMLIFE_CLUSTER_NAME") or DEFAULT_CLUSTER
KUBECONFIG = local_kubeconfig(ROOT, CLUSTER_NAME)
# The loopback chart repository scripts/cluster serves, as a stack file names it (expanded by
# the program from the environment the CLI runs in).
LOOPBACK_REPO = "http://127.0.0.1:${HELMLIFE_REPO_PORT:-8879}"
REQUIRED = [
    "pulumi", "helm", "uv", "kwokctl", "kwok",
    "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd",
]
# What `source .tools/env` sets: a "user" shell (a fresh clone's) starts without any of it.
TOOL_ENV_VARS = set(tool_env(ROOT, TOOLS)) - {"PATH"}
E2E_MAIN = """\
from helmlife.program import deploy_stack
from tests.e2e import e2e_hooks

deploy_stack(components=e2e_hooks.COMPONENTS, hooks=e2e_hooks.HOOKS)
"""


def language_host(tools: Path = TOOLS) -> Path | None:
    """The Python language host the CLI starts: on PATH, next to pulumi, or in the plugin cache
    (where scripts/bootstrap registers the one it builds)."""
    path = os.pathsep.join([str(tools / "bin"), os.environ.get("PATH", "")])
    candidates = [shutil.which("pulumi-language-python", path=path),
                  Path(os.path.realpath(tools / "bin" / "pulumi")).parent / "pulumi-language-python",
                  *sorted((tools / "pulumi-home" / "plugins").glob("language-python-v*/pulumi-language-python"))]
    return next((Path(c) for c in candidates if c and os.access(c, os.X_OK)), None)


def shipped_stack_env() -> dict[str, str]:
    """What a user's shell exports so that the shipped stacks (which name the default cluster's
    .tools/cluster/kubeconfig) reach this run's cluster: HELMLIFE_KUBECONFIG, when the cluster is
    not the default one, as scripts/up does and docs/toolchain.md says."""
    return {} if CLUSTER_NAME == DEFAULT_CLUSTER else {"HELMLIFE_KUBECONFIG": str(KUBECONFIG)}


def user_env(**extra: str) -> dict[str, str]:
    """This process's environment minus what this checkout's .tools/env added: a new shell, set up
    for this run's cluster (`shipped_stack_env`)."""
    drop = {str(TOOLS / "bin"), str(ROOT / ".venv" / "bin")}
    env = {k: v for k, v in os.environ.items() if k not in TOOL_ENV_VARS}
    env["PATH"] = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in drop)
    return {**env, **shipped_stack_env(), **extra}


def copy_checkout(dest: Path) -> Path:
    """This working tree's files (tracked and new, as a commit of it would hold), no .tools/.venv."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def write_project_settings(dest: Path, name: str = "helmlife") -> None:
    """The project's Pulumi.yaml in `dest`, running in this checkout's .venv (an absolute
    virtualenv). With no pyproject.toml above `dest`, the language host's uv syncs nothing; it
    reads the package list from uv.lock, so that comes along."""
    settings = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    settings["name"] = name
    settings["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
    (dest / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    shutil.copy2(ROOT / "uv.lock", dest / "uv.lock")


@dataclass
class Cluster:
    kubeconfig: Path
    api: client.ApiClient

    def release_secrets(self, namespace: str, release: str) -> list[client.V1Secret]:
        """Helm stores one Secret per revision: the cluster-side truth about a release."""
        return client.CoreV1Api(self.api).list_namespaced_secret(
            namespace, label_selector=f"owner=helm,name={release}").items

    def deployed_revision(self, namespace: str, release: str) -> int | None:
        live = [s for s in self.release_secrets(namespace, release) if s.metadata.labels.get("status") == "deployed"]
        return int(live[0].metadata.labels["version"]) if live else None

    def helm_release(self, namespace: str, release: str) -> dict[str, Any] | None:
        """What `helm list` (helm itself, not helmlife's reading of its records) says of a release:
        name, revision, status, chart (`<name>-<version>`), app_version."""
        out = subprocess.run([str(TOOLS / "bin" / "helm"), "list", "-n", namespace, "-a", "-o", "json",
                              "--kubeconfig", str(self.kubeconfig)], capture_output=True, text=True, check=True).stdout
        return next((r for r in json.loads(out) if r["name"] == release), None)

    def pods(self, namespace: str, release: str) -> list[client.V1Pod]:
        return client.CoreV1Api(self.api).list_namespaced_pod(
            namespace, label_selector=f"app.kubernetes.io/instance={release}").items

    def ready_pods(self, namespace: str, release: str) -> int:
        return sum(
            1 for p in self.pods(namespace, release)
            if p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        )

    def crd_names(self) -> set[str]:
        return {c.metadata.name for c in client.ApiextensionsV1Api(self.api).list_custom_resource_definition().items}

    def configmap(self, namespace: str, name: str) -> client.V1ConfigMap | None:
        return read_or_none(client.CoreV1Api(self.api).read_namespaced_config_map, name, namespace)

    def deployment(self, namespace: str, name: str) -> client.V1Deployment | None:
        return read_or_none(client.AppsV1Api(self.api).read_namespaced_deployment, name, namespace)


@dataclass(frozen=True)
class LocalCluster:
    """One of this checkout's scripts/cluster clusters: its name (HELMLIFE_CLUSTER_NAME) and its
    chart repository's port (HELMLIFE_REPO_PORT). Several run side by side, each with its own
    kubeconfig (helmlife.runner.local_kubeconfig) and kwok processes."""

    name: str
    repo_port: int

    @classmethod
    def from_env(cls) -> LocalCluster:
        """This run's cluster, as scripts/cluster reads the variables."""
        return cls(CLUSTER_NAME, int(os.environ.get("HELMLIFE_REPO_PORT") or 8879))

    @property
    def kubeconfig(self) -> Path:
        return local_kubeconfig(ROOT, self.name)

    def env(self) -> dict[str, str]:
        return {**os.environ, "HELMLIFE_CLUSTER_NAME": self.name, "HELMLIFE_REPO_PORT": str(self.repo_port)}

    def script(self, action: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """`scripts/cluster ACTION` for this cluster."""
        return subprocess.run([str(ROOT / "scripts" / "cluster"), action], capture_output=True, text=True,
                              env=self.env(), timeout=timeout)

    def client(self) -> Cluster:
        return Cluster(self.kubeconfig, config.new_client_from_config(str(self.kubeconfig)))

    def start(self, log: Path) -> StartingCluster:
        """`scripts/cluster up` in the background (its output in `log`): a test that needs a second
        cluster starts it early and waits only when it deploys there."""
        with log.open("wb") as out:
            proc = subprocess.Popen([str(ROOT / "scripts" / "cluster"), "up"], env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        return StartingCluster(self, proc, log)

    def processes(self) -> list[str]:
        """Processes (not zombies) still running from this cluster or its chart repository."""
        kwok = f"{TOOLS / 'kwok' / 'clusters' / self.name}/"
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                state = (proc / "stat").read_text().split(") ", 1)[1].split()[0]
            except OSError:
                continue
            repo = ("repo_server.py" in cmdline and str(TOOLS) in cmdline
                    and cmdline.endswith(f" --port {self.repo_port}"))
            if state != "Z" and (kwok in cmdline or repo):
                found.append(f"{proc.name}: {cmdline[:120]}")
        return found


@dataclass
class StartingCluster:
    """A LocalCluster whose `scripts/cluster up` runs in the background."""

    local: LocalCluster
    proc: subprocess.Popen[bytes]
    log: Path

    def ready(self, timeout: float = 300) -> Cluster:
        """Wait for the `up` and return the cluster; fail with its output if it did not come up."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 0:
            how = "still running" if rc is None else f"exit {rc}"
            pytest.fail(f"scripts/cluster up of {self.local.name} ({how}):\n{self.log.read_text(errors='replace')}",
                        pytrace=False)
        return self.local.client()

    def stop(self) -> None:
        """`scripts/cluster down`, whatever the `up` did (an `up` still running is ended first,
        its process group only: what it left, `down` removes), and nothing of it left running."""
        try:
            self.proc.wait(300)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        down = self.local.script("down")
        assert down.returncode == 0, f"scripts/cluster down of {self.local.name} failed:\n{down.stderr}"
        assert self.local.processes() == [], f"scripts/cluster down of {self.local.name} left processes behind"


@dataclass
class ObjectStore:
    """scripts/objectstore's S3-compatible store (SeaweedFS) on loopback, named and ported apart
    from a developer's own; the tests read its buckets through the S3 API (curl's SigV4), as
    any client of a team's bucket would, not through the store's internals."""

    name: str
    port: int
    access_key: str = "helmlife-test"
    secret_key: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex}")
    passphrase: str = field(default_factory=lambda: f"shared-{uuid.uuid4().hex[:12]}")

    @property
    def data_dir(self) -> Path:
        return TOOLS / "objectstore" / self.name

    def script(self, action: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`scripts/objectstore ACTION` for this store (its default bucket is `state`)."""
        env = {**os.environ, "HELMLIFE_OBJECTSTORE_NAME": self.name, "HELMLIFE_S3_PORT": str(self.port),
               "HELMLIFE_S3_BUCKET": "state", "HELMLIFE_S3_ACCESS_KEY": self.access_key,
               "HELMLIFE_S3_SECRET_KEY": self.secret_key}
        return subprocess.run([str(ROOT / "scripts" / "objectstore"), action], capture_output=True, text=True,
                              env=env, timeout=timeout)

    def up(self) -> None:
        proc = self.script("up")
        assert proc.returncode == 0, f"scripts/objectstore up failed:\n{proc.stderr}"

    def down(self) -> None:
        proc = self.script("down")
        assert proc.returncode == 0, f"scripts/objectstore down failed:\n{proc.stderr}"

    def url(self, bucket: str) -> str:
        """The Pulumi CLI's (gocloud's) URL for `bucket`, as the README gives it."""
        return (f"s3://{bucket}?endpoint=127.0.0.1:{self.port}&disableSSL=true&s3ForcePathStyle=true"
                "&region=us-east-1")

    def env(self, bucket: str) -> dict[str, str]:
        """What a team member exports to work on stacks kept in `bucket`."""
        url = self.url(bucket)
        return {"HELMLIFE_BACKEND_URL": url, "PULUMI_BACKEND_URL": url, "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
                "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def request(self, method: str, path: str, query: str = "") -> bytes:
        """One signed S3 request; raises on any status but 2xx. The key pair goes to curl on stdin."""
        url = f"http://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")
        proc = subprocess.run(["curl", "-sS", "--fail-with-body", "-K", "-", "-X", method, "--max-time", "10",
                               "--aws-sigv4", "aws:amz:us-east-1:s3", url],
                              input=f'user = "{self.access_key}:{self.secret_key}"\n'.encode(),
                              capture_output=True, timeout=30)
        assert proc.returncode == 0, f"S3 {method} {url}: {proc.stderr.decode()} {proc.stdout.decode()}"
        return proc.stdout

    def new_bucket(self) -> str:
        bucket = f"t-{uuid.uuid4().hex[:12]}"
        self.request("PUT", bucket)
        return bucket

    def keys(self, bucket: str) -> list[str]:
        """Every object key in `bucket` (ListObjectsV2, all pages)."""
        keys: list[str] = []
        token = ""
        while True:
            query = "list-type=2" + (f"&continuation-token={urllib.parse.quote(token, safe='')}" if token else "")
            listing = ET.fromstring(self.request("GET", bucket, query))
            keys += _texts(listing, "Key")
            token = next(iter(_texts(listing, "NextContinuationToken")), "")
            if not token:
                return keys

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in `bucket`, by key."""
        return {key: self.request("GET", f"{bucket}/{urllib.parse.quote(key)}") for key in self.keys(bucket)}


def _texts(element: ET.Element, tag: str) -> list[str]:
    """The text of every `tag` element under `element`, whatever its XML namespace."""
    return [e.text or "" for e in element.iter() if e.tag.rsplit("}", 1)[-1] == tag]


def free_port_block(size: int, start: int = 20000, stop: int = 30000) -> int:
    """The first of `size` consecutive loopback ports that are all free now (a random block, so
    concurrent test runs rarely race for the same one)."""
    for _ in range(200):
        base = random.randrange(start, stop - size)
        socks = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError(f"no {size} consecutive free ports in {start}-{stop}")


@dataclass
class Run:
    ok: bool
    output: str
    report: dict[str, Any]

    @property
    def changes(self) -> dict[str, int]:
        """The change summary without the unchanged count."""
        return {k: v for k, v in (self.report.get("change_summary") or {}).items() if k != "same" and v}


@dataclass
class Project:
    """A throwaway copy of the project with its own stacks and state, on the shared toolchain."""

    root: Path
    journal: Path
    namespace: str
    used: set[str] = field(default_factory=set)
    extra_env: dict[str, str] = field(default_factory=dict)  # for every CLI run of this project

    def write_stack(self, name: str, charts: list[dict[str, Any]], **extra: Any) -> None:
        cfg = {"helmlife:kubeconfig_path": str(KUBECONFIG), "helmlife:charts": charts}
        cfg.update({f"helmlife:{k}": v for k, v in extra.items()})
        path = self.root / "stacks" / f"Pulumi.{name}.yaml"
        doc = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        doc.setdefault("config", {}).update(cfg)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def env(self, pythonpath: str | None = None) -> dict[str, str]:
        """The CLI's environment, which it hands to the language host and the dynamic providers."""
        return {**os.environ, **tool_env(self.root, TOOLS), "HELMLIFE_JOURNAL": str(self.journal),
                "PYTHONPATH": pythonpath or f"{self.root}{os.pathsep}{ROOT}", **self.extra_env}

    def stack(self, name: str, pythonpath: str | None = None) -> auto.Stack:
        """Automation API handle on the project copy (a LocalWorkspace, no program of its own)."""
        self.used.add(name)
        env = self.env(pythonpath)
        return select_stack(name, self.root, tools=TOOLS,
                            extra_env={k: env[k] for k in ("HELMLIFE_JOURNAL", "PYTHONPATH", *self.extra_env)})

    def run(self, command: str, name: str, pythonpath: str | None = None) -> Run:
        """One `pulumi COMMAND` of the stack: the CLI runs the copy's __main__.py in its language host."""
        stack = self.stack(name, pythonpath)
        lines: list[str] = []
        out = {"on_output": lines.append, "color": "never"}
        try:
            if command == "preview":
                pres = stack.preview(diff=True, **out)
                report: dict[str, Any] = {"change_summary": pres.change_summary}
            else:
                res = {"up": stack.up, "destroy": stack.destroy, "refresh": stack.refresh}[command](**out)
                report = {"change_summary": res.summary.resource_changes or {}}
                if command == "up":
                    report["outputs"] = {k: v.value for k, v in res.outputs.items() if not v.secret}
        except auto_errors.CommandError as err:
            failed = Run(False, "\n".join(lines) + "\n" + str(err), {})
            if dump := os.environ.get("HELMLIFE_TEST_DUMP"):  # a failing run's whole output, to read
                with open(dump, "a") as fh:
                    fh.write(f"\n===== {command} {name}\n{failed.output}")
            return failed
        report["change_summary"] = {getattr(k, "value", k): v for k, v in report["change_summary"].items()}
        return Run(True, "\n".join(lines), report)

    def cli(self, *args: str) -> str:
        """The real `pulumi` CLI on this project's backend; returns stdout."""
        proc = subprocess.run([str(TOOLS / "bin" / "pulumi"), *args, "--cwd", str(self.root)],
                              capture_output=True, text=True, env=self.env(), timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def up(self, name: str) -> Run:
        return self.run("up", name)

    def preview(self, name: str) -> Run:
        return self.run("preview", name)

    def destroy(self, name: str, pythonpath: str | None = None) -> Run:
        return self.run("destroy", name, pythonpath=pythonpath)

    def steps(self, op: str | None = None, release: str | None = None) -> list[tuple[str, str]]:
        """(step, op) in the order the providers ran them, from the journal."""
        if not self.journal.exists():
            return []
        rows = [json.loads(line) for line in self.journal.read_text().splitlines() if line.strip()]
        return [(r["step"], r["op"]) for r in rows
                if (op is None or r["op"] == op) and (release is None or r["release"] == release)]

    def clear_journal(self) -> None:
        self.journal.write_text("")


def step_state(project: Project, stack: str, chart: str, step: str) -> dict[str, Any]:
    """The state of step `step` (pre_exec, validate) of chart `chart`: its resource
    with `inputs` and `outputs` unwrapped (no `__` prefix), as the step models name them."""
    from helmlife.steps.base import unwrap

    suffix = f"::{chart}-{step.replace('_', '-')}"
    state = project.stack(stack).export_stack().deployment
    res = next(r for r in state["resources"] if r["urn"].endswith(suffix))
    return {**res, "inputs": unwrap(res.get("inputs") or {}), "outputs": unwrap(res.get("outputs") or {})}


def helmlife(proj: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m helmlife ARGS` on the project copy, in the environment its CLI runs get."""
    return subprocess.run([sys.executable, "-m", "helmlife", *args, "--root", str(proj.root), "--tools", str(TOOLS)],
                          capture_output=True, text=True, env=proj.env(), cwd=ROOT, timeout=600)


def copy_project(dest: Path, main: str | None) -> None:
    dest.mkdir(parents=True)
    for item in ("__main__.py", "charts", "chart_hooks"):
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / item)
    write_project_settings(dest)
    (dest / "stacks").mkdir()
    (dest / ".tools").mkdir()
    (dest / ".tools" / "cluster").symlink_to(TOOLS / "cluster")
    if main is not None:
        (dest / "__main__.py").write_text(main)


def second_checkout(project: Project, dest: Path) -> Project:
    """Another checkout of `project` at `dest` (another runner's): the same program and stack files
    as committed, the same backend settings, no state of its own."""
    copy_project(dest / "project", (project.root / "__main__.py").read_text())
    for f in (project.root / "stacks").iterdir():
        shutil.copy2(f, dest / "project" / "stacks" / f.name)
    return Project(dest / "project", dest / "journal.jsonl", project.namespace, extra_env=dict(project.extra_env))


def _namespace_for(nodeid: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", nodeid.split("::")[-1].lower()).strip("-")[:40].strip("-")
    return f"{base}-{uuid.uuid4().hex[:5]}"


@contextlib.contextmanager
def managed_project(dest: Path, cluster: Cluster, nodeid: str, main: str) -> Iterator[Project]:
    """A project copy in `dest` running `main`; afterwards every stack it used is destroyed
    (or removed when it cannot be) and its namespace deleted."""
    copy_project(dest / "project", main)
    proj = Project(dest / "project", dest / "journal.jsonl", _namespace_for(nodeid))
    try:
        yield proj
    finally:
        for name in sorted(proj.used):
            if not proj.destroy(name).ok:
                proj.stack(name).workspace.remove_stack(name, force=True)
        try:
            client.CoreV1Api(cluster.api).delete_namespace(proj.namespace)
        except client.exceptions.ApiException:
            pass


@pytest.fixture
def project(tmp_path: Path, cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[Project]:
    """A project copy whose __main__ wires tests/e2e/e2e_hooks; destroyed afterwards."""
    with managed_project(tmp_path, cluster, request.node.nodeid, E2E_MAIN) as proj:
        yield proj


def chart(name: str, namespace: str, path: str = "charts/demo-app", **spec: Any) -> dict[str, Any]:
    return {"name": name, "chart": path, "namespace": namespace, "create_namespace": True, "timeout": "60s", **spec}


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


@pytest.fixture
def http_server() -> Iterator[Any]:
    """Factory for loopback HTTP servers answering a fixed status (kwok pods serve nothing)."""
    import http.server
    import threading

    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int = 200) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"degraded" if status >= 400 else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/healthz"

    yield start
    for srv in servers:
        srv.shutdown()
