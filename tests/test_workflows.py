"""The GitHub workflows (PR previews, deploy and promotion) pass actionlint."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"


def test_workflows_lint_clean() -> None:
    if not ACTIONLINT.exists():
        pytest.fail(f"{ACTIONLINT} missing: run scripts/bootstrap", pytrace=False)
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"preview.yml", "deploy.yml"}
    proc = subprocess.run([str(ACTIONLINT), *map(str, workflows)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_preview_workflow_runs_preview_and_posts_summary() -> None:
    text = (ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert "pull_request" in text
    assert "python -m helmlife preview" in text and "--json" in text
    assert "preview-summary" in text
