"""One release state and one decision, as Flux's helm-controller does: first determine what the
release is (Helm's newest record, what the stack recorded, what the chart renders now), then
pick the one action for that state. The pre_exec step's check (every preview), its run (before
the Release), preview-summary (through the recorded `plan`) and the docs all read `decide`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from . import releases
from .spec import crosses_breaking, semver_key

# Helm's statuses while an operation holds the release; `uninstalling` too: a killed uninstall
# (or atomic's clean-up after a failed install) stops there.
IN_PROGRESS = (*releases.PENDING, "uninstalling")


class Action(str, Enum):
    """What `pulumi up` does to the release."""

    install = "install"
    upgrade = "upgrade"
    reinstall = "reinstall"  # uninstall, then install: the Release is replaced
    noop = "no change"
    skip = "skip"  # action: skip or dry_run: the Release is left exactly as it is


@dataclass(frozen=True)
class ReleaseState:
    """Everything the decision needs, read once per step operation."""

    helm: releases.ReleaseRecord | None  # Helm's newest record of the release
    target_version: str | None  # the chart version the stack declares
    breaking: str | None  # last_breaking_version_requiring_restart
    changed_objects: int  # objects the cluster gets differently (rendered vs recorded), drift included
    inputs_changed: bool = False  # values or chart content differ from what the stack last deployed
    skipped: bool = False

    @property
    def deployed_version(self) -> str | None:
        return self.helm.chart_version if self.helm and self.helm.live else None

    @property
    def stuck(self) -> str | None:
        """The status a dead helm left the newest revision in, if any (remediated before the Release)."""
        return self.helm.status if self.helm and self.helm.status in IN_PROGRESS else None


@dataclass(frozen=True)
class Decision:
    action: Action
    words: str  # the plan as preview shows it
    remediate: str | None = None  # recover from this status first


def decide(state: ReleaseState) -> Decision:
    deployed, target, breaking = state.deployed_version, state.target_version, state.breaking
    stuck = state.stuck
    first = f"recover from {stuck}, then " if stuck else ""
    if state.skipped:
        return Decision(Action.skip, f"leave {deployed or 'nothing'} as it is (skip)")
    if deployed is None:
        return Decision(Action.install, f"{first}install {target}", stuck)
    if crosses_breaking(deployed, target, breaking):
        return Decision(Action.reinstall, f"{first}uninstall and reinstall: {deployed} → {target} crosses {breaking}",
                        stuck)
    if deployed == target or not target:
        if not (state.changed_objects or state.inputs_changed or stuck):
            return Decision(Action.noop, f"deployed {deployed}")
        return Decision(Action.upgrade, f"{first}upgrade {deployed} (same chart version)", stuck)
    try:
        verb = "downgrade" if semver_key(target) < semver_key(deployed) else "upgrade"
    except ValueError:
        verb = "upgrade"
    return Decision(Action.upgrade, f"{first}{verb} {deployed} → {target}", stuck)


def settled(version: str | None) -> str:
    """The plan recorded once `up` has done it: what preview compares the next plan against."""
    return f"deployed {version}" if version else "deployed"
