"""Facts about a chart that the lifecycle needs before helm runs: version, content digest.

Reading these on the deploying machine (not from the cluster) lets `pulumi preview` say
"upgrade 1.0.0 -> 2.0.0" before anything is applied; its CRDs are read by `helmlife.crds`.
"""
from __future__ import annotations

import base64
import shutil
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import dependencies
from .helm import ChartRef, Helm, HelmError, RepoAccess
from .spec import ChartSpec, LocalChart, RepoChart

if TYPE_CHECKING:
    from .steps.contract import RepoAuth


def chart_dir(spec: ChartSpec, project_dir: Path) -> Path | None:
    return project_dir / spec.chart.path if isinstance(spec.chart, LocalChart) else None  # absolute paths stay


def chart_ref(spec: ChartSpec, project_dir: Path) -> ChartRef:
    """What helm installs: the repository chart, or the local directory with its sub-charts
    resolved (a built copy when `dependencies:` are not vendored; see helmlife/dependencies.py)."""
    if isinstance(spec.chart, RepoChart):
        return ChartRef(repo=spec.chart.repo, name=spec.chart.name, version=spec.chart.version)
    return ChartRef(path=str(dependencies.resolved(chart_dir(spec, project_dir))))  # type: ignore[arg-type]


def repo_access(spec: ChartSpec, project_dir: Path, auth: "RepoAuth | None") -> RepoAccess:
    """Credentials and CA for the chart's source: the user and `ca_file` from the spec, the
    password and CA content from the encrypted `repo_auth` input."""
    chart = spec.chart
    if not isinstance(chart, RepoChart) or not chart.private:
        return RepoAccess()
    ca = auth.ca if auth else None
    if chart.ca_file:
        path = project_dir / chart.ca_file  # an absolute path stays itself
        try:
            ca = path.read_text()
        except OSError as err:
            raise ValueError(f"chart.ca_file: cannot read {path} ({err.strerror}); point it at a PEM CA bundle") from None
    return RepoAccess(username=chart.username, password=auth.password if auth else None, ca_pem=ca)


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
    return dependencies.files_digest(chart_dir(spec, project_dir))  # type: ignore[arg-type]


def repo_has_chart(chart: RepoChart, helm: Helm, timeout: float = 10.0) -> str | None:
    """None when the source has chart@version, else why not (for pre_exec's prerequisites), asked
    with the same credentials and CA the install uses (`helm.access`). An HTTP repository's
    index is read directly; an OCI registry has none, so helm reads the chart's metadata."""
    if chart.is_oci:
        ref = ChartRef(repo=chart.repo, name=chart.name, version=chart.version)
        try:
            helm.show_chart(ref)
        except HelmError as err:
            return (f"chart: cannot read {chart.repo}/{chart.name} version {chart.version} ({err.stderr}); "
                    "check repo, name, version, username/password_secret_config and the CA")
        return None
    url = f"{chart.repo}/index.yaml"
    request = urllib.request.Request(url)
    access = helm.access
    if access.username:
        token = base64.b64encode(f"{access.username}:{access.password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cadata=access.ca_pem) if access.ca_pem else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310 - user-configured repo
            index = yaml.safe_load(resp.read()) or {}
    except urllib.error.HTTPError as err:
        hint = "check username and password_secret_config" if err.code in (401, 403) else "check the URL"
        return f"chart.repo: cannot read {url} (HTTP {err.code} {err.reason}); {hint}"
    except (urllib.error.URLError, OSError) as err:
        return f"chart.repo: cannot read {url} ({getattr(err, 'reason', err)}); check the URL, network and ca_file/ca_config"
    versions = [str(e.get("version")) for e in (index.get("entries") or {}).get(chart.name, [])]
    if not versions:
        return f"chart.name: {chart.name!r} is not in {chart.repo}; the repository lists {sorted(index.get('entries') or {})}"
    if chart.version not in versions:
        return f"chart.version: {chart.name} {chart.version} is not in {chart.repo}; available: {', '.join(versions)}"
    return None


# A private OCI registry's chart, pulled by helmlife (with the spec's credentials and CA) for the
# Release: the kubernetes plugin's OCI client reads neither repositoryOpts' credentials nor a CA.
PULLED_DIR = Path(".helmlife") / "charts"


def pulled_path(chart: RepoChart) -> Path:
    """Where such a chart is unpacked, relative to the project (the same path in every checkout;
    git-ignored): `.helmlife/charts/<registry>/<name>-<version>/<name>`."""
    host = chart.repo.removeprefix("oci://").replace("/", "_").replace(":", "_")
    return PULLED_DIR / host / f"{chart.name}-{chart.version}" / chart.name


def needs_pull(chart: Any) -> bool:
    return isinstance(chart, RepoChart) and chart.is_oci and chart.private


def pull_for_release(chart: RepoChart, project_dir: Path, helm: Helm) -> Path:
    """The chart unpacked at `pulled_path` (pinned versions: once there, it stays right)."""
    target = project_dir / pulled_path(chart)
    if not (target / "Chart.yaml").is_file():
        scratch = target.parent.with_name(target.parent.name + ".partial")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        helm.pull(ChartRef(repo=chart.repo, name=chart.name, version=chart.version), scratch)
        shutil.rmtree(target.parent, ignore_errors=True)
        scratch.rename(target.parent)
    return target
