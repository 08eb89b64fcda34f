"""Drive stacks with Pulumi's Automation API on the project directory itself.

The workspace is the project (its Pulumi.yaml, stacks/ and __main__.py); there is no inline
program. The CLI starts the Python language host, which runs __main__.py in the project's
virtualenv exactly as `pulumi up` typed in a shell does, so helmlife's commands and the user's
own `pulumi` commands run the same program on the same stacks.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from pulumi import automation as auto

LOCAL_PASSPHRASE = "helmlife-local-dev"  # only for the file backend under .tools/state


CHECKOUT = Path(__file__).resolve().parent.parent  # helmlife's own checkout (its .tools/, if any)
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
DEFAULT_CLUSTER = "helmlife"  # scripts/cluster's HELMLIFE_CLUSTER_NAME when none is set


def local_cluster_dir(root: Path = CHECKOUT, name: str | None = None) -> Path:
    """Where `scripts/cluster` in checkout `root` keeps local cluster `name`'s kubeconfig and its
    chart repository's pid file and log (`name` defaults to $HELMLIFE_CLUSTER_NAME, else the
    default cluster's name; an empty variable counts as unset, as in the script).

    The default cluster keeps `.tools/cluster/` itself, the path the shipped stacks, the README
    and a user's own stack files name; any other name gets `.tools/cluster/<name>/`, so several
    clusters run side by side from one checkout (the shared-backend test deploys two stacks to
    two). The script computes the same path (`scripts/cluster kubeconfig` prints it): the tests
    and the benchmark ask this function instead of spelling the layout out again."""
    name = name or os.environ.get("HELMLIFE_CLUSTER_NAME") or DEFAULT_CLUSTER
    base = root / ".tools" / "cluster"
    return base if name == DEFAULT_CLUSTER else base / name


def local_kubeconfig(root: Path = CHECKOUT, name: str | None = None) -> Path:
    """The kubeconfig `scripts/cluster up` writes for local cluster `name` (see local_cluster_dir),
    its context `kwok-<name>` the current one."""
    return local_cluster_dir(root, name) / "kubeconfig"


class ProjectError(RuntimeError):
    """A helmlife command cannot act on the project it was asked to; the message says why and
    what to do. Nothing was created or changed."""


def find_project(start: Path | None = None) -> Path:
    """The Pulumi project a command run in `start` (default: cwd) belongs to: the nearest
    directory, `start` or above, holding a Pulumi.yaml, as the `pulumi` CLI finds it."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if any((d / f).is_file() for f in PROJECT_FILES):
            return d
    raise ProjectError(f"no Pulumi.yaml in {here} or any directory above it: run this command in your "
                       "Pulumi project, or name its directory with --root")


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
    """Stack `name` of the project copy at `root` (created if new), on `root`'s own toolchain
    environment (tool_env); for the tests and the benchmark, which make such copies.
    helmlife's commands act on the user's project instead (`UserProject`): they never create."""
    root = root or CHECKOUT
    tools = tools or root / ".tools"
    env = {**tool_env(root, tools), **(extra_env or {})}
    if not (tools / "bin" / "pulumi").exists():
        raise FileNotFoundError(f"{tools / 'bin' / 'pulumi'} is missing: run scripts/bootstrap")
    cmd = auto.PulumiCommand(root=str(tools), skip_version_check=True)
    opts = auto.LocalWorkspaceOptions(pulumi_command=cmd, env_vars=env)
    return auto.create_or_select_stack(stack_name=name, work_dir=str(root), opts=opts)


@dataclass(frozen=True)
class UserProject:
    """The Pulumi project a helmlife command acts on, with what `pulumi` typed there would use.

    `env` is the caller's environment (so the same backend, passphrase and login), with
    HELMLIFE_BACKEND_URL, when set, as PULUMI_BACKEND_URL (as a sourced .tools/env does). With
    a toolchain directory (`--tools`) its bin/ comes first on PATH and its pulumi-home is
    PULUMI_HOME (where scripts/bootstrap registers the language host); the backend is resolved
    before that switch and pinned, so `--tools` never changes which state is read.
    """

    root: Path
    name: str
    stack_config_dir: Path
    pulumi: Path
    env: dict[str, str]
    backend: str

    @classmethod
    def open(cls, root: Path | None = None, tools: Path | None = None) -> "UserProject":
        root = root.resolve() if root else find_project()
        settings_file = next((root / f for f in PROJECT_FILES if (root / f).is_file()), None)
        if settings_file is None:
            raise ProjectError(f"--root {root} holds no Pulumi.yaml: name your Pulumi project's directory")
        settings = yaml.safe_load(settings_file.read_text()) or {}
        env = dict(os.environ)
        if url := os.environ.get("HELMLIFE_BACKEND_URL"):
            env["PULUMI_BACKEND_URL"] = url
        pulumi = pulumi_binary(tools, env)
        backend = _whoami(pulumi, root, env)
        if tools:
            env.update(PULUMI_BACKEND_URL=backend, PATH=os.pathsep.join([str(tools / "bin"), env.get("PATH", "")]))
            if (tools / "pulumi-home").is_dir():
                env["PULUMI_HOME"] = str(tools / "pulumi-home")
        env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
        return cls(root=root, name=str(settings.get("name", root.name)),
                   stack_config_dir=root / str(settings.get("stackConfigDir") or "."),
                   pulumi=pulumi, env=env, backend=backend)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS` in the project directory, never prompting."""
        return subprocess.run([str(self.pulumi), *args, "--non-interactive"], cwd=self.root, env=self.env,
                              capture_output=True, text=True)

    def stack_names(self) -> list[str]:
        proc = self.cli("stack", "ls", "--json")
        if proc.returncode != 0:
            raise ProjectError(f"cannot list the stacks of project {self.name} ({self.root}) on backend "
                               f"{self.backend}: {proc.stderr.strip()}")
        return [s["name"].rsplit("/", 1)[-1] for s in json.loads(proc.stdout or "[]")]

    def require_stack(self, name: str) -> None:
        """Refuse, naming where helmlife looked, when stack `name` does not exist: helmlife
        previews and promotes stacks, it never creates one."""
        names = self.stack_names()
        if name not in names:
            raise ProjectError(
                f"stack {name!r} does not exist in project {self.name} ({self.root}) on backend {self.backend} "
                f"(its stacks: {', '.join(sorted(names)) or 'none'}); nothing was created. Create it with "
                f"`pulumi stack init {name}` in {self.root}, or run in the project (or pass --root) and with "
                "the backend (PULUMI_BACKEND_URL, `pulumi login`) it is deployed from")

    def stack(self, name: str) -> auto.Stack:
        """Automation API handle on an existing stack (see `require_stack`)."""
        self.require_stack(name)
        # PulumiCommand runs ROOT/bin/pulumi; a binary elsewhere is run as `pulumi` from PATH.
        root = str(self.pulumi.parent.parent) if self.pulumi.parent.name == "bin" else None
        cmd = auto.PulumiCommand(root=root, skip_version_check=True)
        opts = auto.LocalWorkspaceOptions(pulumi_command=cmd, env_vars=self.env)
        return auto.select_stack(stack_name=name, work_dir=str(self.root), opts=opts)


def pulumi_binary(tools: Path | None, env: dict[str, str]) -> Path:
    """TOOLS/bin/pulumi with --tools, else `pulumi` on PATH, else this checkout's .tools/bin/pulumi."""
    candidates = [tools / "bin" / "pulumi"] if tools else [
        *(Path(p) for p in [shutil.which("pulumi", path=env.get("PATH"))] if p), CHECKOUT / ".tools" / "bin" / "pulumi"]
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    where = f"{tools / 'bin'}" if tools else "PATH"
    raise ProjectError(f"no pulumi CLI in {where}: install it, or run scripts/bootstrap and `source .tools/env`")


def _whoami(pulumi: Path, root: Path, env: dict[str, str]) -> str:
    """The backend URL `pulumi` uses in `root` (PULUMI_BACKEND_URL, the project's `backend.url`,
    else the login)."""
    proc = subprocess.run([str(pulumi), "whoami", "--json", "--non-interactive"], cwd=root, env=env,
                          capture_output=True, text=True)
    try:
        return str(json.loads(proc.stdout)["url"])
    except (ValueError, KeyError, TypeError):
        raise ProjectError(f"cannot tell which backend the project in {root} uses ({proc.stderr.strip()}): "
                           "`pulumi login`, or set PULUMI_BACKEND_URL") from None
