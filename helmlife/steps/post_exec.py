"""post_exec: user hooks after every new revision of the release (default: nothing)."""
from __future__ import annotations

from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    revision: int | None = None


Outputs = StepOutputs


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    return Outputs(payload=inputs.run_hooks("post_exec"))


def delete(inputs: Inputs, outputs: Outputs) -> None:
    return None
