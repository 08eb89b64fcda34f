"""Command line: run a stack's lifecycle through the real Pulumi CLI.

    python -m helmlife up dev                      # pulumi up of the dev stack
    python -m helmlife preview dev [--diff|--json]
    python -m helmlife destroy dev
    python -m helmlife promote dev staging [--chart NAME ...] [--dry-run] [--force]
    python -m helmlife preview-summary preview.json

Each stack command runs the program once in this process (Pulumi's inline programs keep
process-wide state such as the hook callback server, so one process runs one operation).
`--report FILE` writes a JSON summary (ok, change summary, outputs) for scripts and tests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from . import preview_summary
from .promote import PromotionRefused, StackStatus, plan_promotion, write_atomically
from .runner import project_root, select_stack


def _select(args: argparse.Namespace, name: str) -> auto.Stack:
    return select_stack(name, Path(args.root).resolve() if args.root else None,
                        tools=Path(args.tools).resolve() if args.tools else None)


def _stack_command(args: argparse.Namespace) -> int:
    stack = _select(args, args.stack)
    report: dict[str, Any] = {"ok": False, "command": args.command, "stack": args.stack}
    as_json = getattr(args, "json", False)

    def emit(line: str) -> None:
        print(line, flush=True, file=sys.stderr if as_json else sys.stdout)

    try:
        if args.command == "up":
            res = stack.up(on_output=emit, color="never")
            outputs = {k: v.value for k, v in res.outputs.items() if not v.secret}
            report.update(change_summary=res.summary.resource_changes or {}, outputs=outputs)
            print("\ndeployed:")
            for name, info in sorted(outputs.items()):
                print(f"  {name}: {info}")
        elif args.command == "preview":
            if as_json:
                pres = stack.preview(color="never", json=True)
                sys.stdout.write(pres.stdout)
            else:
                pres = stack.preview(on_output=emit, color="never", diff=args.diff)
            report.update(change_summary=pres.change_summary)
        elif args.command == "destroy":
            res = stack.destroy(on_output=emit, color="never")
            report.update(change_summary=res.summary.resource_changes or {})
        elif args.command == "refresh":
            res = stack.refresh(on_output=emit, color="never")
            report.update(change_summary=res.summary.resource_changes or {})
        report["ok"] = True
    except auto_errors.CommandError as err:
        report["error"] = str(err)
        if as_json and err.stdout:  # `preview --json` prints its digest even when it fails
            sys.stdout.write(err.stdout)
        print(f"\nhelmlife: pulumi {args.command} of stack {args.stack!r} failed"
              f"{': ' + str(err) if as_json else ' (details above)'}", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(report, default=str))
    return 0 if report["ok"] else 1


def stack_status(stack: auto.Stack) -> StackStatus:
    """Last update's result, and whether the stack's config differs from what that update used."""
    history = stack.history(page_size=1)
    updates = [u for u in history if u.kind in ("update", "destroy")]
    if not updates:
        return StackStatus(last_result=None, pending_changes=False)
    last = updates[0]
    if last.kind == "destroy":
        return StackStatus(last_result=None, pending_changes=False)  # nothing deployed to promote
    deployed = {k: v.value for k, v in (last.config or {}).items() if k.startswith("helmlife:")}
    current = {k: v.value for k, v in stack.get_all_config().items() if k.startswith("helmlife:")}
    return StackStatus(last_result=last.result, pending_changes=_canon(deployed) != _canon(current))


def _canon(config: dict[str, Any]) -> str:
    def parse(v: Any) -> Any:
        try:
            return json.loads(v) if isinstance(v, str) else v
        except ValueError:
            return v

    return json.dumps({k: parse(v) for k, v in config.items()}, sort_keys=True)


def _promote(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else project_root()
    stacks_dir = root / "stacks"
    try:
        status = stack_status(_select(args, args.source))
        plan = plan_promotion(
            stacks_dir / f"Pulumi.{args.source}.yaml", stacks_dir / f"Pulumi.{args.target}.yaml",
            source=args.source, target=args.target, charts=args.chart or None,
            source_status=status, force=args.force,
        )
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
    print(f"wrote {plan.target_file}; review it, then `python -m helmlife up {args.target}`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helmlife", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "preview", "destroy", "refresh"):
        p = sub.add_parser(name, help=f"pulumi {name} of a stack")
        p.add_argument("stack", help="stack (environment) name, e.g. dev")
        p.add_argument("--root", help="project directory (default: this checkout)")
        p.add_argument("--tools", help="toolchain directory (default: ROOT/.tools)")
        p.add_argument("--report", help="write a JSON summary of the result to this file")
        if name == "preview":
            p.add_argument("--diff", action="store_true", help="show the property diff of every step")
            p.add_argument("--json", action="store_true", help="print `pulumi preview --json` on stdout")
        p.set_defaults(func=_stack_command)
    p = sub.add_parser("promote", help="copy pinned chart versions from one stack to the next")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--chart", action="append", help="only this chart (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    p.add_argument("--force", action="store_true", help="allow skipping an environment in the order")
    p.add_argument("--root", help="project directory (default: this checkout)")
    p.add_argument("--tools", help="toolchain directory (default: ROOT/.tools)")
    p.set_defaults(func=_promote)
    p = sub.add_parser("preview-summary", help="Markdown summary of `pulumi preview --json`")
    p.add_argument("file", nargs="?", default="-")
    p.set_defaults(func=lambda a: preview_summary.main([a.file]))
    args = parser.parse_args(argv)
    return args.func(args)
