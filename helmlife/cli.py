"""Command line: what helmlife adds to the Pulumi CLI.

    python -m helmlife preview STACK --json        # `pulumi preview --json`: the input of preview-summary
    python -m helmlife promote dev staging [--chart NAME ...] [--dry-run] [--force]
    python -m helmlife preview-summary preview.json

Deploying and removing are the CLI's own: `pulumi up|preview|destroy|refresh --stack STACK` in the
project directory. The commands here act on the project they are run in (the nearest
Pulumi.yaml from the current directory upwards, or --root) with the backend `pulumi` uses there,
through that same CLI; they never create a stack, and refuse, saying where they looked, when
the stack is not there.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from . import preview_summary
from .canonical import canonical_json
from .promote import PromotionRefused, StackStatus, plan_promotion, write_atomically
from .runner import ProjectError, UserProject


ROOT_HELP = ("the Pulumi project's directory (default: the nearest directory holding a Pulumi.yaml, from the "
             "current one upwards); the backend stays the one `pulumi` uses there")
TOOLS_HELP = ("a toolchain directory made by scripts/bootstrap (e.g. CHECKOUT/.tools): its bin/pulumi runs, its "
              "bin/ leads PATH and its pulumi-home is PULUMI_HOME; the backend is resolved before and kept "
              "(default: pulumi on PATH)")


def _project(args: argparse.Namespace) -> UserProject:
    return UserProject.open(Path(args.root) if args.root else None, Path(args.tools).resolve() if args.tools else None)


def _preview_json(args: argparse.Namespace) -> int:
    """`pulumi preview --json` of an existing stack on stdout, run by the CLI in the project
    (also when the preview fails: its JSON names the error, and stderr says it failed)."""
    project = _project(args)
    project.require_stack(args.stack)
    proc = project.cli("preview", "--stack", args.stack, "--json")
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        print(f"helmlife: pulumi preview of stack {args.stack!r} in {project.root} (backend {project.backend}) "
              f"failed with exit code {proc.returncode}; its JSON above names the errors", file=sys.stderr)
        return 1
    return 0


def stack_status(stack: auto.Stack) -> StackStatus:
    """Last deployment's result, and whether the stack's config differs from what it used."""
    last = last_deployment(stack)
    if last is None or last.kind == "destroy":
        return StackStatus(last_result=None, pending_changes=False)  # nothing deployed to promote
    deployed = {k: v.value for k, v in (last.config or {}).items() if k.startswith("helmlife:")}
    current = {k: v.value for k, v in stack.get_all_config().items() if k.startswith("helmlife:")}
    return StackStatus(last_result=last.result,
                       pending_changes=canonical_json(_parsed(deployed)) != canonical_json(_parsed(current)))


def last_deployment(stack: auto.Stack, page_size: int = 20) -> auto.UpdateSummary | None:
    """The newest update or destroy in the history (newest first), paging past the refreshes and
    previews that say nothing about what is deployed."""
    page = 1
    while True:
        entries = stack.history(page_size=page_size, page=page)
        for entry in entries:
            if entry.kind in ("update", "destroy"):
                return entry
        if len(entries) < page_size:
            return None
        page += 1


def _parsed(config: dict[str, Any]) -> dict[str, Any]:
    """Config values as data: object values come back from the history as JSON strings."""
    def parse(v: Any) -> Any:
        try:
            return json.loads(v) if isinstance(v, str) else v
        except ValueError:
            return v

    return {k: parse(v) for k, v in config.items()}


def _promote(args: argparse.Namespace) -> int:
    project = _project(args)
    stacks_dir = project.stack_config_dir
    try:
        status = stack_status(project.stack(args.source))
        plan = plan_promotion(stacks_dir / f"Pulumi.{args.source}.yaml", stacks_dir / f"Pulumi.{args.target}.yaml",
                              source=args.source, target=args.target, charts=args.chart or None,
                              source_status=status, force=args.force)
    except PromotionRefused as err:
        print(f"promotion refused: {err}", file=sys.stderr)
        return 2
    for skipped in plan.skipped:
        print(f"skipped {skipped.chart}: {skipped.note}")
    if not plan.changed:
        print(f"{args.target} already runs what {args.source} pins: nothing to promote")
        return 0
    print(plan.diff_text)
    if args.dry_run:
        print(f"dry run: {plan.target_file} not written")
        return 0
    write_atomically(plan.target_file, plan.new_text)
    print(f"wrote {plan.target_file}; review it, then `pulumi up --stack {args.target}`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helmlife", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preview", help="`pulumi preview --json` of a stack, for preview-summary")
    p.add_argument("stack", help="stack (environment) name, e.g. dev")
    p.add_argument("--json", action="store_true", required=True,
                   help="print the JSON digest (for a readable preview run `pulumi preview --stack STACK`)")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--tools", help=TOOLS_HELP)
    p.set_defaults(func=_preview_json)
    p = sub.add_parser("promote", help="copy pinned chart versions from one stack to the next")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--chart", action="append", help="only this chart (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    p.add_argument("--force", action="store_true", help="allow skipping an environment in the order")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--tools", help=TOOLS_HELP)
    p.set_defaults(func=_promote)
    p = sub.add_parser("preview-summary", help="Markdown summary of `pulumi preview --json`")
    p.add_argument("file", nargs="?", default="-")
    p.set_defaults(func=lambda a: preview_summary.main([a.file]))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ProjectError as err:
        print(f"helmlife: {err}", file=sys.stderr)
        return 2
