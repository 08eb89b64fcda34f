"""Turn `pulumi preview --json` output into a short Markdown summary per chart.

A pull request reviewer wants to know, per chart: is the release installed, upgraded (from
which version to which) or uninstalled; which lifecycle steps (hooks included) will run and
which changed inputs make them run; and above all whether CRDs will be deleted, because
deleting a CRD deletes every custom resource of its kind. The raw preview holds all of that
but spread over four resources per chart (the component, two steps, the Release).

Shape of the input, as printed by `pulumi preview --json` (Pulumi v3, `display.PreviewDigest`):

    {"steps": [{"op": "create"|"update"|"replace"|"delete"|"same"|...,
                "urn": "urn:pulumi:<stack>::<project>::<parent types $ type>::<name>",
                "oldState": {"type", "inputs", "outputs", "parent", ...},   # absent on create
                "newState": {...},                                          # absent on delete
                "diffReasons": [...], "replaceReasons": [...],               # omitted when empty
                "detailedDiff": {"path": {"kind", "inputDiff"}} | null}, ...],
     "diagnostics": [{"urn", "message", "severity"}], "changeSummary": {"create": 7, ...},
     "duration": <ns>, "config": {...}}

helmlife's steps are dynamic resources, whose provider reports neither `diffReasons` nor a
`detailedDiff`, so the changed inputs are also computed here from old and new inputs (their
bookkeeping keys are `__`-prefixed; read here without it). The Release is pulumi-kubernetes'
`kubernetes:helm.sh/v3:Release`, whose detailed diff names its changed inputs. Secret
inputs read "[secret]" on both sides and unknown values read as the engine's unknown sentinel.
The streamed form (a list of engine events, PULUMI_ENABLE_STREAMING_JSON_PREVIEW) is accepted too.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from pulumi.runtime.rpc import UNKNOWN

from . import manifests
from .canonical import canonical_json
from .chart import STEP_MODULE, TYPE_TOKEN as COMPONENT_TYPE
from .cluster import RELEASE_TOKEN
from .spec import full_doc, semver_key
from .steps import LIFECYCLE, RELEASE, RENAME, RETIRED, StepDef, lookup
from .steps.base import unwrap

STEP_TYPE_PREFIX = f"pulumi-python:dynamic/{STEP_MODULE}:"
# Step resource types (today's, and earlier helmlife's) to the step table's entries.
STEP_BY_TYPE: dict[str, StepDef] = {**{s.type_name: s for s in RETIRED.values()}, **{s.type_name: s for s in LIFECYCLE}}
STEP_ORDER = ([s.name for s in LIFECYCLE if RELEASE not in s.after] + [RELEASE]
              + [s.name for s in LIFECYCLE if RELEASE in s.after])
# Names step resources had before the step table (helmlife 0.1), by today's (or retired) step.
OLD_SUFFIXES = {"crd_cleanup": ("crds",)}
INTERNAL_INPUTS = frozenset({"__provider", "kubeconfig", "payload", "project_dir", "plan", "changes", "manifest",
                             "manifest_is_helms", "manifest_before", "drifted", "drift_fixes"})
BLOCK_BUDGET = 8000  # characters of object diffs per release: a PR comment holds 65536 in all
DIFF_LINES = 60
# Ops that make a step run; the replacement pieces of a replace fold into "replace".
OP_ALIASES = {
    "create": "create", "update": "update", "delete": "delete", "replace": "replace",
    "create-replacement": "replace", "delete-replaced": "replace", "discard-replaced": "replace",
}
OP_RANK = {"replace": 3, "delete": 2, "create": 2, "update": 1}
SUMMARY_ORDER = ("create", "update", "replace", "delete", "same")
SUMMARY_WORDS = {"create": "to create", "update": "to update", "replace": "to replace",
                 "delete": "to delete", "same": "unchanged"}


@dataclass
class Step:
    """One lifecycle step resource of one chart, folded over all engine steps of its URN."""

    name: str
    op: str
    old_inputs: dict[str, Any] = field(default_factory=dict)
    new_inputs: dict[str, Any] = field(default_factory=dict)
    old_outputs: dict[str, Any] = field(default_factory=dict)
    reasons: set[str] = field(default_factory=set)


@dataclass
class Chart:
    """Everything the preview says about one LifecycleChart."""

    name: str
    component_op: str | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    # Steps of an earlier helmlife leaving the state: nothing runs, but an old crd_cleanup's
    # delete names the CRDs a destroy of state not yet moved removes.
    retired: dict[str, Step] = field(default_factory=dict)


# -- reading the preview ---------------------------------------------------------------------------

def normalize(preview: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int], list[dict[str, Any]]]:
    """Steps, change summary and diagnostics from either the digest or the engine-event form."""
    if isinstance(preview, Mapping) and "events" in preview and "steps" not in preview:
        preview = preview["events"]
    if isinstance(preview, Mapping):
        return (list(preview.get("steps") or []), dict(preview.get("changeSummary") or {}),
                list(preview.get("diagnostics") or []))
    steps: list[dict[str, Any]] = []
    summary: dict[str, int] = {}
    diagnostics: list[dict[str, Any]] = []
    for event in preview:
        pre = event.get("resourcePreEvent")
        if pre:
            m = pre.get("metadata") or {}
            steps.append({
                "op": m.get("op"), "urn": m.get("urn", ""),
                "oldState": m.get("old"), "newState": m.get("new"),
                "diffReasons": m.get("diffs"), "replaceReasons": m.get("keys"),
                "detailedDiff": m.get("detailedDiff"),
            })
        elif event.get("summaryEvent"):
            summary = dict(event["summaryEvent"].get("resourceChanges") or {})
        elif event.get("diagnosticEvent"):
            diagnostics.append(event["diagnosticEvent"])
    return steps, summary, diagnostics


def collect(steps: Iterable[Mapping[str, Any]]) -> dict[str, Chart]:
    """Group helmlife resources by chart; other resources in the stack are not this summary's job."""
    charts: dict[str, Chart] = {}
    for raw in steps:
        op = OP_ALIASES.get(str(raw.get("op")))
        urn = str(raw.get("urn") or "")
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        rtype = new.get("type") or old.get("type") or _urn_type(urn)
        name = _urn_name(urn)
        if rtype == COMPONENT_TYPE:
            chart = charts.setdefault(name, Chart(name))
            if op:
                chart.component_op = _stronger(chart.component_op, op)
            continue
        if op is None:
            continue
        if rtype == RELEASE_TOKEN:
            if (chart_name := _release_chart(urn, new.get("parent") or old.get("parent"))) is None:
                continue  # a Release the program declares itself, outside any LifecycleChart
            step_name, retired = RELEASE, False
        elif rtype.startswith(STEP_TYPE_PREFIX) and (step_def := STEP_BY_TYPE.get(rtype[len(STEP_TYPE_PREFIX):])):
            step_name, chart_name = step_def.name, _chart_of(name, step_def, new.get("parent") or old.get("parent"))
            retired = step_def.name in RETIRED
        else:
            continue
        chart = charts.setdefault(chart_name, Chart(chart_name))
        steps = chart.retired if retired else chart.steps
        step = steps.setdefault(step_name, Step(step_name, op))
        step.op = _stronger(step.op, op) or op
        step.old_inputs = step.old_inputs or unwrap(dict(old.get("inputs") or {}))
        step.old_outputs = step.old_outputs or unwrap(dict(old.get("outputs") or {}))
        step.new_inputs = step.new_inputs or unwrap(dict(new.get("inputs") or {}))
        reported = {*(raw.get("diffReasons") or []), *(raw.get("replaceReasons") or []),
                    *(_top_key(k) for k in (raw.get("detailedDiff") or {}))}
        # A step names its bookkeeping inputs `__`-prefixed (e.g. replaceReasons ["__spec"]); read bare.
        step.reasons |= reported if step_name == RELEASE else set(unwrap(dict.fromkeys(reported)))
    for chart in charts.values():
        for step in chart.steps.values():
            if step.op in ("update", "replace") and step.name != RELEASE:
                since = lookup(step.name).since  # an input newer than the state is no change
                step.reasons |= {k for k in changed_inputs(step.old_inputs, step.new_inputs)
                                 if not (k in since and step.old_inputs.get(k) is None)}
    return charts


def changed_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """Changed input names; a changed `spec` is named by its changed fields (`spec.atomic`)."""
    keys = {k for k in set(old) | set(new) if canonical_json(old.get(k)) != canonical_json(new.get(k))}
    if "spec" in keys and isinstance(old.get("spec"), dict) and isinstance(new.get("spec"), dict):
        keys.discard("spec")
        keys |= {f"spec.{k}" for k in changed_inputs(full_doc(old["spec"]), full_doc(new["spec"]))}
    return keys


def backfilled(step: Step) -> list[str]:
    """Outputs an update records without running the step, because the state predates them."""
    return lookup(step.name).unrecorded(step.old_outputs) if step.name != RELEASE else []


def why(step: Step) -> list[str]:
    """Changed inputs that explain the step's operation: the ones its table entry reacts to."""
    if step.name == RELEASE:  # pulumi-kubernetes names its changed inputs itself
        return sorted(k for k in step.reasons if k not in ("__inputs", "status", "resourceNames"))
    entry = lookup(step.name)
    watched = (*entry.triggers, *entry.kept, *RENAME)

    def matters(reason: str) -> bool:
        return any(reason == w or reason.startswith(w + ".") or w.startswith(reason + ".") for w in watched)

    shown = {k for k in step.reasons if k not in INTERNAL_INPUTS and matters(k)}
    return sorted(k for k in shown if not any(other.startswith(k + ".") for other in shown))


def manifest_block(chart: Chart, budget: int = BLOCK_BUDGET) -> str | None:
    """One collapsible block per release: objects added (+), removed (-), changed (~), each
    change as a unified diff of the object's (masked) YAML, cut to stay within `budget`."""
    pre = chart.steps.get("pre_exec")
    if pre is None:
        return None
    # After an `up` the recorded reference is Helm's record; the preview names it `manifest_before`.
    old = (pre.new_inputs.get("manifest_before") or pre.old_inputs.get("manifest")) if pre.op != "create" else {}
    new = pre.new_inputs.get("manifest") if pre.op != "delete" else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    found = manifests.changes(old, new)
    if not found:
        return None
    counts = ", ".join(f"{n} {word}" for sign, word in (("+", "added"), ("-", "removed"), ("~", "changed"))
                       if (n := sum(1 for s, _ in found if s == sign)))
    body: list[str] = []
    for sign, key in found:
        body.append(f"{sign} {key}")
        if sign == "~":
            diff = manifests.unified(old[key], new[key], key).splitlines()[2:]  # drop the ---/+++ header
            body += diff[:DIFF_LINES]
            if len(diff) > DIFF_LINES:
                body.append(f"… {len(diff) - DIFF_LINES} more lines")
    text = "\n".join(body)
    if len(text) > budget:
        text = text[:budget].rsplit("\n", 1)[0] + "\n… (cut; `pulumi preview --diff` shows it all)"
    return (f"<details><summary><code>{chart.name}</code>: {counts}</summary>\n\n```diff\n{text}\n```\n"
            "</details>\n")


def release_change(chart: Chart) -> str:
    """What happens to the Helm release itself, in helm's own words."""
    rel, pre = chart.steps.get(RELEASE), chart.steps.get("pre_exec")
    plan = pre.new_inputs.get("plan") if pre is not None and pre.op in ("create", "update") else None
    if isinstance(plan, str) and plan != UNKNOWN and rel is not None:
        return plan
    if rel is None:
        return "uninstall" if chart.component_op == "delete" else "no change"
    old_v = _version(rel.old_inputs, (pre.old_inputs if pre else {}))
    new_v = _version(rel.new_inputs, (pre.new_inputs if pre else {}))
    if rel.op == "create":
        return f"install {new_v}"
    if rel.op == "delete":
        return f"uninstall {old_v}" if rel.old_inputs else "uninstall"
    if rel.op == "update":
        if old_v != new_v:
            return f"{_direction(old_v, new_v)} {old_v} → {new_v}"
        return f"upgrade {new_v} (same chart version)"
    # replace: the release is installed anew (new name or namespace) and the old one uninstalled;
    # the Release's own `name` and `namespace` inputs say where.
    moved = [f"{label} {rel.old_inputs.get(k)} → {rel.new_inputs.get(k)}"
             for k, label in (("name", "release"), ("namespace", "namespace"))
             if rel.old_inputs.get(k) != rel.new_inputs.get(k) and rel.new_inputs.get(k) is not None]
    version = f"{old_v} → {new_v}" if old_v != new_v else new_v
    return f"reinstall {version}" + (f" ({', '.join(moved)})" if moved else "")


def crds_deleted(chart: Chart) -> tuple[list[str], bool] | None:
    """CRDs pre_exec's delete would remove (after the uninstall), and whether it forces past
    custom resources. A replaced pre_exec (a renamed release) deletes none: its new copy marks
    them for the new owner first. In state not yet moved, an earlier helmlife's crd_cleanup step
    names them; alone (an `up` moving the state) it deletes nothing while the release stays."""
    step = chart.steps.get("pre_exec")
    if step is None or step.op != "delete":
        return None
    retired = chart.retired.get("crd_cleanup")
    if retired is not None and retired.op == "delete":
        step = retired
    owned = step.old_outputs.get("owned_crds")
    names = owned if isinstance(owned, list) else step.old_inputs.get("crds")
    names = [str(n) for n in names or [] if n != UNKNOWN]
    if not names:
        return None
    spec = step.old_inputs.get("spec") if isinstance(step.old_inputs.get("spec"), dict) else {}
    if spec.get("dry_run"):
        return None
    # The flag travels in the spec (state of an earlier helmlife may have it as an input of its own).
    return names, bool(spec.get("force_crd_deletion") or step.old_inputs.get("force_crd_deletion"))


# -- rendering -------------------------------------------------------------------------------------

def summarize(preview_json: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
    """Markdown for one stack's preview: a row per changed chart, then CRD deletions and errors."""
    steps, summary, diagnostics = normalize(preview_json)
    stack = next((_urn_stack(str(s.get("urn") or "")) for s in steps if s.get("urn")), None)
    charts = collect(steps)
    changed = sorted((c for c in charts.values() if c.component_op or any(s.op for s in c.steps.values())),
                     key=lambda c: c.name)

    lines = [f"### Preview of stack `{stack}`" if stack else "### Preview", ""]
    if counts := _counts(summary):
        lines += [f"Resources: {counts}.", ""]
    if not changed:
        lines.append("No chart changes.")
    else:
        lines += ["| Chart | Release | Lifecycle steps that run (and why) |", "|---|---|---|"]
        for chart in changed:
            lines.append(f"| `{chart.name}` | {release_change(chart)} | {_steps_cell(chart)} |")
    deletions = [(c.name, d) for c in changed if (d := crds_deleted(c))]
    if deletions:
        lines += ["", "**CRDs that will be deleted** (deleting a CRD deletes every custom resource of its kind):"]
        for name, (crds, forced) in deletions:
            then = "force_crd_deletion is set, so their custom resources are deleted too." if forced else \
                "The delete stops if custom resources of them still exist."
            lines.append(f"- `{name}`: removed with the chart: {', '.join(f'`{n}`' for n in crds)}. {then}")
    blocks = [b for c in changed if (b := manifest_block(c))]
    if blocks:
        lines += ["", "**What changes in the cluster** (secret values are masked):", "", *blocks]
    problems: list[str] = []
    for d in diagnostics:
        if str(d.get("severity")) not in ("error", "warning"):
            continue
        where = f" `{_urn_name(str(d['urn']))}`" if d.get("urn") else ""
        line = f"- {d.get('severity')}{where}: {_clip(_diagnostic_text(str(d.get('message') or '')), 300)}"
        if line not in problems:
            problems.append(line)
    if problems:
        lines += ["", "**Diagnostics:**", *problems]
    return "\n".join(lines) + "\n"


def _diagnostic_text(message: str) -> str:
    """The sentence a reviewer needs: no traceback, no repeated "error:" prefixes, one line."""
    text = " ".join(message.partition("Traceback (most recent call last)")[0].split())
    return re.sub(r"^(?:error: |warning: |an unhandled error occurred: )+", "", text)


def _steps_cell(chart: Chart) -> str:
    """Steps grouped by (op, reasons) in lifecycle order, one group per line."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for step in (chart.steps[name] for name in STEP_ORDER if name in chart.steps):
        reasons = why(step) or (backfilled(step) or ["a secret input"] if step.op == "update" else [])
        groups.setdefault((step.op, tuple(reasons)), []).append(step.name)
    if not groups:
        return f"component only ({chart.component_op})" if chart.component_op else "none"
    parts = []
    for (op, reasons), labels in groups.items():
        because = f": {', '.join(f'`{r}`' for r in reasons)}" if reasons and op in ("update", "replace") else ""
        parts.append(f"{', '.join(labels)} — {op}{because}")
    return "<br>".join(parts)


def _counts(summary: Mapping[str, int]) -> str:
    ops = [op for op in SUMMARY_ORDER if summary.get(op)] + sorted(op for op in summary if op not in SUMMARY_ORDER and summary[op])
    return ", ".join(f"{summary[op]} {SUMMARY_WORDS.get(op, op)}" for op in ops)


# -- small helpers ---------------------------------------------------------------------------------

def _urn_parts(urn: str) -> list[str]:
    return urn.split("::", 3) if urn.startswith("urn:pulumi:") else []


def _urn_stack(urn: str) -> str | None:
    parts = _urn_parts(urn)
    return parts[0][len("urn:pulumi:"):] if parts else None


def _urn_type(urn: str) -> str:
    parts = _urn_parts(urn)
    return parts[2].rsplit("$", 1)[-1] if len(parts) == 4 else ""


def _urn_name(urn: str) -> str:
    parts = _urn_parts(urn)
    return parts[3] if len(parts) == 4 else urn


def _release_chart(urn: str, parent: str | None) -> str | None:
    """The LifecycleChart a Release belongs to: its parent's name (the URN's type chain says
    whether the parent is one; the Release is named like its chart when the state has no parent)."""
    parts = _urn_parts(urn)
    chain = parts[2].split("$") if len(parts) == 4 else []
    if len(chain) < 2 or chain[-2] != COMPONENT_TYPE:
        return None
    return _urn_name(parent) if parent else _urn_name(urn)


def _chart_of(name: str, step: StepDef, parent: str | None) -> str:
    if parent:
        return _urn_name(parent)
    for suffix in (step.suffix, *OLD_SUFFIXES.get(step.name, ())):
        if name.endswith("-" + suffix):
            return name[: -len(suffix) - 1]
    return name


def _stronger(current: str | None, new: str) -> str | None:
    if current is None:
        return new
    if current != new and {current, new} == {"create", "delete"}:
        return "replace"
    return new if OP_RANK.get(new, 0) > OP_RANK.get(current, 0) else current


def _top_key(path: str) -> str:
    """`values.image.tag` or `crds[0]` -> the input name."""
    return path[:min((i for i in (path.find("."), path.find("[")) if i > 0), default=len(path))]


def _version(inputs: Mapping[str, Any], step_inputs: Mapping[str, Any] | None = None) -> str:
    v = inputs.get("version") or inputs.get("chart_version") or (step_inputs or {}).get("chart_version")
    if v is None:
        return "(unknown version)"
    if v == UNKNOWN:
        return "(known after up)"
    return str(v)


def _direction(old: str, new: str) -> str:
    try:
        return "downgrade" if semver_key(new) < semver_key(old) else "upgrade"
    except ValueError:
        return "upgrade"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- command line ----------------------------------------------------------------------------------

def load(text: str) -> Any:
    """The preview as one JSON document, or as JSON lines (the streamed engine events)."""
    text = text.strip()
    if not text:
        raise ValueError("the preview is empty; did `pulumi preview --json` fail before printing anything?")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as err:
            raise ValueError(f"not JSON from `pulumi preview --json`: {err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """`preview-summary [FILE]`: print the Markdown summary of a preview (FILE or stdin)."""
    parser = argparse.ArgumentParser(prog="python -m helmlife preview-summary",
                                     description="Summarize `pulumi preview --json` output per chart as Markdown.")
    parser.add_argument("file", nargs="?", default="-", help="preview JSON file; '-' or nothing reads stdin")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        data = load(sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"preview-summary: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(summarize(data))
    return 0


__all__ = ["summarize", "main", "load", "normalize", "collect", "release_change", "crds_deleted", "why"]

if __name__ == "__main__":
    sys.exit(main())
