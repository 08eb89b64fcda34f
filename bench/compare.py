"""helmlife side by side with plain Pulumi, helmfile and helm (issues 8 and 17).

For N charts (copies of the demo charts, each in its own namespace, a third with CRDs), times
`up` from an empty cluster, a no-change `preview`, an `upgrade` of every chart and `destroy`,
for B (helmlife through the real `pulumi` CLI), A (a plain Pulumi program of pulumi-kubernetes
`helm.v3.Release` resources), H
(helmfile) and C (helm, one release after another); see drivers.py. Sizes and tools are
interleaved within each repetition (the tool order rotates), so a noisy minute on a shared
machine spreads over all of them. Writes bench/results.json (every run, medians, ratios,
targets), prints the table and draws docs/benchmark.png.

Run after `scripts/bootstrap bench && source .tools/env`, with the local cluster up:

    python bench/compare.py                 # N = 10, 60 (the targets' sizes); 3 repetitions
    python bench/compare.py --quick         # N = 1, 10; 1 repetition (a smoke test)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import measure
import report
from cluster_state import Cluster
from drivers import DRIVERS, OPS, Driver, Workdir
from fleet import ROOT, releases

WORK = ROOT / "bench" / ".work"
ENV_KNOBS = ("PULUMI_PARALLEL", "PULUMI_PARALLEL_DIFF", "PULUMI_SKIP_CHECKPOINTS", "HELMLIFE_PROVIDER_THREADS",
             "HELMLIFE_MANIFEST_DIFF", "HELMLIFE_BENCH_PROFILE")


def versions(env: dict[str, str]) -> dict[str, str]:
    def out(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60).stdout.strip()
        except OSError as err:
            return f"unavailable: {err}"
    return {"pulumi": out("pulumi", "version"), "helm": out("helm", "version", "--short"),
            "helmfile": out("helmfile", "version", "-o", "short"),
            "helmlife": out("git", "-C", str(ROOT), "describe", "--always", "--dirty")}


def reset(cluster: Cluster, work: Workdir) -> None:
    """Uninstall whatever an interrupted run left and forget the benchmark's Pulumi state."""
    env = work.env()
    for ref in cluster.releases():
        ns, name = ref.split("/")
        subprocess.run(["helm", "uninstall", name, "-n", ns, "--wait"], env=env, check=True, capture_output=True)
    shutil.rmtree(work.root / "state", ignore_errors=True)
    for project in ("helmlife", "plain"):
        shutil.rmtree(work.root / project / "stacks", ignore_errors=True)
    cluster.reset()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,60", help="comma-separated chart counts")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tools", default="BAHC", help="any of B, A, H, C")
    parser.add_argument("--quick", action="store_true", help="N = 1, 10 and one repetition")
    parser.add_argument("--reset", action="store_true", help="first clean up what an interrupted run left")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "benchmark.png")
    parser.add_argument("--report", type=Path, metavar="RESULTS",
                        help="only print the table and draw the figure of an earlier (or interrupted) run")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())
        finish(saved["meta"], saved["runs"], args.figure)
        return 0
    sizes = [1, 10] if args.quick else sorted(int(s) for s in args.sizes.split(","))
    reps = 1 if args.quick else args.reps
    work = Workdir(WORK)
    env = work.env()
    missing = [t for t in ("pulumi", "helm", "helmfile") if shutil.which(t, path=env["PATH"]) is None]
    if missing or not work.kubeconfig.exists():
        sys.exit(f"missing {', '.join(missing) or 'the cluster'}: run scripts/bootstrap bench, "
                 "source .tools/env and scripts/cluster up")
    cluster = Cluster(work.kubeconfig)
    if args.reset:
        reset(cluster, work)
    if cluster.releases():
        sys.exit(f"releases left from an earlier run: {cluster.releases()[:5]}...; run again with --reset")
    cluster.reset()
    fleet = releases(max(sizes), work.charts)
    cluster.ensure_namespaces(max(sizes))
    drivers: list[Driver] = [DRIVERS[k](work) for k in args.tools]
    for d in drivers:
        for n in sizes:
            d.prepare(n)
    meta: dict[str, Any] = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "load_at_start": measure.load(), "sizes": sizes, "repetitions": reps,
        "tools": {d.key: d.label for d in drivers}, "versions": versions(env),
        "env": {k: env[k] for k in ENV_KNOBS if k in env}, "command": " ".join(sys.argv),
    }
    runs: list[dict[str, Any]] = []

    def save() -> dict[str, Any]:
        med = report.medians(runs)
        doc = {"meta": {**meta, "load_at_end": measure.load()}, "medians": med,
               "ratios": {n: {op: {f"{a}/{b}": report.ratio(med, a, b, n, op) for a, b in report.RATIOS}
                              for op in OPS} for n in sizes},
               "targets": report.targets(med, sizes), "runs": runs}
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
        return doc

    for rep in range(reps):
        for i, n in enumerate(sizes):
            shift = (rep + i) % len(drivers)
            for d in drivers[shift:] + drivers[:shift]:
                load = measure.load()[0]
                for op in OPS:
                    cmd = d.command(op, n, fleet[:n])
                    if cmd is None:
                        continue
                    m = measure.run(cmd, cwd=d.cwd, env=env, log=work.logs / f"{d.key}-n{n}-rep{rep}.log")
                    runs.append({"tool": d.key, "n": n, "op": op, "rep": rep, "seconds": round(m.seconds, 3),
                                 "peak_rss_mb": round(m.peak_rss_mb, 1), "cpu_seconds": m.cpu_seconds,
                                 "load1": round(load, 2)})
                    print(f"rep {rep + 1}/{reps} N={n:<3} {d.key} {op:8} {m.seconds:7.1f}s {m.peak_rss_mb:6.0f} MB"
                          f"  (load {load:.1f})", flush=True)
                left = cluster.releases()
                if left:
                    sys.exit(f"{d.key}'s destroy left releases {left[:5]}; see {work.logs}")
                cluster.reset()
                save()
    save()
    finish(meta, runs, args.figure)
    print(f"wrote {args.out}")
    return 0


def finish(meta: dict[str, Any], runs: list[dict[str, Any]], figure: Path) -> None:
    """Print the table and the targets and draw the figure, from the runs made so far (an
    interrupted run reports the repetitions it completed: each cell says how many)."""
    sizes = sorted({r["n"] for r in runs})
    med = report.medians(runs)
    print()
    print(report.table(med, sizes))
    print()
    for t in report.targets(med, sizes):
        print(f"{'holds ' if t['holds'] else 'MISSED'} {t['target']}: {t['value']} (limit {t['limit']:.3g})")
    load = meta["load_at_start"]
    reps = max((r["rep"] for r in runs), default=0) + 1
    report.plot(med, sizes, {k: d.label for k, d in DRIVERS.items()}, figure,
                f"medians of up to {reps} interleaved repetitions, {meta['cpus']} CPUs, load at start "
                f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, {meta['started']}")
    print(f"\ndrew {figure}")

if __name__ == "__main__":
    sys.exit(main())
