"""Hooks the fault suite attaches by chart name (tests/faults/conftest.py's __main__ adds these
to the e2e ones). Each records its attempts in a ConfigMap, so tests count them on the cluster."""
from __future__ import annotations

from kubernetes import client

from helmlife import HookContext, Hooks, PermanentError, TemporaryError
from tests.e2e.e2e_hooks import _record


def note_attempt(ctx: HookContext) -> None:
    """Append this attempt's number to the ConfigMap `<release>-attempts`."""
    core = client.CoreV1Api(ctx.kube)
    try:
        seen = core.read_namespaced_config_map(f"{ctx.release}-attempts", ctx.namespace).data["attempts"]
    except client.exceptions.ApiException:
        seen = ""
    _record(ctx, f"{ctx.release}-attempts", {"attempts": f"{seen},{ctx.attempt}".lstrip(",")})


# "flaky": not healthy for its first two attempts; retries=3 is enough.
flaky = Hooks()


@flaky.validate(retries=3, delay=0.2)
def warming_up(ctx: HookContext) -> None:
    note_attempt(ctx)
    if ctx.attempt < 3:
        raise TemporaryError(f"still warming up (attempt {ctx.attempt})")


# "doomed": fails for good on the first attempt; its generous retries must not be used.
doomed = Hooks()


@doomed.validate(retries=5, delay=0.2)
def broken_for_good(ctx: HookContext) -> None:
    note_attempt(ctx)
    raise PermanentError("the database schema is from the future; retrying cannot help")


# "gated": validate passes only once the value `gate.open` is true (the chart gets fixed).
gated = Hooks()


@gated.validate
def gate(ctx: HookContext) -> None:
    if not any(v.key == "gate.open" and v.value is True for v in ctx.spec.values):
        raise PermanentError("gate.open is not true: the smoke test fails")


HOOKS = {"flaky": flaky, "doomed": doomed, "gated": gated}
