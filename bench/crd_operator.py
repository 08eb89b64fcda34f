"""helmlife against plain helm on an operator chart with ten large CRDs (charts/big-operator).

    source .tools/env && scripts/cluster up
    python bench/crd_operator.py [--runs 3] [--chart charts/big-operator]

Each run, in one process and on the same cluster: `helm install --wait`, `helm uninstall
--wait` (then the CRDs are removed outside the clock: helm leaves crds/ behind, and the next
install must start from the same empty cluster), `pulumi up` of a one-chart stack, `pulumi
destroy` (which also deletes the CRDs, after checking them for custom resources). Printed:
the medians and their ratios. The machine is shared, so read the ratio, not the seconds; no
test asserts on timings.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helmlife import crds as chart_crds  # noqa: E402
from tests.e2e.conftest import KUBECONFIG, TOOLS, Project, chart, copy_project  # noqa: E402

MAIN = "from helmlife.program import deploy_stack\n\ndeploy_stack()\n"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def helm(*args: str) -> None:
    subprocess.run([str(TOOLS / "bin" / "helm"), *args, "--kubeconfig", str(KUBECONFIG)],
                   check=True, capture_output=True, text=True)


def remove_crds(api: client.ApiClient, names: list[str]) -> None:
    ext = client.ApiextensionsV1Api(api)
    for name in names:
        try:
            ext.delete_custom_resource_definition(name)
        except client.exceptions.ApiException as err:
            if err.status != 404:
                raise
    while set(names) & {c.metadata.name for c in ext.list_custom_resource_definition().items}:
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chart", default="charts/big-operator")
    args = parser.parse_args()
    api = config.new_client_from_config(str(KUBECONFIG))
    crds = [c.name for c in chart_crds.chart_crds(ROOT / args.chart, {})]
    work = Path(tempfile.mkdtemp(prefix="helmlife-bench-"))
    copy_project(work / "project", MAIN)
    project = Project(work / "project", work / "journal.jsonl", "bench-helmlife")
    project.write_stack("bench", [chart("op", project.namespace, args.chart, timeout="120s")])
    stack = project.stack("bench")
    chart_path = str(ROOT / args.chart)
    remove_crds(api, crds)
    times: dict[str, list[float]] = {"helm install --wait": [], "helm uninstall": [],
                                     "helmlife up": [], "helmlife destroy": []}
    for run in range(args.runs):
        times["helm install --wait"].append(timed(lambda: helm(
            "install", "op", chart_path, "-n", "bench-helm", "--create-namespace", "--wait", "--timeout", "120s")))
        times["helm uninstall"].append(timed(lambda: helm("uninstall", "op", "-n", "bench-helm", "--wait")))
        remove_crds(api, crds)
        times["helmlife up"].append(timed(lambda: stack.up(color="never")))
        times["helmlife destroy"].append(timed(lambda: stack.destroy(color="never")))
        print(f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{len(crds)} CRDs, medians of {args.runs} runs")
    print(f"{'operation':<24}{'helmlife':>10}{'helm':>10}{'ratio':>8}")
    for ours, theirs, label in (("helmlife up", "helm install --wait", "up / install --wait"),
                                ("helmlife destroy", "helm uninstall", "destroy / uninstall")):
        print(f"{label:<24}{med[ours]:>9.2f}s{med[theirs]:>9.2f}s{med[ours] / med[theirs]:>7.2f}x")
    stack.workspace.remove_stack("bench", force=True)


if __name__ == "__main__":
    main()
