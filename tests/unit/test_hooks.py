"""Hook references, registration options, payload threading and the one runner's error rules."""
from __future__ import annotations

import inspect
import logging

import pytest

from helmlife import LifecycleChart
from helmlife.hooks import (HookContext, HookFailedError, HookOptions, HookRetriesError, Hooks, HookTimeoutError,
                            PermanentError, TemporaryError, hook_ref, load_hook, options_of, run_failure_hooks,
                            run_hooks)
from helmlife.spec import parse_spec
from helmlife.steps import HOOK_EVENTS
from tests.unit import sample_hooks

SPEC = parse_spec({"name": "from-spec", "chart": "c"})


def ctx(**kw) -> HookContext:
    return HookContext(step="pre_exec", spec=SPEC, release="r", namespace="n", previous_version=None,
                       target_version="1.0.0", kube=None, log=logging.getLogger("t"), **kw)  # type: ignore[arg-type]


def test_ref_round_trip() -> None:
    ref = hook_ref(sample_hooks.adds_one)
    assert ref == "tests.unit.sample_hooks:adds_one"
    assert load_hook(ref, None) is sample_hooks.adds_one


def test_lambda_and_local_functions_are_refused_with_a_fix() -> None:
    with pytest.raises(ValueError, match="importable module"):
        hook_ref(lambda c: None)

    def local(c):
        return None

    with pytest.raises(ValueError, match="chart_hooks/my_chart.py"):
        Hooks().pre_exec(local)


def test_payload_threads_through_hooks() -> None:
    c = ctx(payload={"n": 1})
    out = run_hooks([hook_ref(sample_hooks.adds_one), hook_ref(sample_hooks.adds_one)], c)
    assert out == {"n": 3}


def test_temporary_error_retries_within_the_registered_budget() -> None:
    sample_hooks.FLAKY_CALLS.clear()
    out = run_hooks([hook_ref(sample_hooks.flaky_twice)], ctx())
    assert out == {"attempts": 3} and sample_hooks.FLAKY_CALLS == [1, 2, 3]


def test_exhausted_budget_is_a_typed_error_naming_the_hook() -> None:
    with pytest.raises(HookRetriesError, match="sample_hooks:always_temporary gave up after 2 attempts: never") as err:
        run_hooks([hook_ref(sample_hooks.always_temporary)], ctx())
    assert err.value.attempts == 2 and err.value.hook.endswith("always_temporary")
    assert isinstance(err.value, PermanentError)


def test_timeout_is_a_typed_error_naming_the_hook() -> None:
    with pytest.raises(HookTimeoutError, match="pre_exec hook tests.unit.sample_hooks:hangs timed out after 0.2s"):
        run_hooks([hook_ref(sample_hooks.hangs)], ctx())


def test_permanent_and_plain_errors_name_the_hook() -> None:
    with pytest.raises(HookFailedError, match="sample_hooks:refuses failed: no"):
        run_hooks([hook_ref(sample_hooks.refuses)], ctx())
    with pytest.raises(HookFailedError, match="raised ZeroDivisionError"):
        run_hooks([hook_ref(sample_hooks.buggy)], ctx())


def test_failure_hooks_share_the_rules_but_retry_the_deploy() -> None:
    refs = [hook_ref(sample_hooks.retry_deploy_once)]
    assert run_failure_hooks(refs, ctx(attempt=1)) == 0
    last = ctx(attempt=2)
    assert run_failure_hooks(refs, last) is None
    assert "gave up after 2 attempts: maybe next time" in last.diagnostics[0]
    failing = ctx()
    assert run_failure_hooks([hook_ref(sample_hooks.buggy)], failing) is None
    assert "raised ZeroDivisionError" in failing.diagnostics[0]


def test_subclass_method_is_bound_with_spec() -> None:
    fn = load_hook("tests.unit.sample_hooks:SampleChart.pre_exec", SPEC)
    assert fn(ctx()) == {"spec_name": "from-spec"}


def test_decorators_register_in_order_with_or_without_options() -> None:
    hooks = Hooks()
    hooks.pre_exec(sample_hooks.adds_one)
    hooks.pre_exec(retries=0)(sample_hooks.refuses)
    assert hooks.refs("pre_exec") == ["tests.unit.sample_hooks:adds_one", "tests.unit.sample_hooks:refuses"]
    assert hooks.refs("post_exec") == []
    assert options_of(sample_hooks.refuses) == HookOptions(retries=0)
    with pytest.raises(ValueError, match="already registered"):
        Hooks().validate(retries=5)(sample_hooks.refuses)


def test_options_are_checked_at_registration() -> None:
    with pytest.raises(ValueError, match="Go syntax"):
        Hooks().validate(timeout="soon")
    with pytest.raises(ValueError, match="retries"):
        Hooks().validate(retries=-1)


def test_every_hook_event_of_the_step_table_has_both_styles() -> None:
    for event in HOOK_EVENTS:
        assert callable(getattr(Hooks, event)), event
        assert inspect.isfunction(getattr(LifecycleChart, event)), event


def test_temporary_error_is_not_permanent() -> None:
    assert not issubclass(TemporaryError, PermanentError)
