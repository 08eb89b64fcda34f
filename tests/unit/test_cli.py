"""What promote learns from a stack's history: the last deployment, whatever refreshes followed it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pulumi import automation as auto

from helmlife.cli import last_deployment, main, stack_status
from helmlife.promote import StackStatus
from helmlife.runner import CHECKOUT, ProjectError, find_project, pulumi_binary

CHARTS = '[{"name": "demo-app", "chart": "charts/demo-app"}]'


def entry(kind: str, result: str = "succeeded", charts: str = CHARTS) -> auto.UpdateSummary:
    return auto.UpdateSummary(kind=kind, start_time=datetime(2026, 1, 1), message="", environment={},
                              config={"helmlife:charts": {"value": charts, "secret": False}}, result=result)


class FakeStack:
    """`history` pages newest first, as `pulumi stack history --json` does."""

    def __init__(self, history: list[auto.UpdateSummary], charts: str = CHARTS) -> None:
        self._history = history
        self._config = {"helmlife:charts": auto.ConfigValue(charts)}
        self.pages_read = 0

    def history(self, page_size: int = 10, page: int = 1, **_: Any) -> list[auto.UpdateSummary]:
        self.pages_read += 1
        return self._history[(page - 1) * page_size:page * page_size]

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        return self._config


@pytest.mark.parametrize(("history", "status"), [
    ([entry("update")], StackStatus("succeeded", False)),
    ([entry("refresh"), entry("update")], StackStatus("succeeded", False)),  # `pulumi refresh` came last
    ([entry("preview"), entry("refresh", "failed"), entry("update", "failed")], StackStatus("failed", False)),
    ([entry("refresh"), entry("destroy"), entry("update")], StackStatus(None, False)),  # destroyed: nothing to promote
    ([entry("refresh")], StackStatus(None, False)),
    ([], StackStatus(None, False)),
    ([entry("refresh"), entry("update", charts="[]")], StackStatus("succeeded", True)),  # config changed since
], ids=["update", "refresh-after-update", "failed-update", "destroyed", "only-refresh", "new-stack", "pending"])
def test_stack_status_looks_past_refreshes(history: list[auto.UpdateSummary], status: StackStatus) -> None:
    assert stack_status(FakeStack(history)) == status  # type: ignore[arg-type]


def test_last_deployment_pages_through_a_long_history() -> None:
    stack = FakeStack([entry("refresh")] * 45 + [entry("update", "failed")])
    last = last_deployment(stack, page_size=20)  # type: ignore[arg-type]
    assert last is not None and last.kind == "update" and last.result == "failed"
    assert stack.pages_read == 3


def test_the_project_is_the_nearest_pulumi_yaml_upwards(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 7: the project a command acts on is the one it is run in, not helmlife's checkout."""
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    deep = tmp_path / "charts" / "web"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.setenv("HELMLIFE_ROOT", str(CHECKOUT))  # a sourced .tools/env of the checkout does not win
    assert find_project() == tmp_path.resolve()


def test_no_project_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ProjectError, match=r"no Pulumi.yaml in .* or any directory above it: .*--root"):
        find_project(tmp_path)


def test_a_root_without_pulumi_yaml_is_refused(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "dev", "--json", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"helmlife: --root {tmp_path.resolve()} holds no Pulumi.yaml"), err
    assert "Traceback" not in err


def test_missing_toolchain_is_named(tmp_path) -> None:
    with pytest.raises(ProjectError, match=rf"no pulumi CLI in {tmp_path / 'bin'}: .*scripts/bootstrap"):
        pulumi_binary(tmp_path, {})
