"""Sub-charts of a local chart (`dependencies:` in Chart.yaml), resolved before helm installs it.

A chart directory from a repository checkout usually has its `dependencies:` declared but not
vendored (`charts/` is git-ignored), and `helm install` then refuses it ("found in Chart.yaml,
but missing in charts/ directory"). helmlife runs `helm dependency build` for it, but never in
the user's directory: into a scratch copy in a cache keyed by the chart's content digest, so a
build happens once per content and the source tree stays as it is. `file://` sub-charts are
copied along at the same relative places (Chart.yaml and Chart.lock stay valid unchanged), and
built first when they have dependencies of their own.

Nothing happens for a chart without `dependencies:`, or whose `charts/` already satisfies them
(helm's own `dependency list` decides).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import yaml

from .helm import HelmError, run_helm

CACHE_ENV = "HELMLIFE_CHART_CACHE"
SATISFIED = ("ok", "unpacked")  # `helm dependency list` statuses that need no build


def cache_root() -> Path:
    """$HELMLIFE_CHART_CACHE, else helmlife/charts in the user's cache directory."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "helmlife", "charts")


def declared(chart_dir: Path) -> list[dict]:
    """The `dependencies:` entries of a chart's Chart.yaml (none when it cannot be read: the
    chart's own checks report that)."""
    try:
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return []
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    return [d for d in deps or [] if isinstance(d, dict)]


def local_dirs(chart_dir: Path) -> list[Path]:
    """Every `file://` sub-chart directory, recursively, dependencies before their dependents."""
    found: list[Path] = []

    def visit(directory: Path, trail: tuple[Path, ...]) -> None:
        for dep in declared(directory):
            repo = str(dep.get("repository") or "")
            if not repo.startswith("file://"):
                continue
            sub = (directory / repo.removeprefix("file://")).resolve()
            if not (sub / "Chart.yaml").is_file():
                raise ValueError(f"chart.path: {chart_dir}: dependency {dep.get('name')!r} of chart {directory.name!r} "
                                 f"({repo}) has no Chart.yaml at {sub}; fix the repository path in Chart.yaml")
            if sub in trail:
                raise ValueError(f"chart.path: {chart_dir}: dependency {dep.get('name')!r} ({repo}) leads back to "
                                 f"{sub}, a cycle; fix the repository paths in Chart.yaml")
            visit(sub, (*trail, sub))
            if sub not in found:
                found.append(sub)

    visit(chart_dir.resolve(), (chart_dir.resolve(),))
    return found


def files_digest(chart_dir: Path) -> str:
    """Content hash of a chart directory and its `file://` sub-charts: editing a sub-chart's
    template changes its parent's digest too, so the release upgrades. (A chart without
    file:// dependencies hashes exactly as helmlife always hashed it.)"""
    h = hashlib.sha256()
    _hash_tree(h, chart_dir)
    for sub in local_dirs(chart_dir):
        h.update(b"\0file-dependency\0" + os.path.relpath(sub, chart_dir.resolve()).encode() + b"\0")
        _hash_tree(h, sub)
    return h.hexdigest()[:16]


def _hash_tree(h: "hashlib._Hash", root: Path) -> None:
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")


def needs_build(chart_dir: Path) -> bool:
    if not declared(chart_dir):
        return False
    listing = run_helm(["dependency", "list", str(chart_dir)])
    rows = [line.split("\t") for line in listing.splitlines()[1:] if line.strip()]
    return any(row[-1].strip() not in SATISFIED for row in rows)


def resolved(chart_dir: Path) -> Path:
    """The directory to hand helm: `chart_dir` itself, or a built copy with every sub-chart in
    its `charts/`. A dependency that cannot be resolved is a ValueError naming the chart."""
    chart_dir = chart_dir.resolve()
    try:
        if not needs_build(chart_dir):
            return chart_dir
        subs = local_dirs(chart_dir)
        root = Path(os.path.commonpath([chart_dir, *subs]))
        target = cache_root() / f"{chart_dir.name}-{files_digest(chart_dir)}"
        if not target.is_dir():
            _build(chart_dir, subs, root, target)
    except HelmError as err:
        names = ", ".join(f"{d.get('name')} ({d.get('repository')})" for d in declared(chart_dir))
        raise ValueError(f"chart.path: {chart_dir}: cannot resolve the dependencies of chart "
                         f"{chart_dir.name!r} [{names}]: {err.stderr}") from None
    return target / chart_dir.relative_to(root)


def _build(chart_dir: Path, subs: list[Path], root: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-{uuid.uuid4().hex[:6]}-", dir=target.parent))
    try:
        for directory in (chart_dir, *subs):
            shutil.copytree(directory, scratch / directory.relative_to(root), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".git", "__pycache__"))
        for directory in (*subs, chart_dir):  # sub-charts first: their parents package them built
            if needs_build(scratch / directory.relative_to(root)):
                run_helm(["dependency", "build", str(scratch / directory.relative_to(root))])
        try:
            scratch.rename(target)
        except OSError:
            if not target.is_dir():  # another step built the same content meanwhile: keep theirs
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
