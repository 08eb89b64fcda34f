"""The four ways the benchmark deploys the same releases, each as the command a user types.

    B  helmlife: `pulumi up / preview / destroy` of a helmlife project, every lifecycle step on
    A  `pulumi up / preview / destroy` of bench/plain_release.py: one pulumi-kubernetes
       `helm.v3.Release` per chart on one `kubernetes.Provider`
    H  `helmfile sync / destroy`, default concurrency (helmfile has no preview without plugins)
    C  the helm CLI alone, one release after another: the floor of the Helm work

Each driver writes the files an operation needs (stack config, helmfile, values files) and
returns the command; `compare.py` times it. `up` starts from an empty cluster, `preview` is a
no-change preview right after it, `upgrade` changes one value of every chart, `destroy`
removes everything. All four pass helm the same flags: `--atomic --wait --create-namespace
--reset-values --timeout 180s` on install and upgrade, `--wait` on uninstall (the Release's
delete waits when the release is atomic, as B's and A's are). The Pulumi commands use
`--skip-preview` (as `helmfile sync` and helm, they do not show a plan before applying;
the plan is the separately timed `preview`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fleet import ROOT, Release, dotted

OPS = ("up", "preview", "upgrade", "destroy")
TIMEOUT = "180s"
PASSPHRASE = "helmlife-bench"  # the benchmark's own file backend only


@dataclass(frozen=True)
class Workdir:
    """Everything generated at run time, under a git-ignored directory."""

    root: Path

    @property
    def charts(self) -> Path:
        return self.root / "charts"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kubeconfig(self) -> Path:
        """The local cluster's ($HELMLIFE_CLUSTER_NAME's), where scripts/cluster up writes it."""
        from helmlife.runner import local_kubeconfig

        return local_kubeconfig(ROOT)

    def env(self) -> dict[str, str]:
        """The shell a user has after `source .tools/env`, with the benchmark's own state backend."""
        from helmlife.runner import tool_env

        env = {**os.environ, **tool_env(ROOT)}
        env.update(PULUMI_BACKEND_URL=f"file://{self.root / 'state'}", PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
                   KUBECONFIG=str(self.kubeconfig), PYTHONPATH=str(ROOT),
                   HELMFILE_UPGRADE_NOTICE_DISABLED="true")  # it would ask github.com for a newer release
        for name in ("HELMLIFE_JOURNAL", "HELMLIFE_BACKEND_URL"):
            env.pop(name, None)
        (self.root / "state").mkdir(parents=True, exist_ok=True)
        return env


class Driver(ABC):
    key: str
    label: str

    def __init__(self, work: Workdir) -> None:
        self.work = work

    @property
    def cwd(self) -> Path:
        return self.work.root

    def prepare(self, n: int) -> None:
        """Untimed set-up before a size's first operation."""

    @abstractmethod
    def command(self, op: str, n: int, releases: list[Release]) -> list[str] | None:
        """The command for `op` (None: the tool has no such operation)."""


class PulumiDriver(Driver):
    """A Pulumi project in the work directory; one stack per size (`n10`)."""

    project: str
    program: Path

    @property
    def cwd(self) -> Path:
        return self.work.root / self.project

    def prepare(self, n: int) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        (self.cwd / "stacks").mkdir(exist_ok=True)
        settings = {"name": f"bench-{self.project}", "runtime": {"name": "python", "options": {
            "toolchain": "uv", "virtualenv": str(ROOT / ".venv")}}, "stackConfigDir": "stacks"}
        (self.cwd / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        shutil.copy2(self.program, self.cwd / "__main__.py")
        if not self.stack_file(n).exists():
            subprocess.run(["pulumi", "stack", "init", f"n{n}", "--secrets-provider", "passphrase", "--non-interactive"],
                           cwd=self.cwd, env=self.work.env(), check=True, capture_output=True)

    def stack_file(self, n: int) -> Path:
        return self.cwd / "stacks" / f"Pulumi.n{n}.yaml"

    def write_config(self, n: int, config: dict[str, Any]) -> None:
        path = self.stack_file(n)
        doc = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        doc["config"] = config
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    @abstractmethod
    def config(self, releases: list[Release], upgraded: bool) -> dict[str, Any]: ...

    def command(self, op: str, n: int, releases: list[Release]) -> list[str] | None:
        stack = ["--stack", f"n{n}", "--non-interactive"]
        if profile := os.environ.get("HELMLIFE_BENCH_PROFILE"):  # the engine's Go CPU profile, for pprof
            stack += ["--profiling", f"{profile}/{self.key}-{op}-n{n}"]
        if op in ("up", "upgrade"):
            self.write_config(n, self.config(releases, upgraded=op == "upgrade"))
            return ["pulumi", "up", "--yes", "--skip-preview", *stack]
        if op == "preview":
            return ["pulumi", "preview", "--expect-no-changes", *stack]
        return ["pulumi", "destroy", "--yes", "--skip-preview", *stack]


class Helmlife(PulumiDriver):
    key, label, project = "B", "helmlife (pulumi CLI)", "helmlife"
    program = ROOT / "bench" / "helmlife_program.py"

    def config(self, releases: list[Release], upgraded: bool) -> dict[str, Any]:
        def spec(r: Release) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "name": r.name, "chart": str(r.chart), "namespace": r.namespace, "create_namespace": True,
                "timeout": TIMEOUT, "values": [{"key": k, "value": v} for k, v in dotted(r.values(upgraded))]}
            if r.crds:
                entry["crds"] = list(r.crds)
            return entry
        return {"helmlife:kubeconfig_path": str(self.work.kubeconfig), "helmlife:charts": [spec(r) for r in releases]}


class PlainPulumi(PulumiDriver):
    key, label, project = "A", "plain Pulumi helm.v3.Release", "plain"
    program = ROOT / "bench" / "plain_release.py"

    def config(self, releases: list[Release], upgraded: bool) -> dict[str, Any]:
        charts = [{"name": r.name, "namespace": r.namespace, "chart": str(r.chart), "values": r.values(upgraded),
                   "timeout_seconds": int(TIMEOUT[:-1])} for r in releases]
        return {"plain:kubeconfig_path": str(self.work.kubeconfig), "plain:charts": charts}


class Helmfile(Driver):
    key, label = "H", "helmfile"

    def command(self, op: str, n: int, releases: list[Release]) -> list[str] | None:
        if op == "preview":
            return None
        path = self.work.root / "helmfile" / f"n{n}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            # wait applies to uninstall too (helmfile destroy), as helmlife's uninstall waits.
            "helmDefaults": {"wait": True, "atomic": True, "createNamespace": True, "timeout": int(TIMEOUT[:-1])},
            "releases": [{"name": r.name, "namespace": r.namespace, "chart": str(r.chart),
                          "values": [r.values(upgraded=op == "upgrade")]} for r in releases],
        }
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return ["helmfile", "--file", str(path), "sync" if op != "destroy" else "destroy"]


class HelmSequence(Driver):
    key, label = "C", "helm CLI, one release after another"

    def command(self, op: str, n: int, releases: list[Release]) -> list[str] | None:
        if op == "preview":
            return None
        folder = self.work.root / "helm" / f"n{n}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = ["set -eu"]
        for r in releases:
            if op == "destroy":
                lines.append(f"helm uninstall {r.name} -n {r.namespace} --wait --timeout {TIMEOUT}")
                continue
            values = folder / f"{r.name}-{op}.yaml"
            values.write_text(yaml.safe_dump(r.values(upgraded=op == "upgrade")))
            lines.append(f"helm upgrade {r.name} {r.chart} --install --reset-values -n {r.namespace} --create-namespace"
                         f" --atomic --wait --timeout {TIMEOUT} -f {values}")
        script = folder / f"{op}.sh"
        script.write_text("\n".join(lines) + "\n")
        return ["bash", str(script)]


DRIVERS: dict[str, type[Driver]] = {d.key: d for d in (Helmlife, PlainPulumi, Helmfile, HelmSequence)}
