"""The one decision on a release's state: expected actions are the issue's rules (install,
upgrade, reinstall only when the version crosses the breaking version, recover first)."""
from __future__ import annotations

import pytest

from helmlife.release_state import Action, ReleaseState, decide
from helmlife.releases import ReleaseRecord


def record(version: str | None, status: str = "deployed") -> ReleaseRecord:
    return ReleaseRecord(name="web", namespace="ns", revision=3, status=status, chart_version=version,
                         app_version=None, manifest="", config={})


@pytest.mark.parametrize(("helm", "target", "breaking", "changed", "action", "words"), [
    (None, "1.0.0", None, 0, Action.install, "install 1.0.0"),
    (record("1.0.0", "uninstalled"), "1.0.0", None, 0, Action.install, "install 1.0.0"),
    (record("1.0.0"), "1.0.0", None, 0, Action.noop, "deployed 1.0.0"),
    (record("1.0.0"), "1.0.0", None, 2, Action.upgrade, "upgrade 1.0.0 (same chart version)"),
    (record("1.0.0"), "1.1.0", "2.0.0", 0, Action.upgrade, "upgrade 1.0.0 → 1.1.0"),
    (record("1.1.0"), "1.0.0", None, 0, Action.upgrade, "downgrade 1.1.0 → 1.0.0"),
    (record("1.0.0"), "2.0.0", "2.0.0", 0, Action.reinstall, "uninstall and reinstall: 1.0.0 → 2.0.0 crosses 2.0.0"),
    (record("2.0.0"), "2.1.0", "2.0.0", 0, Action.upgrade, "upgrade 2.0.0 → 2.1.0"),
    (record("1.0.0", "pending-upgrade"), "1.1.0", None, 0, Action.upgrade,
     "recover from pending-upgrade, then upgrade 1.0.0 → 1.1.0"),
])
def test_decide(helm, target, breaking, changed, action, words) -> None:
    decision = decide(ReleaseState(helm, target, breaking, changed))
    assert (decision.action, decision.words) == (action, words)


def test_a_stuck_release_is_remediated_even_without_a_change() -> None:
    decision = decide(ReleaseState(record("1.0.0", "pending-rollback"), "1.0.0", None, 0))
    assert decision.action is Action.upgrade and decision.remediate == "pending-rollback"


def test_values_changed_without_object_changes_is_an_upgrade() -> None:
    assert decide(ReleaseState(record("1.0.0"), "1.0.0", None, 0, inputs_changed=True)).action is Action.upgrade


def test_skip_leaves_the_release() -> None:
    assert decide(ReleaseState(record("1.0.0"), "2.0.0", "2.0.0", 3, skipped=True)).action is Action.skip


def test_the_version_before_the_uninstall_is_told_once_for_its_cluster_and_release() -> None:
    """validate's delete notes what Helm had; pre_exec's delete (teardown) reads it after the uninstall."""
    from helmlife import releases

    releases.note_before_uninstall("config-a", "ctx", record("1.0.0"))
    releases.note_before_uninstall("config-a", "ctx", record("9.9.9", "uninstalled"))  # nothing to tear down
    assert releases.version_before_uninstall("config-b", "ctx", "web", "ns") is None  # another cluster
    assert releases.version_before_uninstall("config-a", None, "web", "ns") is None  # another context
    assert releases.version_before_uninstall("config-a", "ctx", "web", "other") is None
    assert releases.version_before_uninstall("config-a", "ctx", "web", "ns") == "1.0.0"
    assert releases.version_before_uninstall("config-a", "ctx", "web", "ns") is None  # once
