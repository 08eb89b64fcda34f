"""Where each local cluster's kubeconfig is: scripts/cluster writes it and the tests and the
benchmark read it (helmlife.runner.local_kubeconfig), so both must name the same file for every
HELMLIFE_CLUSTER_NAME, or a test would talk to another cluster than the one the script started.
The expected paths are the layout docs/toolchain.md gives; no cluster is started."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helmlife.runner import local_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster"


def script_kubeconfig(name: str | None) -> subprocess.CompletedProcess[str]:
    """`scripts/cluster kubeconfig` with HELMLIFE_CLUSTER_NAME set to `name` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "HELMLIFE_CLUSTER_NAME"}
    if name is not None:
        env["HELMLIFE_CLUSTER_NAME"] = name
    return subprocess.run([str(SCRIPT), "kubeconfig"], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("name", "documented"), [
    (None, ".tools/cluster/kubeconfig"),  # the default cluster, the path the shipped stacks name
    ("", ".tools/cluster/kubeconfig"),  # an empty variable is unset, for the script's ${VAR:-default}
    ("helmlife", ".tools/cluster/kubeconfig"),
    ("wt19", ".tools/cluster/wt19/kubeconfig"),
    ("wt19-b", ".tools/cluster/wt19-b/kubeconfig"),
])
def test_script_and_helper_name_the_same_kubeconfig(name: str | None, documented: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    proc = script_kubeconfig(name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(ROOT / documented)
    if name is None:
        monkeypatch.delenv("HELMLIFE_CLUSTER_NAME", raising=False)
    else:
        monkeypatch.setenv("HELMLIFE_CLUSTER_NAME", name)
    assert local_kubeconfig(ROOT) == ROOT / documented  # from the environment, as the tests' fixtures ask
    assert local_kubeconfig(ROOT, name) == ROOT / documented


@pytest.mark.parametrize("name", ["Upper", "a/b", "kubeconfig", "-a", "a_b"])
def test_script_refuses_a_name_that_is_not_one_directory(name: str) -> None:
    """A name becomes a directory next to the default cluster's files and part of kwok's paths."""
    proc = script_kubeconfig(name)
    assert proc.returncode == 2 and "HELMLIFE_CLUSTER_NAME" in proc.stderr, proc
