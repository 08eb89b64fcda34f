"""The helm CLI, driven with a private kubeconfig file per call.

helmlife runs helm itself (rather than through the pulumi-kubernetes provider, which could
not be built from a registry on our machines, see docs/toolchain.md) so the release step
is an ordinary dynamic-provider resource like the other lifecycle steps. Kubeconfig and
values reach helm through 0600 temporary files that are removed after each call; nothing
secret is ever put on a command line or in a log.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

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

    def args(self) -> list[str]:
        if self.path:
            return [self.path]
        assert self.repo and self.name and self.version
        return [self.name, "--repo", self.repo, "--version", self.version]


def helm_binary() -> str:
    found = shutil.which("helm")
    if not found:
        root = os.environ.get("HELMLIFE_ROOT")
        candidate = Path(root, ".tools", "bin", "helm") if root else None
        if candidate and candidate.exists():
            return str(candidate)
        raise FileNotFoundError("the helm CLI is not on PATH; run scripts/bootstrap and source .tools/env")
    return found


@contextlib.contextmanager
def private_file(content: str, suffix: str) -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="helmlife-", suffix=suffix)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        os.chmod(path, 0o600)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class Helm:
    """One cluster's helm: every call uses the kubeconfig content given here."""

    def __init__(self, kubeconfig: str, context: str | None = None) -> None:
        self._kubeconfig = kubeconfig
        self._context = context

    def run(self, *args: str, timeout: float | None = None) -> str:
        with private_file(self._kubeconfig, ".kubeconfig") as kc:
            cmd = [helm_binary(), *args, "--kubeconfig", kc]
            if self._context:
                cmd += ["--kube-context", self._context]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise HelmError(list(args), proc.stderr or proc.stdout)
        return proc.stdout

    def upgrade_install(
        self,
        release: str,
        namespace: str,
        chart: ChartRef,
        values: list[dict[str, Any]],
        *,
        atomic: bool,
        wait: bool,
        timeout: str,
        force: bool,
        dry_run: bool,
        create_namespace: bool,
    ) -> dict[str, Any]:
        """Install or upgrade; returns helm's JSON description of the resulting release."""
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(private_file(yaml.safe_dump(v), ".values.yaml")) for v in values if v]
            args = ["upgrade", release, *chart.args(), "--install", "-n", namespace, "--timeout", timeout, "-o", "json"]
            for f in files:
                args += ["-f", f]
            if atomic:
                args.append("--atomic")
            if wait:
                args.append("--wait")
            if force:
                args.append("--force")
            if dry_run:
                args.append("--dry-run=server")
            if create_namespace:
                args.append("--create-namespace")
            return json.loads(self.run(*args))

    def uninstall(self, release: str, namespace: str, timeout: str, wait: bool = True) -> bool:
        """Uninstall; False when there was nothing to uninstall (so deletes are idempotent)."""
        args = ["uninstall", release, "-n", namespace, "--timeout", timeout]
        if wait:
            args.append("--wait")
        try:
            self.run(*args)
        except HelmError as err:
            if "not found" in err.stderr:
                return False
            raise
        return True

    def pull(self, chart: ChartRef, dest: Path) -> None:
        """Download and unpack a repository chart into `dest` (a directory named after the chart)."""
        self.run("pull", *chart.args(), "--untar", "--untardir", str(dest))
