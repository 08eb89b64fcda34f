"""The validate step's HTTP checks, without a cluster: URL checks against a loopback server,
and the Service check's call through the API server proxy."""
from __future__ import annotations

import http.server
import threading
from typing import Any, Iterator

import pytest

from helmlife.spec import HttpCheck
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
