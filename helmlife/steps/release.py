"""exec: install or upgrade the release with helm, and on_deploy_failure when that fails.

On failure the step gathers what a person would look at next (the namespace's recent events
and the states of the release's pods that are not Ready) and puts it in the error that
`pulumi up` prints. With `atomic` (the default) helm has already rolled the release back, so
a failed upgrade leaves the previous revision running.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .. import charts, kube
from ..helm import Helm, HelmError
from ..hooks import PermanentError, TemporaryError, load_hook
from pulumi.dynamic import DiffResult

from .base import api, context, diff_on, has_unknowns, project_dir, spec_of, triggered

TRIGGERS = (
    "chart", "chart_version", "chart_digest", "values", "secret_values",
    "atomic", "wait", "timeout", "force_upgrade", "dry_run", "create_namespace",
)
RESULT_KEYS = ("revision", "status", "deployed_version", "app_version", "resources")


def diagnostics(props: dict[str, Any], since: datetime) -> list[str]:
    """Events since the attempt started and the release's unready pods, best effort."""
    lines: list[str] = []
    try:
        client = api(props)
        lines += [f"  event: {e}" for e in kube.recent_events(client, props["namespace"], since=since)]
        selector = f"{kube.INSTANCE_LABEL}={props['release']}"
        lines += [f"  {p}" for p in kube.pod_states(client, props["namespace"], selector)]
    except Exception as err:  # noqa: BLE001 - diagnostics must not hide the real failure
        lines.append(f"  (could not read events/pods: {err})")
    return lines


def _install(props: dict[str, Any], helm: Helm) -> dict[str, Any]:
    spec = spec_of(props)
    return helm.upgrade_install(
        spec.name,
        spec.namespace,
        charts.chart_ref(spec, project_dir(props)),
        [props.get("values") or {}, props.get("secret_values") or {}],
        atomic=spec.atomic,
        wait=spec.wait,
        timeout=spec.timeout,
        force=spec.force_upgrade,
        dry_run=spec.dry_run,
        create_namespace=spec.create_namespace,
    )


def deploy(props: dict[str, Any]) -> dict[str, Any]:
    helm = Helm(props["kubeconfig"], props.get("kube_context") or None)
    attempt = 1
    while True:
        started = datetime.now(timezone.utc).replace(microsecond=0)
        try:
            result = _install(props, helm)
            break
        except HelmError as err:
            lines = diagnostics(props, started)
            retry = on_deploy_failure(props, str(err), lines, attempt)
            if retry is None:
                detail = "\n".join(lines) or "  (no events or unready pods found)"
                raise RuntimeError(
                    f"{props['release']}: deploy failed: {err.stderr}\n"
                    f"on_deploy_failure: what the cluster shows in namespace {props['namespace']}:\n{detail}"
                ) from None
            time.sleep(retry)
            attempt += 1
    info = result.get("info", {})
    return {
        "revision": result.get("version"),
        "status": info.get("status"),
        "deployed_version": result.get("chart", {}).get("metadata", {}).get("version"),
        "app_version": result.get("chart", {}).get("metadata", {}).get("appVersion"),
        "resources": [str(r) for r in kube.manifest_objects(result.get("manifest", ""), props["namespace"])],
    }


def on_deploy_failure(props: dict[str, Any], error: str, lines: list[str], attempt: int) -> float | None:
    """Run user on_deploy_failure hooks; a TemporaryError within its bound asks for a retry
    (returns the delay). Lines a hook appends to ctx.diagnostics join the error output."""
    refs = props.get("failure_hooks") or []
    if not refs:
        return None
    ctx = context(props, "on_deploy_failure", failure=error)
    ctx.attempt = attempt
    ctx.diagnostics = lines
    for ref in refs:
        try:
            load_hook(ref, ctx.spec)(ctx)
        except TemporaryError as err:
            if attempt < err.max_attempts:
                ctx.log.info("hook %s asked to retry the deploy in %.0fs (attempt %d/%d): %s",
                             ref, err.delay, attempt, err.max_attempts, err)
                return err.delay
            lines.append(f"  hook {ref}: gave up after {attempt} attempts: {err}")
        except PermanentError as err:
            lines.append(f"  hook {ref}: {err}")
        except Exception as err:  # noqa: BLE001
            lines.append(f"  hook {ref} raised {type(err).__name__}: {err}")
    return None


def missing_from_cluster(props: dict[str, Any]) -> bool:
    """True when state says deployed but the cluster has no such release (deleted by hand,
    or a new cluster behind the same kubeconfig): the next `up` installs it again."""
    if props.get("dry_run") or props.get("skipped") or props.get("action") != "deploy":
        return False
    if has_unknowns(props, ("kubeconfig",)):
        return False
    try:
        helm = Helm(props["kubeconfig"], props.get("kube_context") or None)
        return helm.deployed_version(props["release"], props["namespace"]) is None
    except Exception:  # noqa: BLE001 - an unreachable cluster is reported by check_prerequisites
        return False


def diff(olds: dict[str, Any], news: dict[str, Any]):
    result = diff_on(olds, news, TRIGGERS)
    if not result.changes and news.get("action") != "skip" and missing_from_cluster({**olds, **news}):
        return DiffResult(changes=True, replaces=[], delete_before_replace=False)
    return result


def create(props: dict[str, Any]) -> dict[str, Any]:
    return deploy(props)


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    if not triggered(olds, news, TRIGGERS) and not missing_from_cluster(news):
        return {k: olds.get(k) for k in RESULT_KEYS}
    return deploy(news)


def delete(props: dict[str, Any]) -> None:
    spec = spec_of(props)
    if spec.dry_run:
        return
    Helm(props["kubeconfig"], props.get("kube_context") or None).uninstall(spec.name, spec.namespace, spec.timeout)
