"""Command line: run a stack's lifecycle through the real Pulumi CLI.

    python -m helmlife up dev          # pulumi up of the dev stack
    python -m helmlife preview dev
    python -m helmlife destroy dev
"""
from __future__ import annotations

import argparse
import sys

from pulumi.automation import errors as auto_errors

from .runner import select_stack


def _stack_command(args: argparse.Namespace) -> int:
    stack = select_stack(args.stack)
    out = sys.stdout.write
    try:
        if args.command == "up":
            res = stack.up(on_output=print, color="never")
            outputs = {k: v.value for k, v in res.outputs.items()}
            print("\ndeployed:")
            for name, info in sorted(outputs.items()):
                print(f"  {name}: {info}")
        elif args.command == "preview":
            stack.preview(on_output=print, color="never", diff=args.diff)
        elif args.command == "destroy":
            stack.destroy(on_output=print, color="never")
        elif args.command == "refresh":
            stack.refresh(on_output=print, color="never")
    except auto_errors.CommandError as err:
        out(f"\nhelmlife: pulumi {args.command} of stack {args.stack!r} failed (details above)\n")
        del err
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helmlife", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "preview", "destroy", "refresh"):
        p = sub.add_parser(name, help=f"pulumi {name} of a stack")
        p.add_argument("stack", help="stack (environment) name, e.g. dev")
        if name == "preview":
            p.add_argument("--diff", action="store_true", help="show the property diff of every step")
        p.set_defaults(func=_stack_command)
    args = parser.parse_args(argv)
    return args.func(args)
