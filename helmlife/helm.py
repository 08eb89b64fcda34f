"""The helm CLI, driven with a private kubeconfig file per call.

The Release (pulumi-kubernetes) installs, upgrades and uninstalls; the steps around it still
call helm for what the plugin does not offer: the render preview shows and checks, a local
chart's sub-charts, pulling a repository chart to read its CRDs, and remediating a release a
dead helm left pending (rollback or uninstall). Kubeconfig, values
and chart-source credentials reach helm through 0600 temporary files (in a 0700 directory)
that are removed after each call, or through stdin; nothing secret is ever put on a command
line or in a log.

A private chart source gets a repository config of its own per call: for an HTTP(S)
repository a `repositories.yaml` holding the credentials and CA file, refreshed with `helm
repo update` and referenced as `helmlife/<chart>`; for an OCI registry a registry config that
`helm registry login --password-stdin` fills. helm's own repository and registry configs are
never read or written for them.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml


class HelmError(RuntimeError):
    """helm exited non-zero; `stderr` holds its own explanation."""

    def __init__(self, args: list[str], stderr: str) -> None:
        self.stderr = stderr.strip()
        super().__init__(f"helm {args[0]} failed: {self.stderr}")


@dataclass(frozen=True)
class ChartRef:
    """Where helm finds a chart: a local directory, or repo URL + name + version."""

    path: str | None = None
    repo: str | None = None
    name: str | None = None
    version: str | None = None

    @property
    def is_oci(self) -> bool:
        return bool(self.repo and self.repo.startswith("oci://"))

    def args(self) -> list[str]:
        """The chart on helm's command line for a public source (no credentials, no CA)."""
        if self.path:
            return [self.path]
        assert self.repo and self.name and self.version
        if self.is_oci:
            return [f"{self.repo}/{self.name}", "--version", self.version]
        return [self.name, "--repo", self.repo, "--version", self.version]


@dataclass(frozen=True)
class RepoAccess:
    """How to reach a private chart repository or registry: basic credentials and a CA bundle."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_pem: str | None = None

    @property
    def private(self) -> bool:
        return bool(self.username or self.ca_pem)


def helm_binary() -> str:
    """$HELMLIFE_HELM if set (a helm other than the first on PATH, which the Automation API
    reorders: it puts the pulumi binary's directory first), else helm on PATH."""
    found = os.environ.get("HELMLIFE_HELM") or shutil.which("helm")
    if found:
        return found
    root = os.environ.get("HELMLIFE_ROOT")
    candidate = Path(root, ".tools", "bin", "helm") if root else None
    if candidate and candidate.exists():
        return str(candidate)
    raise FileNotFoundError("the helm CLI is not on PATH; run scripts/bootstrap and source .tools/env")


@contextlib.contextmanager
def private_file(content: str, suffix: str, directory: str | None = None) -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="helmlife-", suffix=suffix, dir=directory)
    try:
        os.chmod(path, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def private_dir() -> Iterator[str]:
    """A 0700 scratch directory for one call's credentials and caches, removed afterwards."""
    path = tempfile.mkdtemp(prefix="helmlife-")  # mkdtemp makes it 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_helm(args: list[str], stdin: str | None = None, timeout: float | None = None) -> str:
    """helm with `args`; stdout, or HelmError with helm's own explanation."""
    proc = subprocess.run([helm_binary(), *args], capture_output=True, text=True, input=stdin, timeout=timeout)
    if proc.returncode != 0:
        raise HelmError(list(args), proc.stderr or proc.stdout)
    return proc.stdout


def _values_args(stack: contextlib.ExitStack, values: list[dict[str, Any]]) -> list[str]:
    """`-f FILE` per non-empty values layer, each file private and removed when `stack` closes."""
    return [arg for v in values if v
            for arg in ("-f", stack.enter_context(private_file(yaml.safe_dump(v), ".values.yaml")))]


PRIVATE_REPO_NAME = "helmlife"  # the one entry of a call's own repositories.yaml


class Helm:
    """One release's helm: every call uses the kubeconfig content given here, and repository
    charts are fetched with `access` (the chart source's credentials and CA), if any.

    `access` may be a function, called on the first chart fetch: calls that need no chart
    (uninstall at destroy) never read a CA file that may be gone by then."""

    def __init__(self, kubeconfig: str, context: str | None = None,
                 access: RepoAccess | Callable[[], RepoAccess] | None = None) -> None:
        self._kubeconfig = kubeconfig
        self._context = context
        self._access = access

    @functools.cached_property
    def access(self) -> RepoAccess:
        found = self._access() if callable(self._access) else self._access
        return found or RepoAccess()

    def run(self, *args: str, timeout: float | None = None, stdin: str | None = None) -> str:
        with private_file(self._kubeconfig, ".kubeconfig") as kc:
            cmd = [*args, "--kubeconfig", kc]
            if self._context:
                cmd += ["--kube-context", self._context]
            return run_helm(cmd, stdin=stdin, timeout=timeout)

    @contextlib.contextmanager
    def chart_args(self, chart: ChartRef) -> Iterator[list[str]]:
        """The chart's part of a helm command line, with whatever private config it needs
        prepared for the duration of the call."""
        if chart.path or not self.access.private:
            yield chart.args()
            return
        assert chart.repo and chart.name and chart.version
        with private_dir() as scratch:
            ca_args: list[str] = []
            if self.access.ca_pem:
                ca = os.path.join(scratch, "ca.pem")
                Path(ca).write_text(self.access.ca_pem)
                ca_args = ["--ca-file", ca]
            if chart.is_oci:
                args = [f"{chart.repo}/{chart.name}", "--version", chart.version, *ca_args]
                if self.access.username:
                    config = os.path.join(scratch, "registry.json")
                    host = chart.repo.removeprefix("oci://").split("/", 1)[0]
                    run_helm(["registry", "login", host, "--username", self.access.username, "--password-stdin",
                              "--registry-config", config, *ca_args], stdin=self.access.password or "")
                    args += ["--registry-config", config]
                yield args
                return
            entry = {"name": PRIVATE_REPO_NAME, "url": chart.repo}
            if self.access.username:
                entry.update(username=self.access.username, password=self.access.password or "")
            if ca_args:
                entry["caFile"] = ca_args[1]
            with private_file(yaml.safe_dump({"apiVersion": "", "repositories": [entry]}), ".repositories.yaml",
                              scratch) as repos:
                where = ["--repository-config", repos, "--repository-cache", os.path.join(scratch, "cache")]
                run_helm(["repo", "update", PRIVATE_REPO_NAME, *where])
                yield [f"{PRIVATE_REPO_NAME}/{chart.name}", "--version", chart.version, *where]

    def upgrade_install(self, release: str, namespace: str, chart: ChartRef, values: list[dict[str, Any]], *,
                        atomic: bool, wait: bool, timeout: str, force: bool, dry_run: bool,
                        create_namespace: bool) -> dict[str, Any]:
        """Install or upgrade; returns helm's JSON description of the resulting release."""
        with contextlib.ExitStack() as stack:
            files = _values_args(stack, values)
            chart_args = stack.enter_context(self.chart_args(chart))
            # --reset-values: the spec declares every value; without it helm reuses the previous
            # release's values whenever none are given, keeping changes made by hand.
            args = ["upgrade", release, *chart_args, "--install", "--reset-values", "-n", namespace,
                    "--timeout", timeout, "-o", "json", *files]
            flags = {"--atomic": atomic, "--wait": wait, "--force": force, "--dry-run=server": dry_run,
                     "--create-namespace": create_namespace}
            return json.loads(self.run(*args, *(flag for flag, on in flags.items() if on)))

    def template(self, release: str, namespace: str, chart: ChartRef, values: list[dict[str, Any]],
                 capabilities: list[str]) -> str:
        """The manifest of a fresh install without install's check that live objects belong to
        the release: lookups against the cluster (`--dry-run=server`), `.Capabilities` from
        `capabilities` (helm's own would be Kubernetes v1.20's), and, as in the release's
        manifest, no hook objects (`--no-hooks`: helm runs those, it does not install them)."""
        with contextlib.ExitStack() as stack:
            files = _values_args(stack, values)
            chart_args = stack.enter_context(self.chart_args(chart))
            return self.run("template", release, *chart_args, "-n", namespace, "--dry-run=server", "--no-hooks",
                            *capabilities, *files)

    def uninstall(self, release: str, namespace: str, timeout: str, wait: bool = True) -> bool:
        """Uninstall; False when there was nothing to uninstall (so deletes are idempotent)."""
        try:
            self.run("uninstall", release, "-n", namespace, "--timeout", timeout, *(["--wait"] if wait else []))
        except HelmError as err:
            if "not found" in err.stderr:
                return False
            raise
        return True

    def show_chart(self, chart: ChartRef) -> str:
        """Chart.yaml of the chart as its source serves it (for OCI registries, which have no index)."""
        with self.chart_args(chart) as args:
            return self.run("show", "chart", *args)

    def pull(self, chart: ChartRef, dest: Path) -> None:
        """Download and unpack a repository chart into `dest` (a directory named after the chart)."""
        with self.chart_args(chart) as args:
            self.run("pull", *args, "--untar", "--untardir", str(dest))
