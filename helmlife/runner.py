"""Drive stacks with Pulumi's Automation API on the project directory itself.

The workspace is the project (its Pulumi.yaml, stacks/ and __main__.py); there is no inline
program. The CLI starts the Python language host, which runs __main__.py in the project's
virtualenv exactly as `pulumi up` typed in a shell does, so helmlife's commands and the user's
own `pulumi` commands run the same program on the same stacks.
"""
from __future__ import annotations

import os
from pathlib import Path

from pulumi import automation as auto

LOCAL_PASSPHRASE = "helmlife-local-dev"  # only for the file backend under .tools/state


def project_root(start: Path | None = None) -> Path:
    if env := os.environ.get("HELMLIFE_ROOT"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").exists() and (d / "helmlife").is_dir():
            return d
    return Path(__file__).resolve().parent.parent


def backend_url(root: Path) -> str:
    """HELMLIFE_BACKEND_URL, else a PULUMI_BACKEND_URL the user set, else `root`'s local file backend.

    A PULUMI_BACKEND_URL that a sourced .tools/env set (it records it in HELMLIFE_LOCAL_BACKEND)
    is some checkout's local backend, not the user's choice: a project copy keeps its own.
    """
    inherited = os.environ.get("PULUMI_BACKEND_URL")
    if inherited and inherited == os.environ.get("HELMLIFE_LOCAL_BACKEND"):
        inherited = None
    return os.environ.get("HELMLIFE_BACKEND_URL") or inherited or f"file://{root / '.tools' / 'state'}"


def tool_env(root: Path, tools: Path | None = None) -> dict[str, str]:
    """What `source .tools/env` sets (scripts/bootstrap writes that file the same way).

    `tools` defaults to the project's own .tools/; a copy of the project (as the end-to-end
    tests make) can borrow another checkout's toolchain and virtualenv while keeping its own state.
    """
    tools = tools or root / ".tools"
    venv = tools.parent / ".venv"
    local = f"file://{root / '.tools' / 'state'}"
    env = {
        "HELMLIFE_ROOT": str(root),
        "PATH": os.pathsep.join([str(tools / "bin"), str(venv / "bin"), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(tools / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "UV_PYTHON_DOWNLOADS": "never",
        # Dynamic providers import user hooks (`chart_hooks.demo:...`) by module name.
        "PYTHONPATH": os.pathsep.join(p for p in [str(root), os.environ.get("PYTHONPATH", "")] if p),
        "HELM_CACHE_HOME": str(tools / "helm" / "cache"),
        "HELM_CONFIG_HOME": str(tools / "helm" / "config"),
        "HELM_DATA_HOME": str(tools / "helm" / "data"),
        "HELMLIFE_LOCAL_BACKEND": local,
        "PULUMI_BACKEND_URL": backend_url(root),
    }
    if env["PULUMI_BACKEND_URL"] == local:
        (root / ".tools" / "state").mkdir(parents=True, exist_ok=True)
        env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    return env


def select_stack(name: str, root: Path | None = None, *, tools: Path | None = None,
                 extra_env: dict[str, str] | None = None) -> auto.Stack:
    """Stack `name` of the project at `root` (created if new); its operations run the CLI there."""
    root = root or project_root()
    tools = tools or root / ".tools"
    env = {**tool_env(root, tools), **(extra_env or {})}
    if not (tools / "bin" / "pulumi").exists():
        raise FileNotFoundError(f"{tools / 'bin' / 'pulumi'} is missing: run scripts/bootstrap")
    cmd = auto.PulumiCommand(root=str(tools), skip_version_check=True)
    opts = auto.LocalWorkspaceOptions(pulumi_command=cmd, env_vars=env)
    return auto.create_or_select_stack(stack_name=name, work_dir=str(root), opts=opts)
