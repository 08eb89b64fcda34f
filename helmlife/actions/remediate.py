"""remediate: put a release that a dead helm left pending back on its feet, before helm runs.

While helm works on a release it marks the newest revision `pending-install`,
`pending-upgrade` or `pending-rollback`, and refuses every other operation on it ("another
operation (install/upgrade/rollback) is in progress") until the status changes. When the
process running helm dies (a SIGKILLed `pulumi up`, a lost CI runner, an API server that went
away so `atomic` could not clean up), nothing ever changes it, and without this every later
`pulumi up` fails the same way. As Flux's helm-controller does (unlock, then remediate), the
pre_exec step calls `remediate` before the Release runs helm:

- no deployed revision (a first install that never finished): uninstall, so the install that
  follows starts clean; nothing that ever worked is lost;
- a deployed revision (an upgrade or rollback that never finished): roll back to it, so the
  upgrade that follows starts from what was running and `atomic` has a revision to return to.

Only a revision that no helm can still be working on is touched. Pulumi runs each plugin in a
process group of its own, so a killed CLI can leave the provider and its helm running; helm
gives up after `--timeout`, and `atomic` cleans up within another `--timeout`. A pending
revision younger than that (judged with this spec's timeout) is waited for, and if it settles
by itself (deployed, failed, gone) there is nothing to do.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .. import releases
from ..hooks import step_logger
from ..release_state import IN_PROGRESS

if TYPE_CHECKING:
    from ..steps.contract import StepInputs as Inputs

GRACE_SECONDS = 10.0  # slack for clocks and for helm writing its final status
POLL_SECONDS = 2.0


def stuck_revision(inputs: "Inputs") -> releases.Revision | None:
    """The newest revision if an operation holds it and no helm can still be running it.

    Waits (bounded by twice the spec's timeout from when the operation started) while a live
    helm might still finish or clean up; None when there is nothing to remediate.
    """
    spec, log = inputs.spec, step_logger(inputs.release, "pre_exec")
    patience = 2 * spec.timeout_seconds + GRACE_SECONDS
    said = False
    while True:
        history = releases.revisions(inputs.api, inputs.release, inputs.namespace)
        newest = history[-1] if history else None
        if newest is None or newest.status not in IN_PROGRESS:
            if said:
                log.info("revision settled by itself (%s)", newest.status if newest else "uninstalled")
            return None
        age = (datetime.now(timezone.utc) - newest.created).total_seconds()
        if age >= patience:
            return newest
        if not said:
            log.info("revision %d is %s since %.0fs ago; waiting up to %.0fs for the helm that started it "
                     "to finish or give up", newest.revision, newest.status, age, patience - age)
            said = True
        time.sleep(min(POLL_SECONDS, patience - age))


def remediate(inputs: "Inputs") -> str | None:
    """Unstick the release if a dead helm left it pending; returns what was done, or None."""
    spec = inputs.spec
    if spec.dry_run:
        return None
    stuck = stuck_revision(inputs)
    if stuck is None:
        return None
    log = step_logger(inputs.release, "pre_exec")
    deployed = [r.revision for r in releases.revisions(inputs.api, inputs.release, inputs.namespace)
                if r.status == "deployed"]
    what = f"revision {stuck.revision} was left {stuck.status} by a helm that is no longer running"
    if deployed:
        log.info("%s: rolling back to deployed revision %d before the upgrade", what, deployed[-1])
        inputs.helm.run("rollback", spec.name, str(deployed[-1]), "-n", spec.namespace, "--timeout", spec.timeout)
        return f"rolled back to revision {deployed[-1]}"
    log.info("%s and nothing was ever deployed: uninstalling before installing again", what)
    inputs.helm.uninstall(spec.name, spec.namespace, spec.timeout)
    return "uninstalled"
