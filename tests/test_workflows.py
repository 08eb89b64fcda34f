"""The GitHub workflows (PR previews, deploy and promotion): actionlint-clean, built from the
standard setup actions at the project's pinned versions (no Go builds on a runner), and running
the plain Pulumi CLI. They cannot run here; these tests check what can be checked offline,
including the stack-selection script, which runs against a throwaway git repository."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(wf: dict[str, Any]) -> dict[str, Any]:
    return wf.get("on", wf.get(True))  # YAML 1.1 reads the bare key `on` as True


def all_steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                yield path.name, job_name, step


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    """The one step of `job` that uses `action` (owner/name, any ref)."""
    found = [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0].lower() == action.lower()]
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def run_step(job: dict[str, Any], needle: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if needle in s.get("run", "")]
    assert len(found) == 1, f"expected one step running {needle!r}, found {len(found)}"
    return found[0]


def versions() -> dict[str, str]:
    text = (ROOT / "scripts" / "versions.env").read_text()
    return dict(re.findall(r"^([A-Z_]+)=(\S+)$", text, re.M))


def test_workflows_lint_clean() -> None:
    if not ACTIONLINT.exists():
        pytest.fail(f"{ACTIONLINT} missing: run scripts/bootstrap", pytrace=False)
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert {w.name for w in workflows} >= {"preview.yml", "deploy.yml"}
    proc = subprocess.run([str(ACTIONLINT), *map(str, workflows)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_go_builds_on_a_runner() -> None:
    for wf, job, step in all_steps():
        where = f"{wf} job {job} step {step.get('name') or step.get('uses')}"
        assert not str(step.get("uses", "")).startswith("actions/setup-go"), where
        run = step.get("run", "")
        for banned in ("scripts/bootstrap", "go build", "go install", ".tools/env", ".tools/bin"):
            assert banned not in run, f"{where} runs {banned!r}"


def test_run_steps_are_strict_bash_without_inline_expressions() -> None:
    for wf, job, step in all_steps():
        run = step.get("run")
        if run is None:
            continue
        where = f"{wf} job {job} step {step.get('name')}"
        # Untrusted values (branch names, inputs) reach scripts through env, never interpolated.
        assert "${{" not in run, where
        proc = subprocess.run(["bash", "-n"], input=run, capture_output=True, text=True)
        assert proc.returncode == 0, f"{where}: {proc.stderr}"
        if "\n" in run.strip():
            assert run.lstrip().startswith("set -euo pipefail"), where


@pytest.mark.parametrize(("workflow", "job_name", "needs_helm"), [
    ("preview.yml", "preview", True),
    ("deploy.yml", "up-dev", True),
    ("deploy.yml", "promote", False),
])
def test_setup_actions_install_the_pinned_tools(workflow: str, job_name: str, needs_helm: bool) -> None:
    job = load(workflow)["jobs"][job_name]
    pins = versions()
    assert str(uses(job, "actions/setup-python")["with"]["python-version"]) == "3.11"
    assert uses(job, "astral-sh/setup-uv")["uses"] == "astral-sh/setup-uv@v6"
    pulumi = uses(job, "pulumi/actions")
    assert pulumi["uses"] == "pulumi/actions@v6"
    assert "command" not in pulumi.get("with", {}), "install only; the workflow runs the CLI itself"
    assert str(pulumi["with"]["pulumi-version"]) == pins["PULUMI_VERSION"]
    helm = [s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/setup-helm@")]
    if needs_helm:
        assert len(helm) == 1 and helm[0]["uses"] == "azure/setup-helm@v4"
        assert helm[0]["with"]["version"] == "v" + pins["HELM_VERSION"]
    else:
        assert not helm
    # `pulumi install` (uv sync per Pulumi.yaml, plus plugins) before anything uses the CLI or venv.
    steps = job["steps"]
    install = steps.index(run_step(job, "pulumi install"))
    assert steps.index(pulumi) < install
    for i, step in enumerate(steps):
        run = step.get("run", "")
        if re.search(r"pulumi (stack|preview|up)\b|-m helmlife", run):
            assert i > install, step.get("name")


def test_preview_runs_the_plain_cli_per_stack_and_posts_one_summary() -> None:
    wf = load("preview.yml")
    assert "pull_request" in triggers(wf)
    stacks_job, job = wf["jobs"]["stacks"], wf["jobs"]["preview"]
    assert stacks_job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["needs"] == "stacks" and job["if"] == "needs.stacks.outputs.stacks != ''"
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.HELMLIFE_BACKEND_URL }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"

    run = run_step(job, "pulumi preview")["run"]
    assert "for stack in $STACKS" in run
    assert 'pulumi stack select --create "$stack"' in run
    assert 'pulumi preview --stack "$stack" --json > "preview-$stack.json"' in run
    assert "python -m helmlife preview-summary" in run
    assert "helmlife preview " not in run, "the preview itself is the plain CLI"
    assert "::warning::" in run and "HELMLIFE_BACKEND_URL" in run
    assert 'tail -n 40 "preview-$stack.err"' in run  # failures show the last error lines

    post = uses(job, "actions/github-script")
    script = post["with"]["script"]
    assert "<!-- helmlife-preview -->" in run and "<!-- helmlife-preview -->" in script
    assert "updateComment" in script and "createComment" in script
    limit = int(re.search(r"const limit = (\d+);", script).group(1))
    assert limit < 65536
    assert post["if"].startswith("always()")
    artifact = uses(job, "actions/upload-artifact")
    assert "preview-*.json" in artifact["with"]["path"] and artifact["if"] == "always()"


@pytest.mark.parametrize(("workflow", "job_name"), [("preview.yml", "preview"), ("deploy.yml", "up-dev")])
def test_kubeconfig_is_private_points_helmlife_at_it_and_is_removed(workflow: str, job_name: str) -> None:
    job = load(workflow)["jobs"][job_name]
    write = run_step(job, "KUBECONFIG_CONTENT")
    assert write["env"]["KUBECONFIG_CONTENT"] == "${{ secrets.KUBECONFIG }}"
    assert 'file="$RUNNER_TEMP/kubeconfig"' in write["run"]
    assert "umask 077" in write["run"] and 'chmod 600 "$file"' in write["run"]
    assert 'echo "HELMLIFE_KUBECONFIG=$file" >> "$GITHUB_ENV"' in write["run"]
    remove = run_step(job, 'rm -f "$RUNNER_TEMP/kubeconfig"')
    assert remove["if"] == "always()"
    assert job["steps"].index(remove) > job["steps"].index(write)


def test_deploy_ups_dev_with_the_plain_cli_and_promotes_through_helmlife() -> None:
    wf = load("deploy.yml")
    on = triggers(wf)
    assert on["push"]["branches"] == ["main"]
    assert on["workflow_dispatch"]["inputs"]["promotion"]["options"] == ["dev -> staging", "staging -> prod"]
    assert wf["env"]["PULUMI_BACKEND_URL"] == "${{ vars.HELMLIFE_BACKEND_URL }}"
    up = wf["jobs"]["up-dev"]
    assert up["concurrency"] == {"group": "deploy-dev", "cancel-in-progress": False}
    check = run_step(up, "HELMLIFE_BACKEND_URL")["run"]
    assert "::error::" in check and "exit 1" in check
    deploy = run_step(up, "pulumi up")["run"]
    assert "pulumi stack select --create dev" in deploy
    assert "pulumi up --stack dev --yes" in deploy
    assert "-m helmlife up" not in deploy

    promote = wf["jobs"]["promote"]
    assert promote["concurrency"]["cancel-in-progress"] is False
    assert 'python -m helmlife promote "$SOURCE" "$TARGET"' in run_step(promote, "| tee")["run"]
    assert "gh pr create" in run_step(promote, "gh pr create")["run"]
    assert not any("KUBECONFIG" in str(s) for s in promote["steps"]), "promotion needs no cluster"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


@pytest.mark.parametrize(("changed", "expected"), [
    (["stacks/Pulumi.staging.yaml"], "staging"),
    (["stacks/Pulumi.prod.yaml", "stacks/Pulumi.dev.yaml"], "dev prod"),
    (["stacks/Pulumi.qa.yaml"], "qa"),
    (["stacks/base.yaml"], "dev staging prod qa"),
    (["uv.lock"], "dev staging prod qa"),
    (["helmlife/program.py", "stacks/Pulumi.dev.yaml"], "dev staging prod qa"),
    (["README.md"], ""),
])
def test_preview_selects_the_touched_stacks(tmp_path: Path, changed: list[str], expected: str) -> None:
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":  # CI runs on a clone: git missing there is a broken runner
            pytest.fail("git not installed", pytrace=False)
        pytest.skip("git not installed")
    wf = load("preview.yml")
    script = next(s for s in wf["jobs"]["stacks"]["steps"] if s.get("id") == "stacks")["run"]
    repo = tmp_path / "repo"
    for f in ["stacks/Pulumi.dev.yaml", "stacks/Pulumi.staging.yaml", "stacks/Pulumi.prod.yaml",
              "stacks/Pulumi.qa.yaml", "stacks/base.yaml", "uv.lock", "helmlife/program.py", "README.md"]:
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        (repo / f).write_text("v1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    for f in changed:
        (repo / f).write_text("v2\n")
    _git(repo, "commit", "-qam", "change")
    out = tmp_path / "output"
    proc = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "BASE_SHA": base, "GITHUB_OUTPUT": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == f"stacks={expected}\n"
    # Every path that selects stacks also triggers the workflow.
    for f in changed:
        if expected:
            assert any(Path(f).match(p.replace("**", "*")) for p in triggers(wf)["pull_request"]["paths"]), f
