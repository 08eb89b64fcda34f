"""One canonical JSON form, so "did this change?" means the same thing everywhere."""
from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
