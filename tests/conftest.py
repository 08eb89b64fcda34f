"""Session fixtures shared by the end-to-end tests (tests/e2e) and the fault suite (tests/faults):
one toolchain check and one local cluster for the whole run, whichever directories it covers.
The helpers they return (`Cluster`, `Project`, ...) live in tests/e2e/conftest.py."""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import Iterator

import pytest


def _own_cluster_per_worker() -> None:
    """Under pytest-xdist (scripts/test runs the suite on three workers), every worker but the
    first runs its own local cluster, `<name>-<worker>` with its own chart repository port: the
    fault tests stop and start their cluster's API server, and a test asserting on cluster-wide
    objects (CRDs) must not see another worker's. Set before tests.e2e.conftest reads them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0":
        return
    base = os.environ.get("HELMLIFE_CLUSTER_NAME") or "helmlife"
    os.environ["HELMLIFE_CLUSTER_NAME"] = f"{base}-{worker}"
    with socket.socket() as s:  # a port free now; the repository server takes it at once
        s.bind(("127.0.0.1", 0))
        os.environ["HELMLIFE_REPO_PORT"] = str(s.getsockname()[1])


_own_cluster_per_worker()

from tests.e2e.conftest import (REQUIRED, TOOLS, Cluster, LocalCluster, ObjectStore, free_port_block,
                                language_host)

# A HELMLIFE_KUBECONFIG exported for the shipped stacks on a cluster not named helmlife
# (docs/toolchain.md) would override every test stack's kubeconfig_path; the tests name each
# stack's cluster themselves (and hand the shipped stacks theirs: shipped_stack_env).
os.environ.pop("HELMLIFE_KUBECONFIG", None)


@pytest.fixture(scope="session")
def toolchain() -> Path:
    missing = [b for b in REQUIRED if not (TOOLS / "bin" / b).exists()]
    if language_host() is None:
        missing.append("pulumi-language-python")
    if not list((TOOLS / "pulumi-home" / "plugins").glob("resource-kubernetes-v*/pulumi-resource-kubernetes")):
        missing.append("the kubernetes resource plugin (pulumi-home/plugins/resource-kubernetes-v*)")
    if missing:
        pytest.fail(f"toolchain incomplete, missing {', '.join(missing)} in {TOOLS / 'bin'}: run scripts/bootstrap",
                    pytrace=False)
    return TOOLS


@pytest.fixture(scope="session")
def cluster(toolchain: Path) -> Iterator[Cluster]:
    """This run's cluster ($HELMLIFE_CLUSTER_NAME), started unless it is up already; stopped
    afterwards only when this run started it."""
    local = LocalCluster.from_env()
    was_up = local.script("status").returncode == 0
    proc = local.script("up")
    if proc.returncode != 0:
        pytest.fail(f"scripts/cluster up failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    again = local.script("up")  # `up` twice is harmless
    assert again.returncode == 0 and "already up" in again.stderr, again.stderr
    try:
        yield local.client()
    finally:
        if not was_up and not os.environ.get("HELMLIFE_KEEP_CLUSTER"):
            local.script("down")
            assert local.processes() == [], "scripts/cluster down left processes behind"


@pytest.fixture(scope="session")
def objectstore(toolchain: Path) -> Iterator[ObjectStore]:
    """scripts/objectstore's S3-compatible store, on ports and in a data directory of this run's
    own; stopped and its data removed afterwards. A missing store fails, as any missing tool does."""
    if not (TOOLS / "bin" / "weed").exists():
        pytest.fail(f"the object store is missing ({TOOLS / 'bin' / 'weed'}): run scripts/bootstrap objectstore",
                    pytrace=False)
    if shutil.which("curl") is None:
        pytest.fail("curl is missing: scripts/objectstore and the bucket checks use its --aws-sigv4", pytrace=False)
    store = ObjectStore(f"pytest-{os.getpid()}", free_port_block(8))
    try:
        store.up()
        yield store
    finally:
        store.down()
        shutil.rmtree(store.data_dir, ignore_errors=True)
