"""The releases a benchmark size deploys: copies of the demo charts, one namespace each.

Every third release is an operator (CRDs and class-method hooks), every third an app with
decorator hooks (pre_exec, post_exec), the rest plain apps, so each size mixes charts with
and without CRDs and hooks. CRDs are cluster-scoped and helm installs a CRD only when it is
absent, so each operator copy gets its own CRD group (`widgets.op007.bench.helmlife.dev`):
a copy is generated from `charts/demo-operator/1.0.0` into the work directory at run time.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP_CHART = ROOT / "charts" / "demo-app"
OPERATOR_CHART = ROOT / "charts" / "demo-operator" / "1.0.0"
OPERATOR_GROUP = "demo.helmlife.dev"
CRD_GROUP_SUFFIX = "bench.helmlife.dev"  # every generated CRD's group ends with it (cleanup finds them)
NAMESPACE_PREFIX = "bench-"
REPLICAS = 2


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    chart: Path
    kind: str  # "operator", "app-hooks" or "app"
    crds: tuple[str, ...] = ()

    def values(self, upgraded: bool) -> dict[str, Any]:
        """Helm values; the upgrade changes the image tag of every chart (a rollout of each)."""
        tag = "1.1" if upgraded else ("1.0.0" if self.kind == "operator" else "1.0")
        values: dict[str, Any] = {"replicaCount": REPLICAS, "image": {"tag": tag}}
        if self.kind != "operator":
            values["message"] = "bench"
        return values


def operator_copy(index: int, charts_dir: Path) -> tuple[Path, tuple[str, ...]]:
    """charts/demo-operator/1.0.0 with its CRD group renamed for copy `index`; (dir, CRD names)."""
    group = f"op{index:03d}.{CRD_GROUP_SUFFIX}"
    dest = charts_dir / f"demo-operator-{index:03d}"
    if not dest.exists():
        tmp = dest.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(OPERATOR_CHART, tmp)
        for f in tmp.rglob("*.yaml"):
            f.write_text(f.read_text().replace(OPERATOR_GROUP, group))
        for f in (tmp / "crds").iterdir():
            f.rename(f.with_name(f.name.replace(OPERATOR_GROUP, group)))
        tmp.rename(dest)
    return dest, (f"gadgets.{group}", f"widgets.{group}")


def releases(n: int, charts_dir: Path) -> list[Release]:
    """The first `n` releases of the fleet (a larger size contains every smaller one)."""
    found = []
    for i in range(n):
        namespace = f"{NAMESPACE_PREFIX}{i:03d}"
        if i % 3 == 0:
            chart, crds = operator_copy(i, charts_dir)
            found.append(Release(f"op-{i:03d}", namespace, chart, "operator", crds))
        elif i % 3 == 1:
            found.append(Release(f"hk-{i:03d}", namespace, APP_CHART, "app-hooks"))
        else:
            found.append(Release(f"app-{i:03d}", namespace, APP_CHART, "app"))
    return found


def dotted(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """{"image": {"tag": "1.1"}} -> [("image.tag", "1.1")]: helmlife's `values` list form."""
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        out += dotted(value, f"{path}.") if isinstance(value, dict) else [(path, value)]
    return out
