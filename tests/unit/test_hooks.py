"""Hook references, loading, payload threading and the two error kinds."""
from __future__ import annotations

import logging

import pytest

from helmlife.hooks import HookContext, Hooks, PermanentError, TemporaryError, hook_ref, load_hook, run_hooks
from tests.unit import sample_hooks


def ctx(**kw) -> HookContext:
    return HookContext(step="pre_exec", spec=None, release="r", namespace="n", previous_version=None,
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

    with pytest.raises(ValueError, match="hooks/my_chart.py"):
        Hooks().pre_exec(local)


def test_payload_threads_through_hooks() -> None:
    c = ctx(payload={"n": 1})
    out = run_hooks([hook_ref(sample_hooks.adds_one), hook_ref(sample_hooks.adds_one)], c)
    assert out == {"n": 3}


def test_temporary_error_retries_within_bound() -> None:
    sample_hooks.FLAKY_CALLS.clear()
    out = run_hooks([hook_ref(sample_hooks.flaky_twice)], ctx())
    assert out == {"attempts": 3}


def test_temporary_error_past_bound_becomes_permanent() -> None:
    with pytest.raises(PermanentError, match="after 2 attempts"):
        run_hooks([hook_ref(sample_hooks.always_temporary)], ctx())


def test_permanent_and_plain_errors_name_the_hook() -> None:
    with pytest.raises(PermanentError, match="sample_hooks:refuses failed: no"):
        run_hooks([hook_ref(sample_hooks.refuses)], ctx())
    with pytest.raises(PermanentError, match="raised ZeroDivisionError"):
        run_hooks([hook_ref(sample_hooks.buggy)], ctx())


def test_subclass_method_is_bound_with_spec() -> None:
    fn = load_hook("tests.unit.sample_hooks:SampleChart.pre_exec", {"name": "from-spec"})
    assert fn(ctx()) == {"spec_name": "from-spec"}


def test_decorators_register_in_order() -> None:
    hooks = Hooks()
    hooks.pre_exec(sample_hooks.adds_one)
    hooks.pre_exec(sample_hooks.refuses)
    assert hooks.refs("pre_exec") == ["tests.unit.sample_hooks:adds_one", "tests.unit.sample_hooks:refuses"]
    assert hooks.refs("post_exec") == []


def test_temporary_error_is_not_permanent() -> None:
    assert not issubclass(TemporaryError, PermanentError)
