"""Importable hooks used by the unit tests."""
from __future__ import annotations

from helmlife import LifecycleChart, PermanentError, TemporaryError

FLAKY_CALLS: list[int] = []


def adds_one(ctx):
    return {"n": ctx.payload.get("n", 0) + 1}


def flaky_twice(ctx):
    FLAKY_CALLS.append(ctx.attempt)
    if ctx.attempt < 3:
        raise TemporaryError("not yet", delay=0, max_attempts=5)
    return {"attempts": ctx.attempt}


def always_temporary(ctx):
    raise TemporaryError("never", delay=0, max_attempts=2)


def refuses(ctx):
    raise PermanentError("no")


def buggy(ctx):
    return 1 / 0


class SampleChart(LifecycleChart):
    def pre_exec(self, ctx):
        return {"spec_name": self.spec["name"]}
