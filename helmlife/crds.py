"""The CRDs a chart installs, collected the way Helm collects them.

`helm install` creates every CRD in the chart's `crds/` directory, and in the `crds/` of
every sub-chart it keeps, before any template. A sub-chart is dropped when its
`dependencies[]` entry is disabled by `tags` or `condition`, evaluated against the chart's
values merged with the release's (Helm's ProcessDependencies); sub-charts live under
`charts/` as directories or packaged `.tgz` archives, aliases included. Reading this on the
deploying machine lets preview show which CRDs a destroy would delete, and lets
`crd_upgrade: apply` apply exactly what helm would have installed.

Files are parsed with `helm_yaml` (what helm accepts, we accept); a file that does not parse
is an error naming the chart and the file, raised where preview sees it.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import chart_source, helm_yaml
from .spec import ChartSpec, LocalChart
from .values import deep_merge

if TYPE_CHECKING:
    from .helm import ChartRef, Helm

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")  # what Helm reads from crds/
CRD_KIND = "CustomResourceDefinition"


class ChartFileError(ValueError):
    """A chart file helm would read that cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Crd:
    name: str
    origin: str  # the file it came from, for messages
    doc: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ChartTree:
    """What of a chart decides its CRDs: metadata, default values, crds/ files, sub-charts."""

    name: str
    origin: str
    meta: dict[str, Any]
    values: dict[str, Any]
    crd_files: tuple[tuple[str, bytes], ...]
    subcharts: tuple["ChartTree", ...]


# --- reading a chart (directory or .tgz) ------------------------------------------------------

def _wanted(rel: PurePosixPath) -> bool:
    """Files that decide CRDs: metadata and values at any sub-chart depth, crds/, packaged sub-charts."""
    parts = rel.parts
    while len(parts) > 2 and parts[0] == "charts":
        parts = parts[2:]
    if len(parts) == 1:
        return parts[0] in ("Chart.yaml", "values.yaml", "requirements.yaml")
    if parts[0] == "charts":
        return len(parts) == 2 and parts[1].endswith(".tgz")
    return parts[0] == "crds" and rel.suffix in MANIFEST_SUFFIXES


def _dir_files(root: Path) -> dict[str, bytes]:
    files = {}
    for top in ("Chart.yaml", "values.yaml", "requirements.yaml", "crds", "charts"):
        path = root / top
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in candidates:
            rel = PurePosixPath(f.relative_to(root).as_posix())
            if f.is_file() and _wanted(rel):
                files[str(rel)] = f.read_bytes()
    return files


def _tgz_files(data: bytes, origin: str) -> dict[str, bytes]:
    """A packaged chart's files, without the archive's top-level `<name>/` directory."""
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                rel = PurePosixPath(*parts[1:]) if len(parts) > 1 else None
                if member.isfile() and rel is not None and _wanted(rel):
                    files[str(rel)] = tar.extractfile(member).read()  # type: ignore[union-attr]
    except (tarfile.TarError, OSError) as err:
        raise ChartFileError(f"{origin}: not a chart archive helm can read ({err}); repackage it with `helm package`") from None
    return files


def _yaml_mapping(files: Mapping[str, bytes], name: str, origin: str) -> dict[str, Any]:
    if name not in files:
        return {}
    try:
        doc = helm_yaml.load(files[name])
    except helm_yaml.YAMLError as err:
        raise ChartFileError(f"{origin}/{name}: not valid YAML ({err}); fix the file") from None
    return doc if isinstance(doc, dict) else {}


def _tree(files: Mapping[str, bytes], origin: str) -> ChartTree:
    meta = _yaml_mapping(files, "Chart.yaml", origin)
    if meta.get("apiVersion") == "v1" and "dependencies" not in meta:  # Helm 2 charts list them apart
        meta = {**meta, "dependencies": _yaml_mapping(files, "requirements.yaml", origin).get("dependencies")}
    subs: dict[str, dict[str, bytes]] = {}
    packaged: list[str] = []
    for rel in files:
        parts = PurePosixPath(rel).parts
        if parts[0] == "charts" and len(parts) == 2:
            packaged.append(rel)
        elif parts[0] == "charts":
            subs.setdefault(parts[1], {})[str(PurePosixPath(*parts[2:]))] = files[rel]
    subcharts = [_tree(sub, f"{origin}/charts/{name}") for name, sub in sorted(subs.items()) if "Chart.yaml" in sub]
    subcharts += [_tree(_tgz_files(files[rel], f"{origin}/{rel}"), f"{origin}/{rel}") for rel in sorted(packaged)]
    crd_files = tuple((f"{origin}/{rel}", files[rel]) for rel in sorted(files) if rel.startswith("crds/"))
    return ChartTree(name=str(meta.get("name") or PurePosixPath(origin).name), origin=origin, meta=meta,
                     values=_yaml_mapping(files, "values.yaml", origin), crd_files=crd_files,
                     subcharts=tuple(subcharts))


def read_chart(root: Path, origin: str | None = None) -> ChartTree:
    """A chart directory, or a packaged chart (.tgz), as far as its CRDs are concerned."""
    label = origin or str(root)
    return _tree(_tgz_files(root.read_bytes(), label) if root.is_file() else _dir_files(root), label)


# --- which sub-charts Helm keeps ------------------------------------------------------------

def _dependencies(tree: ChartTree) -> list[tuple[ChartTree, dict[str, Any] | None]]:
    """Sub-charts as Helm renders them: each `dependencies[]` entry found in charts/ (by name,
    renamed to its alias), then any chart in charts/ that no entry lists (always kept)."""
    deps = [d for d in tree.meta.get("dependencies") or [] if isinstance(d, dict)]
    listed = {d.get("name") for d in deps}
    found = []
    for dep in deps:
        sub = next((s for s in tree.subcharts if s.name == dep.get("name")), None)
        if sub is not None:
            found.append((replace(sub, name=str(dep.get("alias") or sub.name)), dep))
    return found + [(s, None) for s in tree.subcharts if s.name not in listed]


def coalesce(tree: ChartTree, values: Mapping[str, Any]) -> dict[str, Any]:
    """The release's values over the chart's defaults, each sub-chart's defaults under its name."""
    out = deep_merge(tree.values, values)
    for sub, _dep in _dependencies(tree):
        mine = out.get(sub.name)
        out[sub.name] = coalesce(sub, mine if isinstance(mine, dict) else {})
    return out


def _path_value(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def enabled(dep: Mapping[str, Any], cvals: Mapping[str, Any], prefix: str) -> bool:
    """Helm's rule: a true tag enables, only-false tags disable; then the first `condition`
    path that holds a boolean decides (conditions win over tags)."""
    tags = cvals.get("tags") if isinstance(cvals.get("tags"), Mapping) else {}
    flags = [tags[t] for t in dep.get("tags") or [] if isinstance(tags.get(t), bool)]  # type: ignore[union-attr]
    result = any(flags) or not flags
    for path in str(dep.get("condition") or "").split(","):
        value = _path_value(cvals, prefix + path.strip()) if path.strip() else None
        if isinstance(value, bool):
            return value
    return result


def installed_files(tree: ChartTree, values: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """(origin, content) of every crds/ file helm would install with these values."""
    cvals = coalesce(tree, values)

    def walk(chart: ChartTree, prefix: str) -> list[tuple[str, bytes]]:
        files = list(chart.crd_files)
        for sub, dep in _dependencies(chart):
            if dep is None or enabled(dep, cvals, prefix):
                files += walk(sub, f"{prefix}{sub.name}.")
        return files

    return walk(tree, "")


# --- CRD documents -------------------------------------------------------------------------

def parse(files: Iterable[tuple[str, bytes]]) -> list[Crd]:
    """The CRDs in these files, by name; a file helm could not read is a ChartFileError."""
    found: dict[str, Crd] = {}
    for origin, text in files:
        try:
            docs = list(helm_yaml.load_all(text))
        except helm_yaml.YAMLError as err:
            raise ChartFileError(f"{origin}: not valid YAML ({err}); fix or quote the value there") from None
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == CRD_KIND:
                name = (doc.get("metadata") or {}).get("name")
                if not name:
                    raise ChartFileError(f"{origin}: a CustomResourceDefinition without metadata.name; name it <plural>.<group>")
                found.setdefault(str(name), Crd(str(name), origin, doc))
    return sorted(found.values(), key=lambda c: c.name)


def chart_crds(root: Path, values: Mapping[str, Any], origin: str | None = None) -> list[Crd]:
    """The CRDs helm installs from the chart at `root` (directory or .tgz) with these values."""
    return parse(installed_files(read_chart(root, origin), values))


def digest(crds: Iterable[Crd]) -> str:
    """Content hash of the CRDs: changes exactly when applying them would change something."""
    h = hashlib.sha256()
    for crd in crds:
        h.update(json.dumps(crd.doc, sort_keys=True, default=str).encode() + b"\0")
    return h.hexdigest()[:16]


# --- repository charts ---------------------------------------------------------------------

_PULLED: dict["ChartRef", Path] = {}


def pulled(helm: "Helm", ref: "ChartRef") -> Path:
    """A repository chart unpacked locally, once per process (a step's check and run share it).
    Versions are pinned, so the copy cannot go stale while the process lives."""
    if ref not in _PULLED:
        dest = Path(tempfile.mkdtemp(prefix="helmlife-chart-"))
        atexit.register(shutil.rmtree, dest, True)
        helm.pull(ref, dest)
        found = [p for p in dest.iterdir() if (p / "Chart.yaml").is_file()]
        if len(found) != 1:
            raise ChartFileError(f"helm pull {ref.name} {ref.version} unpacked {len(found)} charts; expected one")
        _PULLED[ref] = found[0]
    return _PULLED[ref]


def of_chart(spec: ChartSpec, project_dir: Path, values: Mapping[str, Any], helm: "Helm | None") -> list[Crd] | None:
    """The CRDs helm installs for this spec: a local chart read in place, a repository chart
    pulled with `helm` (None without one: the program leaves that to pre_exec)."""
    if (local := chart_source.chart_dir(spec, project_dir)) is not None:
        assert isinstance(spec.chart, LocalChart)
        return chart_crds(local, values, origin=spec.chart.path)
    if helm is None:
        return None
    ref = chart_source.chart_ref(spec, project_dir)
    return chart_crds(pulled(helm, ref), values, origin=f"{ref.name}-{ref.version}")
