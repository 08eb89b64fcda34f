"""Wall time and peak memory of one command and everything it starts.

The Pulumi CLI starts the language host, the program, the dynamic-provider process and, through
it, helm; helmfile starts helm too. What a user's machine has to hold is the sum over that
whole process tree, so the peak is sampled as the sum of resident set sizes over the tree
(psutil), every `interval` seconds. RSS counts shared pages once per process, so the sum is an
upper bound; every tool is measured the same way. The same samples keep each process's CPU
time, summed by role (`roles`), which says where the seconds went: the engine, the Python
program, the provider process, helm.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import psutil


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: dict[str, float]  # by role, as last sampled (a process's final slice may be missed)
    returncode: int
    log: Path


def role(proc: psutil.Process) -> str:
    """What a process of the tree is: engine, program, provider (helmlife's steps),
    kubernetes-plugin, language-host, helm, helmfile, other."""
    cmd = proc.cmdline()
    name = Path(cmd[0]).name if cmd else proc.name()
    if name == "pulumi":
        return "engine"
    if name.startswith("pulumi-language"):
        return "language-host"
    if "pulumi.dynamic" in cmd:
        return "provider"
    if name == "pulumi-resource-kubernetes":
        return "kubernetes-plugin"  # the Release's helm work runs in it
    if name.startswith("python") or name == "pulumi-resource-pulumi-python":
        return "program" if name.startswith("python") else "other"
    return name if name in ("helm", "helmfile", "uv") else "other"


class CommandFailed(RuntimeError):
    pass


def sample_tree(root: psutil.Process, cpu: dict[int, tuple[str, float]]) -> int:
    """Bytes resident in `root` and all its descendants right now (processes may vanish
    meanwhile); records each one's role and CPU seconds so far in `cpu` by pid."""
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            with proc.oneshot():
                total += proc.memory_info().rss
                times = proc.cpu_times()
                known = cpu.get(proc.pid)
                cpu[proc.pid] = (known[0] if known else role(proc), times.user + times.system)
        except psutil.Error:
            pass
    return total


def run(cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path, interval: float = 0.1,
        check: bool = True) -> Measurement:
    """Run `cmd` to completion, its output appended to `log`; wall time and peak tree RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        cpu: dict[int, tuple[str, float]] = {}
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            try:
                root = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                peak = max(peak, sample_tree(root, cpu))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    if check and code != 0:
        raise CommandFailed(f"{' '.join(cmd[:3])} ... exited {code}; see {log}")
    roles: dict[str, float] = {}
    for name, seconds_used in cpu.values():
        roles[name] = roles.get(name, 0.0) + seconds_used
    return Measurement(seconds, peak / 2**20, {k: round(v, 2) for k, v in sorted(roles.items())}, code, log)


def load() -> tuple[float, float, float]:
    """The machine's 1, 5 and 15 minute load averages (recorded with every run: timings on a
    shared machine are only as good as it was quiet)."""
    return os.getloadavg()
