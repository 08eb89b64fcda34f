"""uninstall: `helm uninstall`, idempotent (an absent release is already uninstalled)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..steps.release import Inputs


def uninstall(inputs: "Inputs") -> None:
    spec = inputs.spec
    if not spec.dry_run:
        inputs.helm.uninstall(spec.name, spec.namespace, spec.timeout)
