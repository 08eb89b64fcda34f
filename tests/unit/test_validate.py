"""The validate step, without a cluster: its HTTP checks (URL checks against a loopback server,
and the Service check's call through the API server proxy), the order it runs post_exec hooks,
checks and validate hooks in after the Release, and its delete's refusal while CRDs about to go
hold custom resources."""
from __future__ import annotations

import http.server
import threading
from typing import Any, Iterator

import pytest

from helmlife.spec import HttpCheck, parse_spec
from helmlife.steps import validate


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200 if self.path == "/ok" else 500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_url_check(server: str) -> None:
    ok, seen = validate.http_probe(None, "web", HttpCheck(url=server, path="/ok"))
    assert ok and "answered 200" in seen
    ok, seen = validate.http_probe(None, "web", HttpCheck(url=server, path="/broken"))
    assert not ok and "answered 500, expected 200" in seen


def test_url_check_connection_refused() -> None:
    ok, seen = validate.http_probe(None, "web", HttpCheck(url="http://127.0.0.1:9", timeout="1s"))
    assert not ok and "GET http://127.0.0.1:9" in seen


def test_service_check_goes_through_the_api_server_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    class FakeCore:
        def __init__(self, api: Any) -> None:
            pass

        def connect_get_namespaced_service_proxy_with_path_with_http_info(self, name, namespace, path, **kw):
            calls.append((name, namespace, path))
            return None, 204, {}

    monkeypatch.setattr(validate.k8s, "CoreV1Api", FakeCore)
    ok, seen = validate.http_probe(None, "web", HttpCheck(service="front", port="http", path="/healthz",
                                                                   expect_status=204))
    assert ok, seen
    assert calls == [("front:http", "web", "healthz")]


def fake_proxy(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    class FakeCore:
        def __init__(self, api: Any) -> None:
            pass

        def connect_get_namespaced_service_proxy_with_path_with_http_info(self, *args: Any, **kw: Any) -> Any:
            raise error

        connect_get_namespaced_service_proxy_with_http_info = connect_get_namespaced_service_proxy_with_path_with_http_info

    monkeypatch.setattr(validate.k8s, "CoreV1Api", FakeCore)


def api_error(status: int, body: bytes) -> Exception:
    err = validate.k8s.exceptions.ApiException(status=status, reason="Forbidden")
    err.body = body
    return err


def test_service_check_shows_why_the_proxy_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_proxy(monkeypatch, api_error(403, b"resolve_deny: denied destination\n"))
    ok, seen = validate.http_probe(None, "web", HttpCheck(service="front", port="http", path="/healthz"))
    assert not ok
    assert seen == ("GET service/front:http/healthz via the API server proxy answered 403, expected 200: "
                    "resolve_deny: denied destination")


def test_service_check_shows_the_status_message_of_the_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    status = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for '
              b'service \\"front\\"","reason":"ServiceUnavailable","code":503}')
    fake_proxy(monkeypatch, api_error(503, status))
    ok, seen = validate.http_probe(None, "web", HttpCheck(service="front", port=80))
    assert not ok and seen.endswith('answered 503, expected 200: no endpoints available for service "front"'), seen


def test_service_check_without_an_answer_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3

    fake_proxy(monkeypatch, urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"))
    ok, seen = validate.http_probe(None, "web", HttpCheck(service="front", port=80, timeout="2s"))
    assert not ok and "no answer within 2s" in seen, seen


def test_long_reasons_are_cut() -> None:
    assert validate.reason(b"x" * 5000) == "x" * validate.REASON_CHARS + "..."
    assert validate.reason(b"line one\n  line two") == "line one line two"


# --- the step after the Release: post_exec hooks, then the checks; its delete refuses first -------

KUBECONFIG = "apiVersion: v1\nkind: Config\n"


def inputs(**spec: Any) -> validate.Inputs:
    made = validate.Inputs(spec=parse_spec({"name": "web", "chart": "charts/demo-app", "namespace": "ns", **spec}),
                           kubeconfig=KUBECONFIG, hooks={"post_exec": ["hooks:after"], "validate": ["hooks:check"]},
                           payload={"from": "pre_exec"}, previous_version="1.0.0", revision=2,
                           owned_crds=["routes.web.example.com"])
    made.__dict__["api"] = None  # the cached client: no cluster here
    return made


def test_post_exec_hooks_run_before_the_checks_and_validate_hooks_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Qovery's post_exec then validate, in one step after the Release; the payload threads
    through, and the hooks see the version deployed before this run."""
    seen: list[str] = []

    def run_hooks(self: validate.Inputs, event: str, **extra: Any) -> dict[str, Any]:
        seen.append(f"hook {event} payload={sorted(self.payload)} previous={self.previous_version}")
        return {**self.payload, event: True}

    monkeypatch.setattr(validate.Inputs, "run_hooks", run_hooks)
    monkeypatch.setattr(validate.kube, "release_workloads", lambda *a: seen.append("workloads listed") or [])
    monkeypatch.setattr(validate.kube, "wait_ready", lambda *a, **kw: seen.append("workloads ready") or {})
    out = validate.run(inputs())
    assert seen == ["hook post_exec payload=['from'] previous=1.0.0", "workloads listed", "workloads ready",
                    "hook validate payload=['from', 'post_exec'] previous=1.0.0"]
    assert out.payload == {"from": "pre_exec", "post_exec": True, "validate": True}
    assert out.checks_passed == ["workloads-ready", "hook:hooks:check"]


def test_a_dry_run_runs_no_hook_and_no_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kw: Any) -> Any:
        raise AssertionError("a dry run touched the release")

    monkeypatch.setattr(validate.Inputs, "run_hooks", never)
    monkeypatch.setattr(validate.kube, "release_workloads", never)
    assert validate.run(inputs(dry_run=True)).checks_passed == []


def test_delete_refuses_while_the_crds_about_to_go_hold_custom_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[Any, ...]] = []

    def at_risk(api: Any, release: str, namespace: str, owned: Any = ()) -> dict[str, list[str]]:
        asked.append((release, namespace, list(owned)))
        return {"routes.web.example.com": ["ns/r1"]}

    monkeypatch.setattr(validate, "crds_at_risk", at_risk)
    with pytest.raises(RuntimeError) as err:
        validate.delete(inputs(), validate.Outputs())
    assert "refusing to delete CRDs that still hold custom resources (routes.web.example.com: ns/r1)" in str(err.value)
    assert str(err.value).endswith("Nothing was uninstalled or deleted.")
    assert asked == [("web", "ns", ["routes.web.example.com"])]  # the CRDs pre_exec owns are checked too


def test_delete_goes_ahead_with_no_custom_resources_left_or_when_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate.releases, "latest", lambda *a: None)  # nothing kept to name
    monkeypatch.setattr(validate, "crds_at_risk", lambda *a: {})
    validate.delete(inputs(), validate.Outputs())
    monkeypatch.setattr(validate, "crds_at_risk", lambda *a: {"routes.web.example.com": ["ns/r1"]})
    validate.delete(inputs(force_crd_deletion=True), validate.Outputs())
    validate.delete(inputs(dry_run=True), validate.Outputs())
