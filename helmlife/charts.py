"""Facts about a chart that the lifecycle needs before helm runs: version, content digest.

Reading these on the deploying machine (not from the cluster) lets `pulumi preview` say
"upgrade 1.0.0 -> 2.0.0" before anything is applied; its CRDs are read by `helmlife.crds`.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .helm import ChartRef
from .spec import ChartSpec, LocalChart, RepoChart


def chart_dir(spec: ChartSpec, project_dir: Path) -> Path | None:
    if isinstance(spec.chart, LocalChart):
        p = Path(spec.chart.path)
        return p if p.is_absolute() else project_dir / p
    return None


def chart_ref(spec: ChartSpec, project_dir: Path) -> ChartRef:
    if isinstance(spec.chart, RepoChart):
        return ChartRef(repo=spec.chart.repo, name=spec.chart.name, version=spec.chart.version)
    return ChartRef(path=str(chart_dir(spec, project_dir)))


def read_chart_yaml(directory: Path) -> dict[str, Any]:
    path = directory / "Chart.yaml"
    try:
        meta = yaml.safe_load(path.read_text()) or {}
    except OSError:
        raise ValueError(f"chart.path: {directory} has no readable Chart.yaml; point it at a chart directory") from None
    except yaml.YAMLError as err:
        raise ValueError(f"chart.path: {path} is not valid YAML: {err}") from None
    if not isinstance(meta, dict) or not meta.get("version"):
        raise ValueError(f"chart.path: {path} has no version field; every chart needs one")
    return meta


def chart_version(spec: ChartSpec, project_dir: Path) -> str:
    if isinstance(spec.chart, RepoChart):
        return spec.chart.version
    return str(read_chart_yaml(chart_dir(spec, project_dir))["version"])  # type: ignore[arg-type]


def chart_digest(spec: ChartSpec, project_dir: Path) -> str:
    """Content hash of a local chart, so editing a template without a version bump still upgrades."""
    if isinstance(spec.chart, RepoChart):
        return f"{spec.chart.repo}/{spec.chart.name}@{spec.chart.version}"
    root = chart_dir(spec, project_dir)
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):  # type: ignore[union-attr]
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")  # type: ignore[arg-type]
    return h.hexdigest()[:16]


def repo_has_chart(chart: RepoChart, timeout: float = 10.0) -> str | None:
    """None when the repository lists chart@version, else why not (for check_prerequisites)."""
    if chart.repo.startswith("oci://"):
        return None  # OCI registries have no index to consult; helm resolves at install time.
    url = f"{chart.repo}/index.yaml"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - user-configured repo
            index = yaml.safe_load(resp.read()) or {}
    except (urllib.error.URLError, OSError) as err:
        return f"chart.repo: cannot read {url} ({getattr(err, 'reason', err)}); check the URL and network"
    versions = [str(e.get("version")) for e in (index.get("entries") or {}).get(chart.name, [])]
    if not versions:
        return f"chart.name: {chart.name!r} is not in {chart.repo}; the repository lists {sorted(index.get('entries') or {})}"
    if chart.version not in versions:
        return f"chart.version: {chart.name} {chart.version} is not in {chart.repo}; available: {', '.join(versions)}"
    return None
