"""Promote pinned chart versions from one stack config file to the next environment.

Environments differ on purpose (namespaces, hostnames, clusters, secrets), so a promotion
copies only what pins *which software* runs: the chart version, the breaking-version marker
that goes with it, and the values a team has explicitly declared promotable (for example an
image tag) under `helmlife:promotable_values` in the source stack. Everything else in the
target file is left byte-for-byte alone: the file is edited in ruamel.yaml's round-trip mode,
so comments, key order and quoting survive and the pull request diff shows only the promotion.

`plan_promotion` never writes; the caller shows `diff_text` (a dry run) or hands `new_text` to
`write_atomically`.
"""
from __future__ import annotations

import copy
import difflib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from .spec import SEMVER

ENV_ORDER: tuple[str, ...] = ("dev", "staging", "prod")

CONFIG_KEY = "config"
CHARTS_KEY = "helmlife:charts"
PROMOTABLE_KEY = "helmlife:promotable_values"
BREAKING_KEY = "last_breaking_version_requiring_restart"

# Indentation styles tried when re-emitting a file; the first that reproduces the untouched
# file exactly wins, so a promotion never re-indents lines it did not change.
_INDENT_STYLES: tuple[tuple[int, int, int], ...] = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0))


class PromotionRefused(Exception):
    """A promotion that must not happen; the message names the stack and what to do instead."""


@dataclass(frozen=True)
class StackStatus:
    """What Pulumi says about the source stack; the CLI computes it, promotion only judges it.

    `last_result` is the result of the stack's last update ("succeeded", "failed", ...) or
    None when it was never deployed; `pending_changes` is True when a preview of the source
    stack shows changes, i.e. its config pins something that is not what runs.
    """

    last_result: str | None
    pending_changes: bool


@dataclass(frozen=True)
class Change:
    """One field of one chart that the promotion rewrites in the target file."""

    chart: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Skipped:
    """Something the promotion deliberately left alone, with the reason for the reviewer."""

    chart: str
    note: str


@dataclass
class Promotion:
    """The planned edit of the target file; nothing has been written yet."""

    source: str
    target: str
    target_file: Path
    changes: list[Change]
    skipped: list[Skipped]
    old_text: str
    new_text: str
    diff_text: str
    charts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text


def check_order(source: str, target: str, *, force: bool = False, order: Sequence[str] = ENV_ORDER) -> None:
    """Refuse to skip an environment: prod must only get what staging has already run."""
    chain = " -> ".join(order)
    if source == target:
        raise PromotionRefused(f"source and target are both {source!r}; name two different stacks ({chain})")
    if force:
        return
    for env in (source, target):
        if env not in order:
            raise PromotionRefused(
                f"{env!r} is not a known environment ({chain}); use one of them, or pass --force to promote anyway"
            )
    after = order.index(source) + 1
    if after == len(order):
        raise PromotionRefused(f"{source} is the last environment ({chain}); there is nothing after it to promote to")
    if target != order[after]:
        raise PromotionRefused(
            f"{target} is not the next environment after {source} ({chain}); "
            f"promote to {order[after]} first or pass --force"
        )


def check_source_status(source: str, status: StackStatus) -> None:
    """Refuse to promote what the source stack does not demonstrably run."""
    if status.last_result is None:
        raise PromotionRefused(
            f"stack {source!r} has never been deployed; run pulumi up on it (pulumi up --stack {source}) "
            "before promoting what it pins"
        )
    if status.last_result == "failed":
        raise PromotionRefused(f"last update of stack {source!r} failed; fix it and run pulumi up before promoting")
    if status.last_result != "succeeded":
        raise PromotionRefused(
            f"last update of stack {source!r} is {status.last_result!r}, not succeeded; "
            "wait for it to finish (or cancel it) and run pulumi up before promoting"
        )
    if status.pending_changes:
        raise PromotionRefused(
            f"stack {source!r} has pending changes: its config differs from what is deployed; "
            f"run pulumi up on it (pulumi up --stack {source}) or revert the config before promoting"
        )


def plan_promotion(
    source_file: Path,
    target_file: Path,
    *,
    source: str,
    target: str,
    charts: list[str] | None,
    source_status: StackStatus,
    force: bool = False,
    order: Sequence[str] = ENV_ORDER,
) -> Promotion:
    """Work out the target file's new text; refuse (PromotionRefused) rather than guess."""
    check_source_status(source, source_status)
    check_order(source, target, force=force, order=order)

    src_doc = _load(source_file, source)
    old_text = _read(target_file, target)
    yaml = _round_trip_yaml(old_text)
    tgt_doc = yaml.load(old_text) or CommentedMap()

    src_charts = _charts(src_doc, source_file)
    tgt_charts = _charts(tgt_doc, target_file)
    src_by_name = {c["name"]: c for c in src_charts if isinstance(c, dict) and "name" in c}
    tgt_by_name = {c["name"]: c for c in tgt_charts if isinstance(c, dict) and "name" in c}

    if charts:
        missing = [c for c in charts if c not in src_by_name]
        if missing:
            have = ", ".join(src_by_name) or "none"
            raise PromotionRefused(
                f"chart {', '.join(repr(m) for m in missing)} is not in stack {source!r} ({source_file}); "
                f"its charts are: {have}"
            )
        selected = [c for c in src_by_name if c in charts]
    else:
        selected = list(src_by_name)

    promotable = _promotable_values(src_doc, source_file)
    changes: list[Change] = []
    skipped: list[Skipped] = []
    for name in selected:
        src, tgt = src_by_name[name], tgt_by_name.get(name)
        if tgt is None:
            skipped.append(Skipped(name, f"not in stack {target!r}; add it to {target_file} by hand "
                                         "(namespace, hostnames and secrets differ per environment)"))
            continue
        _promote_chart_version(name, src, tgt, changes, skipped)
        _promote_breaking_version(name, src, tgt, changes)
        _promote_values(name, src, tgt, promotable.get(name, []), changes, skipped)
    for name, keys in promotable.items():
        if name not in src_by_name:
            skipped.append(Skipped(name, f"listed in {PROMOTABLE_KEY} ({', '.join(keys)}) but not a chart of stack {source!r}"))

    new_text = _dump(yaml, tgt_doc) if changes else old_text
    label = Path(target_file).as_posix()
    before, after = (label, label) if Path(target_file).is_absolute() else (f"a/{label}", f"b/{label}")
    diff_text = "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), fromfile=before, tofile=after,
    ))
    return Promotion(source=source, target=target, target_file=target_file, changes=changes, skipped=skipped,
                     old_text=old_text, new_text=new_text, diff_text=diff_text, charts=selected)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step, so an interrupted promotion never leaves half a stack file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- per-field rules ---------------------------------------------------------------------------

def _promote_chart_version(name: str, src: CommentedMap, tgt: CommentedMap,
                           changes: list[Change], skipped: list[Skipped]) -> None:
    """Copy the pin: a versioned chart directory path, or a repository chart's version only."""
    s_chart, t_chart = src.get("chart"), tgt.get("chart")
    s_path, t_path = _local_path(s_chart), _local_path(t_chart)
    if s_path is not None:
        if not _is_versioned_path(s_path):
            skipped.append(Skipped(name, f"chart path {s_path!r} has no version directory (e.g. .../1.2.3); "
                                         "no pinned version to promote"))
            return
        if t_path is None:
            skipped.append(Skipped(name, "chart kinds differ: a local path in the source, a repository chart "
                                         "in the target; change it by hand"))
            return
        if s_path != t_path:
            if isinstance(t_chart, dict):
                t_chart["path"] = _like(t_chart["path"], s_path)
                changes.append(Change(name, "chart.path", t_path, s_path))
            else:
                tgt["chart"] = _like(t_chart, s_path)
                changes.append(Change(name, "chart", t_path, s_path))
        return
    if isinstance(s_chart, dict) and "version" in s_chart:
        if not isinstance(t_chart, dict) or "repo" not in t_chart:
            skipped.append(Skipped(name, "chart kinds differ: a repository chart in the source, a local path "
                                         "in the target; change it by hand"))
            return
        if s_chart.get("name") != t_chart.get("name"):
            skipped.append(Skipped(name, f"repository chart names differ ({s_chart.get('name')!r} vs "
                                         f"{t_chart.get('name')!r}); versions of different charts are not comparable"))
            return
        if s_chart["version"] != t_chart.get("version"):
            changes.append(Change(name, "chart.version", _plain(t_chart.get("version")), _plain(s_chart["version"])))
            t_chart["version"] = _like(t_chart.get("version"), s_chart["version"])


def _promote_breaking_version(name: str, src: CommentedMap, tgt: CommentedMap, changes: list[Change]) -> None:
    """The restart marker belongs to the chart version, so it moves with it (or goes with it)."""
    new, old = src.get(BREAKING_KEY), tgt.get(BREAKING_KEY)
    if new == old:
        return
    if new is None:
        del tgt[BREAKING_KEY]
    elif BREAKING_KEY in tgt:
        tgt[BREAKING_KEY] = _like(old, new)
    else:
        _insert_after(tgt, BREAKING_KEY, _like(None, new), after="chart")
    changes.append(Change(name, BREAKING_KEY, _plain(old), _plain(new)))


def _promote_values(name: str, src: CommentedMap, tgt: CommentedMap, keys: list[str],
                    changes: list[Change], skipped: list[Skipped]) -> None:
    """Copy only declared, non-secret values: a secret never leaves its environment's config."""
    src_values = {v.get("key"): v for v in src.get("values") or [] if isinstance(v, dict)}
    for key in keys:
        s_entry = src_values.get(key)
        if s_entry is None:
            skipped.append(Skipped(name, f"value {key!r} is listed in {PROMOTABLE_KEY} but not set in the source"))
            continue
        if _is_secret(s_entry):
            skipped.append(Skipped(name, f"value {key!r} is secret in the source; secrets are never promoted"))
            continue
        if "value" not in s_entry:
            skipped.append(Skipped(name, f"value {key!r} has no plain value in the source"))
            continue
        new = s_entry["value"]
        t_values = tgt.get("values")
        t_entry = next((v for v in t_values or [] if isinstance(v, dict) and v.get("key") == key), None)
        if t_entry is not None and _is_secret(t_entry):
            skipped.append(Skipped(name, f"value {key!r} is secret in the target; secrets are never overwritten"))
            continue
        if t_entry is None:
            if t_values is None:
                tgt["values"] = t_values = CommentedSeq()
            t_values.append(CommentedMap([("key", key), ("value", copy.deepcopy(new))]))
            changes.append(Change(name, f"values.{key}", None, _plain(new)))
        elif t_entry.get("value") != new:
            old = t_entry.get("value")
            t_entry["value"] = _like(old, copy.deepcopy(new))
            changes.append(Change(name, f"values.{key}", _plain(old), _plain(new)))


# -- helpers -----------------------------------------------------------------------------------

def _read(path: Path, env: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromotionRefused(
            f"{path} does not exist; create stack {env!r} first (pulumi stack init {env}) with its own "
            "namespace and cluster settings"
        ) from None


def _load(path: Path, env: str) -> Any:
    return YAML(typ="rt").load(_read(path, env)) or CommentedMap()


def _round_trip_yaml(text: str) -> YAML:
    """A YAML emitter whose indentation reproduces `text` exactly when nothing changed."""
    best: tuple[int, YAML] | None = None
    for mapping, sequence, offset in _INDENT_STYLES:
        yaml = _make_yaml(mapping, sequence, offset)
        try:
            again = _dump(yaml, yaml.load(text))
        except Exception:  # noqa: BLE001 - a style that cannot even re-emit the file just loses
            continue
        if again == text:
            return _make_yaml(mapping, sequence, offset)
        cost = sum(1 for line in difflib.ndiff(text.splitlines(), again.splitlines()) if line[:1] in "+-")
        if best is None or cost < best[0]:
            best = (cost, _make_yaml(mapping, sequence, offset))
    return best[1] if best else _make_yaml(*_INDENT_STYLES[0])


def _make_yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long lines such as `secure: v1:...` ciphertexts
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, doc: Any) -> str:
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _config(doc: Any, key: str) -> Any:
    config = doc.get(CONFIG_KEY) if isinstance(doc, dict) else None
    return config.get(key) if isinstance(config, dict) else None


def _charts(doc: Any, path: Path) -> list[Any]:
    charts = _config(doc, CHARTS_KEY)
    if charts is None:
        return []
    if not isinstance(charts, list):
        raise PromotionRefused(f"{path}: {CHARTS_KEY} must be a list of chart specs")
    return charts


def _promotable_values(doc: Any, path: Path) -> dict[str, list[str]]:
    """`helmlife:promotable_values: [demo-app.image.tag, ...]` grouped by chart name."""
    raw = _config(doc, PROMOTABLE_KEY)
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise PromotionRefused(f"{path}: {PROMOTABLE_KEY} must be a list of \"chart.valueKey\" strings")
    grouped: dict[str, list[str]] = {}
    for item in raw:
        chart, dot, key = item.partition(".") if isinstance(item, str) else ("", "", "")
        if not dot or not chart or not key:
            raise PromotionRefused(
                f"{path}: {PROMOTABLE_KEY} entry {item!r} is not \"chart.valueKey\" (e.g. demo-app.image.tag)"
            )
        grouped.setdefault(chart, []).append(key)
    return grouped


def _local_path(chart: Any) -> str | None:
    if isinstance(chart, str):
        return str(chart)
    if isinstance(chart, dict) and "path" in chart and "repo" not in chart:
        return str(chart["path"])
    return None


def _is_versioned_path(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(SEMVER.match(last))


def _is_secret(entry: dict[str, Any]) -> bool:
    value = entry.get("value")
    return bool(entry.get("secret")) or entry.get("secret_config") is not None or (
        isinstance(value, dict) and "secure" in value)


def _plain(value: Any) -> Any:
    """ruamel's commented containers and scalar strings as plain Python, for reports and tests."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _like(old: Any, new: Any) -> Any:
    """`new` written the way the target wrote the value it replaces (quoted stays quoted)."""
    if isinstance(new, str) and isinstance(old, ScalarString):
        return type(old)(str(new))
    if isinstance(new, ScalarString):
        return str(new) if isinstance(old, str) else new
    return new


def _insert_after(mapping: CommentedMap, key: str, value: Any, *, after: str) -> None:
    keys = list(mapping.keys())
    pos = keys.index(after) + 1 if after in keys else len(keys)
    mapping.insert(pos, key, value)


__all__ = [
    "ENV_ORDER", "PromotionRefused", "StackStatus", "Change", "Skipped", "Promotion",
    "plan_promotion", "check_order", "check_source_status", "write_atomically",
]
