"""The engine hands every number over as a double; the models hold whole numbers as Helm writes
them. Comparing one with the other must not find a change (it made every preview render every
chart again: bench/results.json, helm CPU in B's no-change preview)."""
from __future__ import annotations

from helmlife.steps.contract import changed_paths


def test_a_double_from_the_engine_equals_the_models_whole_number() -> None:
    old = {"values": {"replicaCount": 2.0, "image": {"tag": "1.0"}}}
    new = {"values": {"replicaCount": 2, "image": {"tag": "1.0"}}}
    assert changed_paths(old, new, ("values",)) == []
    assert changed_paths(old, {"values": {"replicaCount": 3, "image": {"tag": "1.0"}}}, ("values",)) == ["values"]
    assert changed_paths({"values": {"ratio": 0.5}}, {"values": {"ratio": 0.5}}, ("values",)) == []
