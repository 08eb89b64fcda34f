"""What the manifest diff costs a no-change `pulumi preview` of the dev stack.

Deploys the dev stack (if needed), then times no-change previews with the manifest diff on
and off (`HELMLIFE_MANIFEST_DIFF=off`), interleaved, and prints the ratio of the medians.
Run after `source .tools/env` with the local cluster up:

    python bench/preview_cost.py [--runs 7] [--stack dev]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pulumi(*args: str, diff: str = "on") -> float:
    env = {**os.environ, "HELMLIFE_MANIFEST_DIFF": diff}
    started = time.perf_counter()
    subprocess.run(["pulumi", *args, "--non-interactive"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    subprocess.run(["pulumi", "stack", "select", "--create", args.stack], cwd=ROOT, check=True, capture_output=True)
    pulumi("up", "--stack", args.stack, "--yes")
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(args.runs):
        for mode in ("off", "on"):
            times[mode].append(pulumi("preview", "--stack", args.stack, "--expect-no-changes", diff=mode))
    medians = {mode: statistics.median(t) for mode, t in times.items()}
    result = {"stack": args.stack, "runs": args.runs, "seconds": times, "median": medians,
              "ratio_on_over_off": medians["on"] / medians["off"]}
    (ROOT / "bench" / "preview_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"no-change preview of {args.stack}: diff off {medians['off']:.2f}s, on {medians['on']:.2f}s, "
          f"ratio {result['ratio_on_over_off']:.2f} (medians of {args.runs}, interleaved)")


if __name__ == "__main__":
    main()
