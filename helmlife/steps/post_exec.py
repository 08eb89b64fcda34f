"""post_exec: user hooks after every helm install or upgrade of the release (default: nothing).

It runs again whenever the release step deployed: a new revision, or a new `last_deployed`
when a breaking-version reinstall starts the revisions again at 1.
"""
from __future__ import annotations

from .contract import ReleasedInputs, StepOutputs


class Inputs(ReleasedInputs):
    pass


Outputs = StepOutputs


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    return Outputs(payload=inputs.run_hooks("post_exec"))


def delete(inputs: Inputs, outputs: Outputs) -> None:
    return None
