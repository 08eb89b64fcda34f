#!/usr/bin/env python3
"""Write a throwaway go.mod that lets `go build` compile a main package from a module whose own
go.mod carries replace directives (which `go install pkg@version` refuses).

Upstream replace lines that point at another module are repeated verbatim; lines that point
at a local directory (monorepo staging modules) are mapped to that module's published version.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPLACE_ONE = re.compile(r"^\s*replace\s+(\S+)(?:\s+(\S+))?\s*=>\s*(\S+)(?:\s+(\S+))?\s*$")
REPLACE_IN_BLOCK = re.compile(r"^\s*(\S+)(?:\s+(v\S+))?\s*=>\s*(\S+)(?:\s+(\S+))?\s*$")
REQUIRE_LINE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)(?:\s*//.*)?$")


def upstream_gomod(module: str, version: str) -> str:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        check=False, capture_output=True, text=True,
    )
    info = json.loads(out.stdout or "{}")
    if "Error" in info or out.returncode != 0:
        sys.exit(f"cannot fetch {module}@{version} from the Go module proxy: {info.get('Error') or out.stderr.strip()}")
    return Path(info["GoMod"]).read_text()


def parse(gomod: str) -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    requires: dict[str, str] = {}
    replaces: list[tuple[str, str, str | None]] = []
    block = None
    for raw in gomod.splitlines():
        line = raw.split("//")[0].rstrip() if "=>" not in raw else raw.rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.endswith("(") :
            block = stripped.split()[0]
            continue
        if stripped == ")":
            block = None
            continue
        if block == "replace" or stripped.startswith("replace "):
            m = (REPLACE_IN_BLOCK if block == "replace" else REPLACE_ONE).match(stripped)
            if m:
                replaces.append((m.group(1), m.group(3), m.group(4)))
        elif block == "require" or stripped.startswith("require "):
            m = REQUIRE_LINE.match(stripped)
            if m:
                requires[m.group(1)] = m.group(2)
    return requires, replaces


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="wrapper module directory to write")
    ap.add_argument("--require", action="append", default=[], help="module@version; the first is the main one")
    ap.add_argument("--local-version", help="version to use for local (staging) replaces whose required version is a placeholder")
    args = ap.parse_args()

    mods = [r.rsplit("@", 1) for r in args.require]
    lines = ["module helmlife.local/toolbuild", "", "go 1.26", "", "require ("]
    lines += [f"\t{m} {v}" for m, v in mods]
    lines += [")", ""]
    required = {m for m, _ in mods}
    seen: set[str] = set()
    for module, version in mods:
        requires, replaces = parse(upstream_gomod(module, version))
        for old, new, new_version in replaces:
            if old in seen or old in required:
                continue
            seen.add(old)
            if new.startswith((".", "/")):
                pinned = requires.get(old, "v0.0.0")
                if pinned.startswith("v0.0.0") and args.local_version:
                    pinned = args.local_version
                if pinned.startswith("v0.0.0"):
                    continue
                lines.append(f"replace {old} => {old} {pinned}")
            else:
                lines.append(f"replace {old} => {new} {new_version or ''}".rstrip())
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "go.mod").write_text("\n".join(lines) + "\n")
    (out / "go.sum").touch()


if __name__ == "__main__":
    main()
