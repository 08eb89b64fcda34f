"""remediate: which stuck releases are rolled back, which are reinstalled, which are left alone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from helmlife.actions import remediate as mod
from helmlife.releases import Revision
from helmlife.spec import ChartSpec

OLD = datetime.now(timezone.utc) - timedelta(hours=1)  # long past any helm's --timeout


class FakeHelm:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def run(self, *args: str) -> str:
        self.calls.append(args)
        return ""

    def uninstall(self, name: str, namespace: str, timeout: str) -> bool:
        self.calls.append(("uninstall", name, namespace, timeout))
        return True


def inputs(**spec: Any) -> SimpleNamespace:
    s = ChartSpec.model_validate({"name": "app", "chart": "charts/demo-app", "namespace": "ns", "timeout": "30s", **spec})
    return SimpleNamespace(spec=s, release="app", namespace="ns", api=None, helm=FakeHelm())


@pytest.fixture
def history(monkeypatch: pytest.MonkeyPatch) -> list[list[Revision]]:
    """Successive answers of releases.revisions (the last one repeats)."""
    answers: list[list[Revision]] = []
    monkeypatch.setattr(mod.releases, "revisions", lambda *_: answers.pop(0) if len(answers) > 1 else answers[0])
    monkeypatch.setattr(mod.time, "sleep", lambda _s: None)
    return answers


def test_a_healthy_or_absent_release_is_left_alone(history: list[list[Revision]]) -> None:
    for revs in ([], [Revision(1, "deployed", OLD)], [Revision(1, "superseded", OLD), Revision(2, "failed", OLD)]):
        history[:] = [revs]
        i = inputs()
        assert mod.remediate(i) is None and i.helm.calls == []


def test_a_stuck_upgrade_is_rolled_back_to_the_deployed_revision(history: list[list[Revision]]) -> None:
    history.append([Revision(1, "superseded", OLD), Revision(2, "deployed", OLD), Revision(3, "pending-upgrade", OLD)])
    i = inputs()
    assert mod.remediate(i) == "rolled back to revision 2"
    assert i.helm.calls == [("rollback", "app", "2", "-n", "ns", "--timeout", "30s")]


@pytest.mark.parametrize("status", ["pending-install", "uninstalling"])
def test_a_stuck_install_is_uninstalled(history: list[list[Revision]], status: str) -> None:
    history.append([Revision(1, status, OLD)])
    i = inputs()
    assert mod.remediate(i) == "uninstalled"
    assert i.helm.calls == [("uninstall", "app", "ns", "30s")]


def test_a_young_pending_revision_is_waited_for_and_left_alone_once_it_settles(history: list[list[Revision]]) -> None:
    now = datetime.now(timezone.utc)  # young when the test runs, however late in the suite
    history += [[Revision(1, "pending-install", now)], [Revision(1, "pending-install", now)], [Revision(1, "deployed", now)]]
    i = inputs()
    assert mod.remediate(i) is None and i.helm.calls == []


def test_dry_run_touches_nothing(history: list[list[Revision]]) -> None:
    history.append([Revision(1, "pending-install", OLD)])
    i = inputs(dry_run=True)
    assert mod.remediate(i) is None and i.helm.calls == []
