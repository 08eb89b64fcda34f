"""validate: after the Release, Qovery's `post_exec` then `validate`. The release is only done
when it works.

Runs after every helm install or upgrade (a new revision, or a new reinstall_key when a
breaking-version reinstall starts again at revision 1): post_exec hooks first, then the
built-in checks (every Deployment/StatefulSet/DaemonSet of the release Ready within the timeout,
and HTTP checks: a URL, or a Service through the API server proxy), then validate hooks. A
failure fails `pulumi up` naming the check and what it saw; the release is left exactly as helm
deployed it, and the next `pulumi up` validates again.

Its delete is the first thing a destroy (or removing the chart) does: it refuses, before
anything is removed, while the CRDs the uninstall and pre_exec's delete are about to remove still hold
custom resources (unless `force_crd_deletion`).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import urllib3


from .. import helm_yaml, kube, releases
from ..actions.uninstall import crds_at_risk, kept_crds, kept_notice, refusal
from ..hooks import step_logger
from ..k8s import client as k8s
from ..spec import HttpCheck, parse_duration
from .contract import ReleasedInputs, StepOutputs

REASON_CHARS = 300  # enough for a proxy's or an app's one-line reason, not a whole error page


class Inputs(ReleasedInputs):
    reinstall_key: int = 0
    owned_crds: list[str] | None = None  # pre_exec's, checked before anything is removed


class Outputs(StepOutputs):
    checks_passed: list[str] = []


class ValidationFailed(RuntimeError):
    pass


def reason(body: bytes | str | None) -> str:
    """The why of an answer, for the error: a Kubernetes `Status` message (what the API server
    proxy says when it refuses or cannot reach the Service), or the start of the body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status" and doc.get("message"):
        text = str(doc["message"])
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS] + "..."


def _answered(what: str, status: int, body: bytes | str | None, check: HttpCheck) -> tuple[bool, str]:
    seen = f"{what} answered {status}, expected {check.expect_status}"
    why = reason(body) if status != check.expect_status else ""
    return status == check.expect_status, f"{seen}: {why}" if why else seen


def http_probe(api: k8s.ApiClient | None, namespace: str, check: HttpCheck) -> tuple[bool, str]:
    timeout = parse_duration(check.timeout)
    if check.url:
        url = check.url.rstrip("/") + (check.path if check.path != "/" else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - user-configured check
                return _answered(f"GET {url}", resp.status, resp.read(REASON_CHARS * 4), check)
        except urllib.error.HTTPError as err:
            return _answered(f"GET {url}", err.code, err.read(REASON_CHARS * 4), check)
        except (urllib.error.URLError, OSError) as err:
            return False, f"GET {url}: {getattr(err, 'reason', err)}"
    target = f"{check.service}:{check.port}" if check.port is not None else check.service
    what = f"GET service/{target}{check.path} via the API server proxy"
    core, path = k8s.CoreV1Api(api), check.path.lstrip("/")
    options = {"_preload_content": False, "_request_timeout": timeout}
    try:
        if path:
            resp, status, _ = core.connect_get_namespaced_service_proxy_with_path_with_http_info(
                target, namespace, path, **options)
        else:
            resp, status, _ = core.connect_get_namespaced_service_proxy_with_http_info(target, namespace, **options)
    except k8s.exceptions.ApiException as err:
        return _answered(what, err.status, err.body, check)
    except (urllib3.exceptions.HTTPError, OSError) as err:
        return False, f"{what}: no answer within {check.timeout}: {err}"
    return _answered(what, status, resp.data if resp is not None else None, check)


def not_ready(inputs: Inputs, unready: dict[str, str]) -> list[str]:
    """Each workload that never became ready, followed by its pods that are not Ready."""
    try:
        listed = {str(w.ref): w for w in kube.release_workloads(inputs.api, inputs.namespace, inputs.release)}
    except Exception as err:  # noqa: BLE001 - the check's own finding must not be hidden
        return [f"{ref}: {seen}" for ref, seen in unready.items()] + [f"(could not read their pods: {err})"]
    lines = []
    for ref, seen in unready.items():
        lines.append(f"{ref}: {seen}")
        if ref in listed:
            lines += [f"  {pod}" for pod in kube.unready_pods(inputs.api, listed[ref])]
    return lines


def check(inputs: Inputs) -> list[str]:
    return []


def run(inputs: Inputs) -> Outputs:
    spec = inputs.spec
    if spec.dry_run:
        return Outputs(payload=inputs.payload)
    payload = inputs.run_hooks("post_exec")
    inputs = inputs.model_copy(update={"payload": payload})
    passed: list[str] = []
    if spec.validate_workloads:
        refs = [w.ref for w in kube.release_workloads(inputs.api, inputs.namespace, inputs.release)]
        unready = kube.wait_ready(inputs.api, refs, timeout=spec.timeout_seconds)
        if unready:
            raise ValidationFailed(f"{spec.name}: validate check 'workloads-ready' failed after {spec.timeout}:\n"
                                   + "\n".join(f"  {line}" for line in not_ready(inputs, unready)))
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
    spec = inputs.spec
    if spec.dry_run:
        return
    if not spec.force_crd_deletion and (left := crds_at_risk(inputs.api, spec.name, spec.namespace,
                                                               inputs.owned_crds or ())):
        raise RuntimeError(refusal(spec.name, left) + " Nothing was uninstalled or deleted.")
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    if record is not None:
        releases.note_before_uninstall(inputs.kubeconfig, inputs.kube_context, record)  # for teardown
    if record is not None and record.live and (kept := kept_crds(helm_yaml.load_all(record.manifest))):
        step_logger(spec.name, "validate").warning("%s", kept_notice(inputs.api, spec.name, kept, done=False))
