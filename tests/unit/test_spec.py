"""ChartSpec validation: every bad input names the field, the value and the fix."""
from __future__ import annotations

import pytest

from helmlife.spec import ChartSpec, LocalChart, RepoChart, SpecError, parse_duration, parse_spec, semver_key

BASE = {"name": "demo", "chart": "charts/demo-app"}


def test_defaults_match_chartinfo() -> None:
    spec = parse_spec(BASE)
    assert spec.namespace == "default"
    assert spec.action.value == "deploy"
    assert spec.atomic is True and spec.wait is True
    assert spec.force_upgrade is False and spec.dry_run is False
    assert spec.timeout == "180s" and spec.timeout_seconds == 180
    assert spec.last_breaking_version_requiring_restart is None
    assert spec.values == [] and spec.values_files == [] and spec.yaml_files_content == []
    assert spec.crds is None
    assert isinstance(spec.chart, LocalChart)


def test_repo_chart() -> None:
    spec = parse_spec({**BASE, "chart": {"repo": "http://127.0.0.1:8879/", "name": "hello-repo", "version": "0.2.0"}})
    assert isinstance(spec.chart, RepoChart)
    assert spec.chart.repo == "http://127.0.0.1:8879"


def test_frozen() -> None:
    spec = parse_spec(BASE)
    with pytest.raises(Exception):
        spec.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("patch", "field", "hint"),
    [
        ({"name": "Demo_App"}, "name", "lowercase"),
        ({"name": "x" * 54}, "name", "53"),
        ({"namespace": "Bad Namespace"}, "namespace", "namespace"),
        ({"action": "nuke"}, "action", "'deploy', 'destroy' or 'skip'"),
        ({"timeout": "forever"}, "timeout", "Go syntax"),
        ({"timeout": "0s"}, "timeout", "longer than zero"),
        ({"last_breaking_version_requiring_restart": "two"}, "last_breaking_version_requiring_restart", "semver"),
        ({"values": [{"key": "a..b", "value": 1}]}, "values.0.key", "dotted key"),
        ({"values": [{"key": "a", "value": 1, "secret_config": "k"}]}, "values.0", "not both"),
        ({"chart": {"repo": "ftp://x", "name": "c", "version": "1.0.0"}}, "chart.repo", "http"),
        ({"chart": {"repo": "http://x", "name": "c", "version": "^1.0"}}, "chart.version", "exact semver"),
        ({"chart": ""}, "chart", "chart directory"),
        ({"crds": ["widgets"]}, "crds", "<plural>.<group>"),
        ({"adopt": ["justaname"]}, "adopt", "Kind/name"),
        ({"valuez": {}}, "valuez", "unknown field"),
        ({"http_checks": [{"name": "h"}]}, "http_checks.0", "exactly one of url or service"),
        ({"delete_namespace": "if_created_and_empty"}, "delete_namespace", "needs create_namespace: true"),
        ({"delete_namespace": "always"}, "delete_namespace", "'never' or 'if_created_and_empty'"),
    ],
)
def test_bad_specs_name_field_and_fix(patch: dict, field: str, hint: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec({**BASE, **patch})
    text = str(err.value)
    assert f"- {field}:" in text, text
    assert hint in text, text


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec({**BASE, "timeout": "x", "namespace": "B", "atomic": "maybe"})
    text = str(err.value)
    for field in ("timeout", "namespace", "atomic"):
        assert f"- {field}:" in text


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("42", 42)])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_semver_order() -> None:
    assert semver_key("1.9.0") < semver_key("2.0.0-rc.1") < semver_key("2.0.0") < semver_key("10.0.0")


def test_secret_config_marks_secret() -> None:
    spec = ChartSpec.model_validate({**BASE, "values": [{"key": "auth.token", "secret_config": "demoToken"}]})
    assert spec.values[0].secret is True
    assert spec.has_secret_values


def test_stack_config_names_stack_chart_field() -> None:
    from helmlife.stacks import StackConfigError, parse_stack_config

    with pytest.raises(StackConfigError) as err:
        parse_stack_config("staging", {"charts": [{"name": "ok", "chart": "c"}, {"name": "web", "chart": "c", "timeout": "x"}]})
    assert "stack 'staging', chart 'web'" in str(err.value) and "- timeout:" in str(err.value)


def test_stack_config_refuses_plaintext_secrets() -> None:
    from helmlife.stacks import StackConfigError, parse_stack_config

    with pytest.raises(StackConfigError, match=r"values.0: a value marked secret.*secret_config: KEY"):
        parse_stack_config("dev", {"charts": [{"name": "a", "chart": "c",
                                               "values": [{"key": "pw", "value": "x", "secret": True}]}]})


def test_stack_config_duplicate_names() -> None:
    from helmlife.stacks import StackConfigError, parse_stack_config

    with pytest.raises(StackConfigError, match="repeated: a"):
        parse_stack_config("dev", {"charts": [{"name": "a", "chart": "c"}, {"name": "a", "chart": "d"}]})


def test_base_file_defaults_under_stack_entries(tmp_path) -> None:
    from helmlife.stacks import load_base, parse_stack_config

    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "base.yaml").write_text(
        "charts:\n  web:\n    chart: charts/web\n    timeout: 60s\n    chart_extra: null\n"
        "  repo:\n    chart: {repo: 'http://x', name: r, version: 1.0.0}\n")
    base = load_base(tmp_path)
    base["web"].pop("chart_extra")
    _, specs = parse_stack_config("dev", {"charts": [
        {"name": "web", "namespace": "dev"},
        {"name": "repo", "chart": {"version": "1.1.0"}},
    ]}, base)
    web, repo = specs
    assert web.chart.path == "charts/web" and web.timeout == "60s" and web.namespace == "dev"
    assert repo.chart.version == "1.1.0" and repo.chart.name == "r"
