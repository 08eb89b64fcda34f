"""Importable hooks used by the unit tests."""
from __future__ import annotations

import time

from helmlife import LifecycleChart, PermanentError, TemporaryError, hook_options

FLAKY_CALLS: list[int] = []


def adds_one(ctx):
    return {"n": ctx.payload.get("n", 0) + 1}


@hook_options(retries=4, delay=0)
def flaky_twice(ctx):
    FLAKY_CALLS.append(ctx.attempt)
    if ctx.attempt < 3:
        raise TemporaryError("not yet")
    return {"attempts": ctx.attempt}


@hook_options(retries=1, delay=0)
def always_temporary(ctx):
    raise TemporaryError("never")


def refuses(ctx):
    raise PermanentError("no")


def buggy(ctx):
    return 1 / 0


@hook_options(timeout="200ms")
def hangs(ctx):
    time.sleep(5)


@hook_options(retries=1)
def retry_deploy_once(ctx):
    raise TemporaryError("maybe next time", delay=0)


class SampleChart(LifecycleChart):
    def pre_exec(self, ctx):
        return {"spec_name": self.spec.name}
