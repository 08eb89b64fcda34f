"""`python -m helmlife preview STACK --json` as a user runs it: in their own project (issue 18,
item 7). It acts on the project it is run in with the backend that project uses, never
creates a stack, and fails clearly."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Cluster, Project, chart

pytestmark = pytest.mark.e2e


def helmlife(proj: Project, *args: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """The command in `cwd`, in the shell of a user who sourced this checkout's .tools/env (so
    HELMLIFE_ROOT names the checkout) and whose PULUMI_BACKEND_URL is the project's backend."""
    env = {**proj.env(), "HELMLIFE_ROOT": str(ROOT), "PYTHONPATH": str(ROOT), **extra_env}
    return subprocess.run([sys.executable, "-m", "helmlife", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def checkout_stack_files() -> set[str]:
    return {p.name for p in (ROOT / "stacks").iterdir()}


def test_preview_json_acts_on_the_project_it_runs_in(project: Project, cluster: Cluster, tmp_path: Path) -> None:
    ns = project.namespace
    project.write_stack("t", [chart("app", ns)])
    assert (r := project.up("t")).ok, r.output
    shipped = checkout_stack_files()
    stacks_before = project.cli("stack", "ls", "--json")

    # From a directory inside the project: its stack, its backend, so nothing to change.
    inside = project.root / "charts"
    ok = helmlife(project, "preview", "t", "--json", cwd=inside)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)["changeSummary"]
    assert set(summary) == {"same"} and summary["same"] >= 7, summary  # stack, 2 providers, component, 3 steps, Release

    # --root from elsewhere: the same project and backend, not an empty local one.
    rooted = helmlife(project, "preview", "t", "--json", "--root", str(project.root), cwd=tmp_path)
    assert rooted.returncode == 0, rooted.stderr
    assert json.loads(rooted.stdout)["changeSummary"] == summary

    # The project's state in a backend of its own, not under the project (a team's, say): found
    # from inside, with --root and with --tools too; <project>/.tools/state is empty now, so a
    # command that fell back to it would find no stack t.
    state, elsewhere = project.root / ".tools" / "state", tmp_path / "team-state"
    state.rename(elsewhere)
    state.mkdir()
    try:
        team = {"PULUMI_BACKEND_URL": f"file://{elsewhere}"}
        for args, cwd in ((("--json",), inside), (("--json", "--root", str(project.root)), tmp_path),
                          (("--json", "--root", str(project.root), "--tools", str(ROOT / ".tools")), tmp_path)):
            moved = helmlife(project, "preview", "t", *args, cwd=cwd, **team)
            assert moved.returncode == 0, (args, moved.stderr)
            assert json.loads(moved.stdout)["changeSummary"] == summary, args
        assert not any(state.iterdir()), "nothing may be created in a backend the project does not use"
    finally:
        state.rmdir()
        elsewhere.rename(state)

    # A stack that is not there: refused, naming project and backend; nothing created anywhere.
    missing = helmlife(project, "preview", "nope", "--json", cwd=inside)
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.startswith("helmlife: stack 'nope' does not exist in project helmlife "
                                     f"({project.root})"), missing.stderr
    assert f"file://{project.root / '.tools' / 'state'}" in missing.stderr, missing.stderr
    assert "its stacks: t" in missing.stderr and "Traceback" not in missing.stderr, missing.stderr
    assert project.cli("stack", "ls", "--json") == stacks_before
    assert not (project.root / "stacks" / "Pulumi.nope.yaml").exists()
    assert checkout_stack_files() == shipped

    # No project here at all.
    lost = helmlife(project, "preview", "t", "--json", cwd=tmp_path)
    assert lost.returncode == 2 and "no Pulumi.yaml in" in lost.stderr, lost.stderr

    # A failing preview: its JSON on stdout, a clear line on stderr, no crash.
    project.write_stack("t", [chart("app", ns, "charts/schema-app", values=[{"key": "replicaCount", "value": "lots"}])])
    failed = helmlife(project, "preview", "t", "--json", cwd=inside)
    assert failed.returncode == 1, failed.stderr
    digest = json.loads(failed.stdout)
    errors = " ".join(d.get("message", "") for d in digest.get("diagnostics", []) if d.get("severity") == "error")
    assert "app: pre_exec: chart charts/schema-app cannot be rendered with these values" in errors, failed.stdout
    assert f"helmlife: pulumi preview of stack 't' in {project.root}" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr and "AttributeError" not in failed.stderr, failed.stderr
    assert checkout_stack_files() == shipped
