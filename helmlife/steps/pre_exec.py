"""pre_exec: user hooks, adoption of live objects, and the breaking-version restart.

Re-runs when the chart version or the values change. The breaking-version uninstall is
decided from the version alone: a values-only change never uninstalls anything.
"""
from __future__ import annotations

from typing import Any

from .. import kube
from ..helm import Helm
from ..spec import semver_key
from ..hooks import step_logger
from .base import api, run_user_hooks, spec_of, triggered

TRIGGERS = ("chart_version", "values_digest", "hooks", "adopt", "breaking_version")


def crosses_breaking(deployed: str | None, target: str | None, breaking: str | None) -> bool:
    """True when an upgrade goes from below the breaking version to at or above it."""
    if not (deployed and target and breaking):
        return False
    return semver_key(deployed) < semver_key(breaking) <= semver_key(target)


def _run(props: dict[str, Any], version_changed: bool) -> dict[str, Any]:
    spec = spec_of(props)
    helm = Helm(props["kubeconfig"], props.get("kube_context") or None)
    deployed = helm.deployed_version(spec.name, spec.namespace)
    payload = run_user_hooks(props, "pre_exec", previous_version=deployed)
    log = step_logger(spec.name, "pre_exec")
    adopted = []
    for ref in props.get("adopt") or []:
        obj = kube.parse_ref(ref, spec.namespace)
        if spec.dry_run:
            log.info("dry run: would adopt %s", obj)
        elif kube.adopt(api(props), obj, spec.name, spec.namespace):
            adopted.append(str(obj))
            log.info("adopted %s into release %s", obj, spec.name)
    restarted = False
    target = props.get("chart_version")
    if version_changed and crosses_breaking(deployed, target, props.get("breaking_version")):
        if spec.dry_run:
            log.info("dry run: would uninstall %s (%s -> %s crosses breaking %s)", spec.name, deployed, target, props["breaking_version"])
        else:
            log.info("uninstalling %s: %s -> %s crosses breaking version %s", spec.name, deployed, target, props["breaking_version"])
            helm.uninstall(spec.name, spec.namespace, spec.timeout)
            restarted = True
    return {"payload": payload, "previous_version": deployed, "restarted": restarted, "adopted": adopted}


def create(props: dict[str, Any]) -> dict[str, Any]:
    return _run(props, version_changed=True)


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    if not triggered(olds, news, TRIGGERS):
        return {k: olds.get(k) for k in ("payload", "previous_version", "restarted", "adopted")}
    return _run(news, version_changed=olds.get("chart_version") != news.get("chart_version"))
