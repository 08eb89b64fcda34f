"""Command line: run a stack's lifecycle through the real Pulumi CLI.

    python -m helmlife up dev          # pulumi up of the dev stack
    python -m helmlife preview dev [--diff]
    python -m helmlife destroy dev

Each command runs the program once in this process (Pulumi's inline programs keep
process-wide state such as the hook callback server, so one process runs one operation).
`--report FILE` writes a JSON summary (ok, change summary, outputs) for scripts and tests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pulumi.automation import errors as auto_errors

from .runner import select_stack


def _stack_command(args: argparse.Namespace) -> int:
    stack = select_stack(args.stack, Path(args.root).resolve() if args.root else None,
                         tools=Path(args.tools).resolve() if args.tools else None)
    report: dict[str, Any] = {"ok": False, "command": args.command, "stack": args.stack}

    def emit(line: str) -> None:
        print(line, flush=True)

    try:
        if args.command == "up":
            res = stack.up(on_output=emit, color="never")
            outputs = {k: v.value for k, v in res.outputs.items() if not v.secret}
            report.update(change_summary=res.summary.resource_changes or {}, outputs=outputs)
            print("\ndeployed:")
            for name, info in sorted(outputs.items()):
                print(f"  {name}: {info}")
        elif args.command == "preview":
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
        print(f"\nhelmlife: pulumi {args.command} of stack {args.stack!r} failed (details above)", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(report, default=str))
    return 0 if report["ok"] else 1


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
        p.set_defaults(func=_stack_command)
    args = parser.parse_args(argv)
    return args.func(args)
