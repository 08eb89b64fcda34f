"""A step provider for test_provider_pool: its `check` waits until PARTIES checks run at once.

Unpickling it in the SDK's provider process imports helmlife.steps.base, as unpickling the real
StepProvider does, which is where helmlife widens the process's gRPC thread pool.
"""
from __future__ import annotations

import threading
from typing import Any

from pulumi.dynamic import CheckResult

from helmlife.steps.base import StepProvider

PARTIES = 8
_together = threading.Barrier(PARTIES, timeout=30)


class PoolProbe(StepProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if not news.get("warmup"):
            _together.wait()  # BrokenBarrierError (a failed check) unless PARTIES calls run concurrently
        return CheckResult(news, [])
