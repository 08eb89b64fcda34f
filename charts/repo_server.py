"""A throwaway Helm chart repository for tests of the "chart from a repository" path.

Packaged charts are build output, not source, so they are not committed: this module
packages ``charts/repo-src/<name>/<version>/`` on demand with the standard library
only (no ``helm`` binary needed) and serves the result over plain HTTP, or, like a private
repository, over HTTPS (``tls=(certfile, keyfile)``) and/or behind basic auth
(``auth=(user, password)``; a request without them gets 401).

The build is deterministic (sorted entries, fixed mtimes and owners, fixed
timestamps), so the sha256 digests in ``index.yaml`` are stable from run to run and
a test can compare them against a previous build.
"""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import hashlib
import hmac
import http.server
import io
import pathlib
import ssl
import tarfile
import threading
from typing import Any, Callable

import yaml

SOURCE_ROOT = pathlib.Path(__file__).resolve().parent / "repo-src"

# Fixed times keep the archives and the index byte-for-byte reproducible.
FIXED_MTIME = 946684800  # 2000-01-01T00:00:00Z
FIXED_TIMESTAMP = "2000-01-01T00:00:00Z"

# Never shipped inside a package, whatever an editor or Python leaves behind.
_SKIP_NAMES = {"__pycache__", ".DS_Store", ".git"}


def _chart_files(chart_dir: pathlib.Path) -> list[pathlib.Path]:
    """Every regular file of a chart, sorted, so archive order never depends on the filesystem."""
    files = []
    for path in chart_dir.rglob("*"):
        rel = path.relative_to(chart_dir)
        if any(part in _SKIP_NAMES or part.endswith(("~", ".swp")) for part in rel.parts):
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(chart_dir).as_posix())


def _package(chart_dir: pathlib.Path, name: str) -> bytes:
    """A .tgz laid out like ``helm package`` output: every path under a top-level ``<name>/``."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _chart_files(chart_dir):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{name}/{path.relative_to(chart_dir).as_posix()}")
            info.size = len(data)
            info.mtime = FIXED_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    gz_buf = io.BytesIO()
    # mtime=0 and an empty filename keep the gzip header itself reproducible.
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buf, mtime=0) as gz:
        gz.write(tar_buf.getvalue())
    return gz_buf.getvalue()


def build_repo(dest: pathlib.Path, source: pathlib.Path = SOURCE_ROOT) -> pathlib.Path:
    """Package every chart under ``source/<name>/<version>/`` into ``dest`` and index it.

    Writes ``<name>-<version>.tgz`` per chart and an ``index.yaml`` in the shape Helm
    expects from a repository. Returns the path of ``index.yaml``.
    """
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    entries: dict[str, list[dict[str, Any]]] = {}
    for chart_yaml in sorted(source.glob("*/*/Chart.yaml")):
        chart_dir = chart_yaml.parent
        meta = yaml.safe_load(chart_yaml.read_text())
        name, version = str(meta["name"]), str(meta["version"])
        # The directory layout is the catalogue; a mismatch would publish a wrong version.
        if (chart_dir.parent.name, chart_dir.name) != (name, version):
            raise ValueError(
                f"{chart_dir}: Chart.yaml says {name} {version}, directory says "
                f"{chart_dir.parent.name} {chart_dir.name}"
            )
        archive = f"{name}-{version}.tgz"
        data = _package(chart_dir, name)
        (dest / archive).write_bytes(data)
        # Like Helm, the entry carries the chart's own metadata plus the repository fields.
        entry = {k: v for k, v in meta.items() if k not in ("dependencies",)}
        entry.update(
            name=name,
            version=version,
            appVersion=str(meta.get("appVersion", version)),
            urls=[archive],
            digest=hashlib.sha256(data).hexdigest(),
            created=FIXED_TIMESTAMP,
        )
        entries.setdefault(name, []).append(entry)
    for versions in entries.values():
        # Newest first, as Helm writes them; versions here are plain X.Y.Z.
        versions.sort(key=lambda e: tuple(int(p) for p in e["version"].split(".")), reverse=True)
    index = {"apiVersion": "v1", "entries": entries, "generated": FIXED_TIMESTAMP}
    index_path = dest / "index.yaml"
    index_path.write_text(yaml.safe_dump(index, sort_keys=True, default_flow_style=False))
    return index_path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that keeps test output clean and labels chart archives correctly."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".tgz": "application/gzip",
        ".yaml": "text/yaml",
    }

    # "user:password" when the repository is private; None serves everyone.
    credentials: str | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        pass

    def _authorized(self) -> bool:
        if self.credentials is None:
            return True
        expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        return hmac.compare_digest(self.headers.get("Authorization", ""), expected)

    def send_head(self) -> Any:
        if not self._authorized():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="helmlife test repository"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().send_head()


def _make_server(dest: pathlib.Path, port: int, auth: tuple[str, str] | None = None,
                 tls: tuple[str, str] | None = None) -> http.server.ThreadingHTTPServer:
    handler_class = type("_Handler", (_QuietHandler,), {"credentials": ":".join(auth) if auth else None})
    handler = functools.partial(handler_class, directory=str(pathlib.Path(dest).resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def _url(server: http.server.ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    scheme = "https" if isinstance(server.socket, ssl.SSLSocket) else "http"
    return f"{scheme}://{host}:{port}"


def serve_repo(dest: pathlib.Path, port: int = 0, auth: tuple[str, str] | None = None,
               tls: tuple[str, str] | None = None) -> tuple[str, Callable[[], None]]:
    """Serve ``dest`` on 127.0.0.1 from a daemon thread, over HTTPS with ``tls`` (certificate
    and key files) and only to ``auth`` (user, password) when given.

    Port 0 (the default) picks a free port, so parallel tests never collide. Returns the
    base URL (``http(s)://127.0.0.1:PORT``, usable as a Helm repository URL) and a function
    that stops the server and releases the port.
    """
    server = _make_server(dest, port, auth, tls)
    thread = threading.Thread(target=server.serve_forever, name="helm-repo", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return _url(server), stop


def main(argv: list[str] | None = None) -> None:
    """Build the repository into DIR, then serve it until interrupted."""
    parser = argparse.ArgumentParser(description="Build and serve the test Helm chart repository.")
    parser.add_argument("dir", type=pathlib.Path, help="directory to build the repository into")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    build_repo(args.dir)
    server = _make_server(args.dir, args.port)
    print(_url(server), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
