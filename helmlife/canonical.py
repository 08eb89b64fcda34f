"""One canonical JSON form, so "did this change?" means the same thing everywhere."""
from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def whole_numbers(value: Any) -> Any:
    """Whole-number floats as integers, nested values included. Pulumi carries every number as a
    double (replicaCount 1 arrives, and comes back from state, as 1.0); Helm, like JSON, writes a
    whole number without the fraction, and so must what helmlife compares and shows."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value
