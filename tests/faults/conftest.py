"""The fault suite's harness, on the end-to-end fixtures (tests/conftest.py, tests/e2e/conftest.py).

What the e2e harness adds here: `pulumi` commands started as a user's shell starts them, in
the background, so a test can SIGKILL them mid-operation (`Background`); the control plane
stopped and started again (`scripts/cluster stop|start`); node capacity that arrives later
(`Capacity`), so a release can be kept waiting and then converge with the same declared state;
and the check every fault test ends with, on the cluster AND on the stack (`Converged`); and
the stack's state in a bucket of the local object store instead of the file backend (`shared`).

Only this checkout's processes are ever touched: the CLI processes a test started (and what
they started), and the control plane of $HELMLIFE_CLUSTER_NAME under this checkout's .tools/kwok
(and of the second cluster test_shared_backend.py starts and stops for itself).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from kubernetes import client

from helmlife.steps import LIFECYCLE
from tests.e2e.conftest import TOOLS, Cluster, LocalCluster, ObjectStore, Project, chart, managed_project

FAULT_MAIN = """\
from helmlife.program import deploy_stack
from tests.e2e import e2e_hooks
from tests.faults import fault_hooks

deploy_stack(components=e2e_hooks.COMPONENTS, hooks={**e2e_hooks.HOOKS, **fault_hooks.HOOKS})
"""
LOCKED = "the stack is currently locked"
HELM_BUSY = 240  # bound on waiting for helm to reach a state (a cold, loaded machine included)
STEP_TYPE = "pulumi-python:dynamic/helmlife:"
__all__ = ["chart"]  # re-exported for the tests


@pytest.fixture
def project(tmp_path: Path, cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[Project]:
    """As the e2e `project`, with tests/faults/fault_hooks wired in as well."""
    with managed_project(tmp_path, cluster, request.node.nodeid, FAULT_MAIN) as proj:
        yield proj


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.3) -> Any:
    """Poll until `predicate()` is truthy and return it; fail naming `what` past `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except client.exceptions.ApiException:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


# --- pulumi as a user runs it ------------------------------------------------------------------

def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name ([] once the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_tree(root: int) -> dict[int, str]:
    """`root` and every live process under it, whatever process group each is in, as
    {pid: start time}: the start time tells a process from a later one given the same pid."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            kids.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if fields := _stat(pid):
            found[pid] = fields[19]
            todo.extend(kids.get(pid, []))
    return found


@dataclass
class Background:
    """A `pulumi` command running in a session of its own, its output in `log`."""

    proc: subprocess.Popen[bytes]
    log: Path
    orphans: dict[int, str] = field(default_factory=dict)  # what a process-group kill left running

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 600) -> int:
        return self.proc.wait(timeout=timeout)

    def kill_process_group(self) -> None:
        """SIGKILL the CLI's process group, as `kill -9 -PGID` does. Pulumi starts each plugin
        (the language host, the provider running helm) in a process group of its own, so those
        keep running, orphaned; `kill_tree` ends them later."""
        self.orphans = process_tree(self.proc.pid)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def kill_tree(self) -> None:
        """SIGKILL the CLI and everything it started, as a lost runner or an OOM-killed container
        ends them; every process is frozen first, so none can fork or clean up in between."""
        frozen: dict[int, str] = {}
        while new := {p: t for p, t in self._members().items() if frozen.get(p) != t}:
            for pid in new:
                _signal(pid, signal.SIGSTOP)
            frozen.update(new)
        for pid in frozen:
            _signal(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def _members(self) -> dict[int, str]:
        live = process_tree(self.proc.pid) if self.proc.poll() is None else {}
        for pid, started in self.orphans.items():
            if _stat(pid)[19:20] == [started]:  # the same process, not a new one with its pid
                live.update(process_tree(pid))
        return live


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def start(project: Project, command: str, stack: str, *args: str, env: dict[str, str] | None = None) -> Background:
    """`pulumi COMMAND --stack STACK` on the project copy, in the background, non-interactive."""
    project.stack(stack)  # creates it if new, and registers it for the teardown's destroy
    yes = ["--yes", "--skip-preview"] if command in ("up", "destroy") else ["--yes"] if command in ("refresh", "cancel") else []
    log = project.root.parent / f"{command}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(TOOLS / "bin" / "pulumi"), command, *yes, *args, "--stack", stack, "--non-interactive",
             "--color", "never", "--cwd", str(project.root)],
            env={**project.env(), **(env or {})}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Background(proc, log)


@dataclass
class Result:
    ok: bool
    output: str


def pulumi(project: Project, command: str, stack: str, *args: str, env: dict[str, str] | None = None,
           timeout: float = 600) -> Result:
    """`pulumi COMMAND` to completion, as typed in a shell; never raises on failure."""
    op = start(project, command, stack, *args, env=env)
    try:
        rc = op.wait(timeout)
    except subprocess.TimeoutExpired:
        op.kill_tree()
        raise AssertionError(f"pulumi {command} still running after {timeout:.0f}s:\n{op.output()}") from None
    return Result(rc == 0, op.output())


@pytest.fixture
def background(project: Project) -> Iterator[Callable[..., Background]]:
    """`start`, plus the guarantee that nothing a test started outlives it."""
    ops: list[Background] = []

    def run(*args: Any, **kwargs: Any) -> Background:
        ops.append(op := start(project, *args, **kwargs))
        return op

    yield run
    for op in ops:
        op.kill_tree()
    for name in sorted(project.used):  # a killed CLI leaves its lock: the teardown's destroy needs it gone
        pulumi(project, "cancel", name)


# --- the stack and the cluster, as they must be after any fault ----------------------------------

def stack_state(project: Project, stack: str) -> dict[str, Any]:
    """`pulumi stack export`'s deployment, exactly as a user would read it."""
    return json.loads(project.cli("stack", "export", "--stack", stack))["deployment"]


def pending_operations(project: Project, stack: str) -> list[tuple[str, str]]:
    return [(op["type"], op["resource"]["urn"].rsplit("::", 1)[1])
            for op in stack_state(project, stack).get("pending_operations") or []]


def step_names(state: dict[str, Any]) -> set[str]:
    return {r["urn"].rsplit("::", 1)[1] for r in state.get("resources") or [] if r["type"].startswith(STEP_TYPE)}


def helm_releases(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each chart's `kubernetes:helm.sh/v3:Release` (named as the chart): its recorded status."""
    return {r["urn"].rsplit("::", 1)[1]: (r.get("outputs") or {}).get("status") or {}
            for r in state.get("resources") or [] if r["type"] == "kubernetes:helm.sh/v3:Release"}


def declared_steps(*charts: str) -> set[str]:
    return {f"{c}-{s.suffix}" for c in charts for s in LIFECYCLE}


def release_status(cluster: Cluster, namespace: str, release: str) -> str:
    """The newest revision's status ('' when Helm has no record)."""
    secrets = cluster.release_secrets(namespace, release)
    newest = max(secrets, key=lambda s: int(s.metadata.labels["version"]), default=None)
    return newest.metadata.labels["status"] if newest else ""


@dataclass
class Converged:
    """What every fault test ends with: the stack exactly as declared, nothing pending in it,
    and each declared release deployed on its newest revision, its pods ready."""

    project: Project
    cluster: Cluster

    def __call__(self, stack: str, *releases: str, ready_pods: int = 1) -> dict[str, Any]:
        state = stack_state(self.project, stack)
        assert not state.get("pending_operations"), state.get("pending_operations")
        assert step_names(state) == declared_steps(*releases)
        recorded = helm_releases(state)
        assert set(recorded) == set(releases), recorded
        ns = self.project.namespace
        for name in releases:
            assert release_status(self.cluster, ns, name) == "deployed", self.cluster.release_secrets(ns, name)
            assert [s.metadata.labels["status"] for s in self.cluster.release_secrets(ns, name)].count("deployed") == 1
            assert self.cluster.ready_pods(ns, name) == ready_pods
            assert recorded[name].get("status") == "deployed", recorded[name]
            assert recorded[name].get("revision") == self.cluster.deployed_revision(ns, name), recorded[name]
        return state


@pytest.fixture
def converged(project: Project, cluster: Cluster) -> Converged:
    return Converged(project, cluster)


# --- capacity that arrives later -----------------------------------------------------------------

POOL_LABEL = "fault-pool"


@dataclass
class Capacity:
    """Pods that select `fault-pool=<value>` find no node (helm keeps waiting) until `arrive()`
    labels one: the declared state stays the same, the cluster catches up, as a scaled-up
    node pool would."""

    api: client.ApiClient
    value: str
    node: str = ""

    @property
    def value_setting(self) -> dict[str, str]:
        return {"key": f"nodeSelector.{POOL_LABEL}", "value": self.value}

    def _label(self, value: str | None) -> None:
        client.CoreV1Api(self.api).patch_node(self.node, {"metadata": {"labels": {POOL_LABEL: value}}})

    def arrive(self) -> None:
        self.node = client.CoreV1Api(self.api).list_node().items[0].metadata.name
        self._label(self.value)

    def leave(self) -> None:
        if self.node:
            self._label(None)


@pytest.fixture
def capacity(cluster: Cluster, project: Project) -> Iterator[Capacity]:
    pool = Capacity(cluster.api, project.namespace)
    yield pool
    pool.leave()


# --- the control plane ---------------------------------------------------------------------------

def control_plane(action: str) -> None:
    """`scripts/cluster stop|start`: this checkout's cluster ($HELMLIFE_CLUSTER_NAME) only."""
    proc = LocalCluster.from_env().script(action)
    assert proc.returncode == 0, f"scripts/cluster {action} failed:\n{proc.stderr}"


# --- state in a shared bucket ----------------------------------------------------------------------

@dataclass
class SharedBackend:
    """The project's stacks kept in `bucket` of the local object store, as a team's are in theirs.
    Pulumi's own layout there: .pulumi/stacks/<project>/<stack>.json and, while a run holds the
    stack, .pulumi/locks/organization/<project>/<stack>/<id>.json."""

    store: ObjectStore
    bucket: str

    def keys(self, prefix: str = "") -> list[str]:
        return [k for k in self.store.keys(self.bucket) if k.startswith(prefix)]

    def checkpoint(self, stack: str) -> dict[str, Any]:
        """The stack's checkpoint, read from the bucket (not through Pulumi)."""
        return json.loads(self.store.request("GET", f"{self.bucket}/.pulumi/stacks/helmlife/{stack}.json"))

    def locks(self, stack: str) -> list[str]:
        return self.keys(f".pulumi/locks/organization/helmlife/{stack}/")


@pytest.fixture
def shared(project: Project, objectstore: ObjectStore) -> Iterator[SharedBackend]:
    """`project` with its state in a new bucket of the session's object store: every CLI run of
    it (and helmlife's commands) gets the backend URL, the passphrase and the store's keys.
    Afterwards the store is up again, whatever the test did to it, for the project's destroy."""
    bucket = objectstore.new_bucket()
    project.extra_env.update(objectstore.env(bucket))
    yield SharedBackend(objectstore, bucket)
    if objectstore.script("status").returncode != 0:
        objectstore.up()
