"""Stack config beyond one chart: environment references in repository URLs, chart ordering."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helmlife.stacks import StackConfigError, expand_env, load_base, parse_stack_config

ROOT = Path(__file__).resolve().parents[2]


def repo_chart(repo: str) -> dict:
    return {"name": "r", "chart": {"repo": repo, "name": "hello-repo", "version": "0.1.0"}}


def test_expand_env_like_a_shell() -> None:
    env = {"PORT": "8883", "EMPTY": ""}
    assert expand_env("http://h:${PORT:-8879}/x", env) == "http://h:8883/x"
    assert expand_env("http://h:${NOPE:-8879}", env) == "http://h:8879"
    assert expand_env("http://h:${EMPTY:-8879}", env) == "http://h:8879"
    assert expand_env("http://h:${PORT}", env) == "http://h:8883"
    assert expand_env("http://h:$PORT", env) == "http://h:$PORT"  # only the braced form
    with pytest.raises(ValueError, match=r"\$\{NOPE\}: environment variable NOPE is not set.*\$\{NOPE:-DEFAULT\}"):
        expand_env("http://h:${NOPE}", env)


def test_repo_urls_expand_and_nothing_else_does() -> None:
    entry = {**repo_chart("http://127.0.0.1:${HELMLIFE_REPO_PORT:-8879}"),
             "values": [{"key": "greeting", "value": "${HELMLIFE_REPO_PORT}"}]}
    _, (spec,) = parse_stack_config("dev", {"charts": [entry]}, env={"HELMLIFE_REPO_PORT": "8883"})
    assert spec.chart.repo == "http://127.0.0.1:8883"
    assert spec.values[0].value == "${HELMLIFE_REPO_PORT}"
    _, (spec,) = parse_stack_config("dev", {"charts": [entry]}, env={})
    assert spec.chart.repo == "http://127.0.0.1:8879"


def test_unset_variable_names_stack_chart_and_field() -> None:
    with pytest.raises(StackConfigError) as err:
        parse_stack_config("dev", {"charts": [repo_chart("https://${MIRROR_HOST}/charts")]}, env={})
    text = str(err.value)
    assert "stack 'dev', chart 'r'" in text and "chart.repo: ${MIRROR_HOST}" in text and "not set" in text


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_follow_the_local_cluster(stack: str) -> None:
    """No context name (the kubeconfig's current one, which scripts/cluster writes) and the
    repository port from HELMLIFE_REPO_PORT: renaming the local cluster keeps every stack working."""
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert "helmlife:kube_context" not in doc
    raw = {"kubeconfig_path": doc["helmlife:kubeconfig_path"], "charts": doc["helmlife:charts"]}
    _, specs = parse_stack_config(stack, raw, load_base(ROOT), env={"HELMLIFE_REPO_PORT": "8883"})
    repos = {s.chart.repo for s in specs if hasattr(s.chart, "repo")}
    assert repos == {"http://127.0.0.1:8883"}


def chart(name: str, *deps: str, **extra) -> dict:
    return {"name": name, "chart": "charts/demo-app", "depends_on": list(deps), **extra}


def test_depends_on_orders_the_charts() -> None:
    _, specs = parse_stack_config("dev", {"charts": [chart("app", "db", "op"), chart("op"), chart("db", "op")]})
    assert [s.name for s in specs] == ["op", "db", "app"]


def test_depends_on_unknown_name_names_both_charts() -> None:
    with pytest.raises(StackConfigError) as err:
        parse_stack_config("dev", {"charts": [chart("app", "operator"), chart("op")]})
    text = str(err.value)
    assert "stack 'dev', chart 'app'" in text and "depends_on: 'operator' is not a chart of this stack" in text
    assert "(charts: app, op)" in text


def test_depends_on_cycle_names_the_charts_in_it() -> None:
    with pytest.raises(StackConfigError) as err:
        parse_stack_config("dev", {"charts": [chart("a", "b"), chart("b", "c"), chart("c", "a"), chart("d", "a")]})
    text = str(err.value)
    assert "stack 'dev': depends_on forms a cycle" in text
    assert all(f"'{n}'" in text.split("cycle")[1] for n in "abc") and "'d'" not in text.split("cycle")[1]


def test_depends_on_itself_or_on_a_destroyed_chart() -> None:
    with pytest.raises(StackConfigError, match=r"depends_on: 'a' is this chart itself"):
        parse_stack_config("dev", {"charts": [chart("a", "a")]})
    with pytest.raises(StackConfigError, match=r"chart 'app':\n  - depends_on: 'op' has action: destroy"):
        parse_stack_config("dev", {"charts": [chart("app", "op"), chart("op", action="destroy")]})
    _, specs = parse_stack_config("dev", {"charts": [chart("app", "op", action="destroy"), chart("op", action="destroy")]})
    assert len(specs) == 2


def test_depends_on_an_invalid_chart_reports_only_that_chart() -> None:
    with pytest.raises(StackConfigError) as err:
        parse_stack_config("dev", {"charts": [chart("app", "op"), chart("op", timeout="soon")]})
    assert "chart 'op'" in str(err.value) and "not a chart of this stack" not in str(err.value)
