"""Drive stacks with Pulumi's Automation API and the CLI built in .tools/.

The program runs in this process as an inline program and the CLI connects to it
(`pulumi up --client=...`). That is the supported Automation API path, and it needs no
`pulumi-language-python` plugin, which cannot be built from a registry here (see
docs/toolchain.md). The stack's config, backend and secrets provider are the project's own,
so the same stacks work with a plain `pulumi up` where the language plugin is installed.
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Callable

from pulumi import automation as auto

LOCAL_PASSPHRASE = "helmlife-local-dev"  # only for the file backend under .tools/state


def project_root(start: Path | None = None) -> Path:
    env = os.environ.get("HELMLIFE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").exists() and (d / "helmlife").is_dir():
            return d
    return Path(__file__).resolve().parent.parent


def tool_env(root: Path, tools: Path | None = None) -> dict[str, str]:
    """The environment the CLI, its plugins and helm need, all pointed into .tools/.

    `tools` defaults to the project's own .tools/; a copy of the project (as the end-to-end
    tests make) can borrow another checkout's toolchain and virtualenv.
    """
    tools = tools or root / ".tools"
    venv = tools.parent / ".venv"
    env = {
        "HELMLIFE_ROOT": str(root),
        "HELMLIFE_PROJECT_DIR": str(root),
        "PATH": os.pathsep.join([str(tools / "bin"), str(venv / "bin"), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(tools / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_RUNTIME_VIRTUALENV": str(venv),
        "PYTHONPATH": os.pathsep.join(p for p in [str(root), os.environ.get("PYTHONPATH", "")] if p),
        "HELM_CACHE_HOME": str(tools / "helm" / "cache"),
        "HELM_CONFIG_HOME": str(tools / "helm" / "config"),
        "HELM_DATA_HOME": str(tools / "helm" / "data"),
    }
    state = root / ".tools" / "state"  # per project copy, even when the toolchain is borrowed
    backend = os.environ.get("HELMLIFE_BACKEND_URL") or f"file://{state}"
    env["PULUMI_BACKEND_URL"] = backend
    if backend == f"file://{state}":
        state.mkdir(parents=True, exist_ok=True)
        env["PULUMI_CONFIG_PASSPHRASE"] = os.environ.get("PULUMI_CONFIG_PASSPHRASE", LOCAL_PASSPHRASE)
    return env


def inline_program(root: Path) -> Callable[[], None]:
    """Run the project's __main__.py exactly as the Python language host would."""

    def program() -> None:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")

    return program


def select_stack(
    name: str, root: Path | None = None, *, tools: Path | None = None, extra_env: dict[str, str] | None = None
) -> auto.Stack:
    root = root or project_root()
    tools = tools or root / ".tools"
    env = {**tool_env(root, tools), **(extra_env or {})}
    os.environ.update(env)  # the inline program and helm see what the CLI sees
    pulumi_bin = tools / "bin" / "pulumi"
    if not pulumi_bin.exists():
        raise FileNotFoundError(f"{pulumi_bin} is missing: run scripts/bootstrap")
    cmd = auto.PulumiCommand(root=str(tools), skip_version_check=True)
    opts = auto.LocalWorkspaceOptions(work_dir=str(root), pulumi_command=cmd, env_vars=env)
    return auto.create_or_select_stack(stack_name=name, project_name="helmlife",
                                       program=inline_program(root), opts=opts)
