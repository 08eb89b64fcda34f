"""When each resource's operation started and ended in one Pulumi run, from its `--event-log`
(compare.py writes one per run with HELMLIFE_BENCH_EVENTS=dir): says whether steps ran side by
side or in a row, and which kind of resource the run waited on.

    python bench/timeline.py DIR/B-upgrade-n60.jsonl           # a summary by resource type
    python bench/timeline.py DIR/B-upgrade-n60.jsonl --each    # and every resource, in start order
"""
from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path


def spans(path: Path) -> dict[str, tuple[float, float]]:
    """{urn: (start, end)} in seconds from the run's first event (the log's stamps are whole seconds)."""
    first: float | None = None
    start: dict[str, float] = {}
    end: dict[str, float] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        t = float(event.get("timestamp", 0))
        first = t if first is None else first
        for kind, into in (("resourcePreEvent", start), ("resOutputsEvent", end), ("resOpFailedEvent", end)):
            if kind in event:
                urn = event[kind]["metadata"]["urn"]
                if into is start:
                    start.setdefault(urn, t - first)
                else:
                    end[urn] = t - first
    return {urn: (s, end.get(urn, s)) for urn, s in start.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path)
    parser.add_argument("--each", action="store_true")
    args = parser.parse_args()
    found = spans(args.log)
    by_type: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for urn, span in found.items():
        by_type[urn.split("::")[-2].split("$")[-1]].append(span)
    print(f"{'type':55} {'n':>4} {'first start':>11} {'last start':>10} {'last end':>8} {'median s':>8}")
    for kind, items in sorted(by_type.items(), key=lambda kv: min(s for s, _ in kv[1])):
        print(f"{kind:55} {len(items):4d} {min(s for s, _ in items):11.0f} {max(s for s, _ in items):10.0f} "
              f"{max(e for _, e in items):8.0f} {statistics.median(e - s for s, e in items):8.1f}")
    if args.each:
        for urn, (s, e) in sorted(found.items(), key=lambda kv: kv[1]):
            print(f"{s:5.0f} {e:5.0f}  {urn.split('::')[-1]}")


if __name__ == "__main__":
    main()
