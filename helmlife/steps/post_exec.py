"""post_exec: user hooks after every new revision of the release (default: nothing)."""
from __future__ import annotations

from typing import Any

from .base import run_user_hooks, triggered

TRIGGERS = ("revision", "hooks")


def create(props: dict[str, Any]) -> dict[str, Any]:
    return {"payload": run_user_hooks(props, "post_exec")}


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    if not triggered(olds, news, TRIGGERS):
        return {"payload": olds.get("payload")}
    return create(news)
