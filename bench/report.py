"""From timed runs to what the benchmark reports: medians, ratios, targets, a table and a figure.

Every figure is a median over the repetitions of one cell (tool, size, operation) of the same
run, and every ratio is a ratio of such medians.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from drivers import OPS

RATIOS = (("B", "A"), ("B", "H"), ("B", "C"))
FLAT_TOLERANCE = 1.10  # seconds per chart at the largest size may exceed the N=10 figure by this much (noise)


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, dict[str, float]]]]:
    """{tool: {n: {op: {"seconds", "peak_rss_mb", "runs"}}}}"""
    cells: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        cells[(r["tool"], r["n"], r["op"])].append(r)
    out: dict[str, dict[int, dict[str, dict[str, float]]]] = defaultdict(lambda: defaultdict(dict))
    for (tool, n, op), rs in cells.items():
        out[tool][n][op] = {"seconds": statistics.median(r["seconds"] for r in rs),
                            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs), "runs": len(rs)}
    return {t: dict(v) for t, v in out.items()}


def cell(med: dict[str, Any], tool: str, n: int, op: str, field: str = "seconds") -> float | None:
    return ((med.get(tool) or {}).get(n) or {}).get(op, {}).get(field)


def ratio(med: dict[str, Any], a: str, b: str, n: int, op: str) -> float | None:
    x, y = cell(med, a, n, op), cell(med, b, n, op)
    return x / y if x is not None and y else None


# Issue 17's targets, as ratios of medians from one run, at N = 10 and 60: helmlife (B)
# against the plain Release program (A) and against helmfile (H).
B_OVER_A = {"up": 1.3, "upgrade": 1.3, "destroy": 1.5, "preview": 2.0}
B_OVER_H = {"up": 1.0, "upgrade": 1.0, "destroy": 1.0}
TARGET_SIZES = (10, 60)


def targets(med: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    """Each target as {target, value, limit, holds}; a target without data is left out."""
    found: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float) -> None:
        if value is not None:
            found.append({"target": name, "value": round(value, 3), "limit": limit, "holds": value <= limit})

    for n in TARGET_SIZES:
        for op, limit in B_OVER_A.items():
            add(f"B/A {op} N={n}", ratio(med, "B", "A", n, op), limit)
        for op, limit in B_OVER_H.items():
            add(f"B/H {op} N={n}", ratio(med, "B", "H", n, op), limit)
    if 10 in sizes and max(sizes) > 10:  # seconds per chart flat or falling as N grows (issue 8)
        largest = max(sizes)
        for op in OPS:
            small, big = cell(med, "B", 10, op), cell(med, "B", largest, op)
            if small and big is not None:
                add(f"B s/chart N={largest} over N=10, {op}", (big / largest) / (small / 10), FLAT_TOLERANCE)
    return found


def table(med: dict[str, Any], sizes: list[int]) -> str:
    """Seconds (medians), the ratios, helmlife's seconds per chart and peak RSS (MB) of each tool."""
    lines = []
    head = (f"{'op':8} {'N':>3} | {'B s':>7} {'A s':>7} {'H s':>7} {'C s':>7} | {'B/A':>5} {'B/H':>5} {'B/C':>5} | "
            f"{'B s/ch':>6} {'A s/ch':>6} {'H s/ch':>6} {'C s/ch':>6} | {'MB B':>5} {'MB A':>5} {'MB H':>5} {'MB C':>5}")
    lines += [head, "-" * len(head)]

    def f(v: float | None, width: int, digits: int = 1) -> str:
        return f"{v:{width}.{digits}f}" if v is not None else f"{'-':>{width}}"

    for op in OPS:
        for n in sizes:
            secs = [cell(med, t, n, op) for t in "BAHC"]
            ratios = [ratio(med, a, b, n, op) for a, b in RATIOS]
            per = [s / n if s is not None else None for s in secs]
            mem = [cell(med, t, n, op, "peak_rss_mb") for t in "BAHC"]
            lines.append(f"{op:8} {n:3d} | " + " ".join(f(s, 7) for s in secs) + " | "
                         + " ".join(f(r, 5, 2) for r in ratios) + " | " + " ".join(f(p, 6, 2) for p in per)
                         + " | " + " ".join(f(m, 5, 0) for m in mem))
    return "\n".join(lines)


def plot(med: dict[str, Any], sizes: list[int], labels: dict[str, str], path: Path, note: str) -> None:
    """Seconds per chart (top) and peak RSS of the process tree (bottom) against N, per operation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(OPS), figsize=(4.2 * len(OPS), 7.5), sharex=True)
    for col, op in enumerate(OPS):
        for tool in "BAHC":
            xs = [n for n in sizes if cell(med, tool, n, op) is not None]
            if not xs:
                continue
            axes[0][col].plot(xs, [cell(med, tool, n, op) / n for n in xs], marker="o", label=f"{tool}: {labels[tool]}")
            axes[1][col].plot(xs, [cell(med, tool, n, op, "peak_rss_mb") for n in xs], marker="o")
        axes[0][col].set_title(op)
        axes[0][col].set_ylim(bottom=0)
        axes[1][col].set_ylim(bottom=0)
        axes[1][col].set_xlabel("charts (N)")
        axes[1][col].set_xscale("log")
        axes[1][col].set_xticks(sizes, [str(s) for s in sizes])
    axes[0][0].set_ylabel("seconds per chart (median)")
    axes[1][0].set_ylabel("peak RSS of the process tree, MB")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=4, frameon=False)
    fig.text(0.5, 0.005, note, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 0.94))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
