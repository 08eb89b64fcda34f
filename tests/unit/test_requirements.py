"""requirements.txt (for pip users and pip-based tooling) is an export of uv.lock's runtime
dependencies: a dependency bumped in one and not the other would install different code."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ["export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-annotate"]


def test_requirements_txt_is_the_export_of_uv_lock() -> None:
    uv = shutil.which("uv") or shutil.which("uv", path=str(ROOT / ".tools" / "bin"))
    if uv is None:
        pytest.fail("uv is missing: run scripts/bootstrap", pytrace=False)
    # uv.lock must itself match pyproject.toml (what `uv sync --locked` in bootstrap checks).
    subprocess.run([uv, "lock", "--check", "--offline"], cwd=ROOT, check=True, capture_output=True)
    exported = subprocess.run([uv, *EXPORT], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert (ROOT / "requirements.txt").read_text() == exported, (
        "requirements.txt is stale: regenerate it with `uv " + " ".join(EXPORT) + " > requirements.txt`")
