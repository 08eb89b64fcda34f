"""validate: the release is only done when it works.

Built-in checks: every Deployment/StatefulSet/DaemonSet of the release Ready within the
timeout, and HTTP checks (a URL, or a Service through the API server proxy). User hooks
come last. A failure fails `pulumi up` naming the check and what it saw; the release itself
is left exactly as helm deployed it, and the next `pulumi up` validates again.
"""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from kubernetes import client as k8s

from .. import kube
from ..spec import HttpCheck, parse_duration
from .base import api, run_user_hooks, spec_of, triggered

TRIGGERS = ("revision", "checks", "hooks")


class ValidationFailed(RuntimeError):
    pass


def http_probe(props: dict[str, Any], check: HttpCheck) -> tuple[bool, str]:
    timeout = parse_duration(check.timeout)
    if check.url:
        url = check.url.rstrip("/") + (check.path if check.path != "/" else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - user-configured check
                status = resp.status
        except urllib.error.HTTPError as err:
            status = err.code
        except (urllib.error.URLError, OSError) as err:
            return False, f"GET {url}: {getattr(err, 'reason', err)}"
        return status == check.expect_status, f"GET {url} answered {status}, expected {check.expect_status}"
    target = f"{check.service}:{check.port}" if check.port is not None else check.service
    core = k8s.CoreV1Api(api(props))
    try:
        _, status, _ = core.connect_get_namespaced_service_proxy_with_path_with_http_info(
            target, props["namespace"], check.path.lstrip("/") or "", _preload_content=False, _request_timeout=timeout
        )
    except k8s.exceptions.ApiException as err:
        status = err.status
    return status == check.expect_status, (
        f"GET service/{target}{check.path} via the API server answered {status}, expected {check.expect_status}"
    )


def run_checks(props: dict[str, Any]) -> dict[str, Any]:
    spec = spec_of(props)
    if spec.dry_run:
        return {"payload": props.get("payload") or {}, "checks_passed": []}
    passed: list[str] = []
    if spec.validate_workloads:
        refs = [kube.parse_ref(r, props["namespace"]) for r in props.get("resources") or []]
        unready = kube.wait_ready(api(props), refs, timeout=spec.timeout_seconds)
        if unready:
            seen = "; ".join(f"{k}: {v}" for k, v in unready.items())
            raise ValidationFailed(f"{spec.name}: validate check 'workloads-ready' failed after {spec.timeout}: {seen}")
        passed.append("workloads-ready")
    for check in spec.http_checks:
        deadline = time.monotonic() + spec.timeout_seconds
        while True:
            ok, seen = http_probe(props, check)
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(1)
        if not ok:
            raise ValidationFailed(f"{spec.name}: validate check {check.name!r} failed: {seen}")
        passed.append(check.name)
    payload = run_user_hooks(props, "validate")
    return {"payload": payload, "checks_passed": passed + [f"hook:{h}" for h in props.get("hooks") or []]}


def create(props: dict[str, Any]) -> dict[str, Any]:
    return run_checks(props)


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    if not triggered(olds, news, TRIGGERS):
        return {"payload": olds.get("payload"), "checks_passed": olds.get("checks_passed")}
    return run_checks(news)
