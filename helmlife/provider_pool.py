"""More than four step operations at once in the dynamic-provider process.

Pulumi's Python SDK serves every dynamic provider of a deployment from one process,
`python -m pulumi.dynamic`, whose gRPC server runs on `futures.ThreadPoolExecutor(max_workers=4)`
(`pulumi/dynamic/__main__.py`, no setting for it). So however large the engine's `--parallel`,
at most four step operations run at once: sixty charts' `helm upgrade --wait` calls queue four
at a time, where helmfile runs them all together. helmlife therefore raises the bound of that
pool when its provider is first loaded into the process (the engine's first call unpickles
`StepProvider`, which imports `helmlife.steps.base`, which calls `widen()`). The engine's
`--parallel` (`PULUMI_PARALLEL`) is then the one limit a user sets; `HELMLIFE_PROVIDER_THREADS`
overrides the pool's bound (default 256).

Why this is sound: `ThreadPoolExecutor.submit` compares the number of threads it has with
`_max_workers` on every call, so a raised bound applies from the next call on and never
interrupts a running one, and the pool keeps starting threads only on demand. The pool is
reached through the live gRPC server object (`grpc.server` keeps it as `_state.thread_pool`),
only in the provider process; if a grpc or SDK upgrade moves it, nothing is changed and the
SDK's four threads remain (`widen()` returns an empty list, which a unit test catches).
"""
from __future__ import annotations

import gc
import os
import sys
from concurrent.futures import ThreadPoolExecutor

DEFAULT_THREADS = 256
PROVIDER_MAIN = "pulumi.dynamic.__main__"


def in_provider_process() -> bool:
    """True in the process the engine starts for dynamic providers (`python -m pulumi.dynamic`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == PROVIDER_MAIN


def server_pools() -> list[ThreadPoolExecutor]:
    """The thread pools of the gRPC servers alive in this process."""
    try:
        from grpc._server import _Server
    except ImportError:
        return []
    # type() rather than isinstance(): no attribute lookup on the other objects of the process.
    pools = (getattr(getattr(o, "_state", None), "thread_pool", None) for o in gc.get_objects() if type(o) is _Server)
    return [p for p in pools if isinstance(p, ThreadPoolExecutor)]


def wanted_threads() -> int:
    raw = os.environ.get("HELMLIFE_PROVIDER_THREADS", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_THREADS


def widen(threads: int | None = None, *, anywhere: bool = False) -> list[ThreadPoolExecutor]:
    """Raise the bound of the gRPC server pools to `threads` (never lower it); returns the pools
    changed. Only in the dynamic-provider process unless `anywhere` (tests)."""
    if not (anywhere or in_provider_process()):
        return []
    bound = threads or wanted_threads()
    changed = []
    for pool in server_pools():
        if pool._max_workers < bound:  # noqa: SLF001 - the SDK offers no other way, see the module docstring
            pool._max_workers = bound  # noqa: SLF001
            changed.append(pool)
    return changed
