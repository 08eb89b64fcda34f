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


from .. import kube
from ..k8s import client as k8s
from ..spec import HttpCheck, parse_duration
from .contract import StepInputs, StepOutputs


class Inputs(StepInputs):
    revision: int | None = None
    resources: list[str] = []


class Outputs(StepOutputs):
    checks_passed: list[str] = []


class ValidationFailed(RuntimeError):
    pass


def http_probe(api: k8s.ApiClient | None, namespace: str, check: HttpCheck) -> tuple[bool, str]:
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
    try:
        _, status, _ = k8s.CoreV1Api(api).connect_get_namespaced_service_proxy_with_path_with_http_info(
            target, namespace, check.path.lstrip("/") or "", _preload_content=False, _request_timeout=timeout
        )
    except k8s.exceptions.ApiException as err:
        status = err.status
    return status == check.expect_status, (
        f"GET service/{target}{check.path} via the API server answered {status}, expected {check.expect_status}"
    )


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    spec = inputs.spec
    if spec.dry_run:
        return Outputs(payload=inputs.payload)
    passed: list[str] = []
    if spec.validate_workloads:
        refs = [kube.parse_ref(r, inputs.namespace) for r in inputs.resources]
        unready = kube.wait_ready(inputs.api, refs, timeout=spec.timeout_seconds)
        if unready:
            seen = "; ".join(f"{k}: {v}" for k, v in unready.items())
            raise ValidationFailed(f"{spec.name}: validate check 'workloads-ready' failed after {spec.timeout}: {seen}")
        passed.append("workloads-ready")
    for http in spec.http_checks:
        deadline = time.monotonic() + spec.timeout_seconds
        while True:
            ok, seen = http_probe(inputs.api if http.service else None, inputs.namespace, http)
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(1)
        if not ok:
            raise ValidationFailed(f"{spec.name}: validate check {http.name!r} failed: {seen}")
        passed.append(http.name)
    payload = inputs.run_hooks("validate")
    hooks = inputs.hooks.get("validate") or []
    return Outputs(payload=payload, checks_passed=passed + [f"hook:{h}" for h in hooks])


def delete(inputs: Inputs, outputs: Outputs) -> None:
    return None
