"""Chart sources: private repositories and registries (what helm is given, and how), and local
charts' sub-charts. helm itself is a recording stand-in here; the e2e tests use the real one."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from helmlife import chart_source, dependencies
from helmlife.helm import ChartRef, Helm, RepoAccess
from helmlife.spec import SpecError, parse_spec
from helmlife.stacks import StackConfigError, parse_stack_config

ROOT = Path(__file__).resolve().parents[2]
REPO = {"repo": "https://charts.example.com", "name": "c", "version": "1.0.0"}


@pytest.mark.parametrize(("chart", "hint"), [
    ({"username": "u"}, "username and a password go together"),
    ({"password_secret_config": "k"}, "username and a password go together"),
    ({"username": "u", "password_secret_config": "k", "password": "p"}, "not both"),
    ({"ca_file": "ca.pem", "ca_config": "k"}, "one of ca_file, ca_config or ca"),
])
def test_bad_repository_access(chart: dict, hint: str) -> None:
    with pytest.raises(SpecError, match=hint) as err:
        parse_spec({"name": "x", "chart": {**REPO, **chart}})
    assert "- chart" in str(err.value)


def test_password_in_a_stack_file_is_refused() -> None:
    with pytest.raises(StackConfigError, match=r"chart.password: a password written in the stack file.*"
                                               r"password_secret_config: KEY"):
        parse_stack_config("dev", {"charts": [{"name": "x", "chart": {**REPO, "username": "u", "password": "p"}}]})


def test_config_keys_stay_in_the_spec_and_nothing_is_marked() -> None:
    spec = parse_spec({"name": "x", "chart": {**REPO, "username": "u", "password_secret_config": "pw",
                                              "ca_config": "ca"}})
    doc = spec.public_doc()["chart"]
    assert doc["password_secret_config"] == "pw" and doc["password"] is None and doc["ca"] is None
    assert parse_spec(spec.public_doc()) == spec  # the provider re-validates exactly this


@pytest.fixture
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A helm that records argv, stdin and the private files it was pointed at (with their modes)."""
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "helm"
    script.write_text(f"""#!/usr/bin/env python3
import json, os, stat, sys
args = sys.argv[1:]
files = {{}}
for flag in ("--repository-config", "--registry-config", "--ca-file", "--kubeconfig"):
    if flag in args:
        path = args[args.index(flag) + 1]
        files[flag] = {{"mode": oct(stat.S_IMODE(os.stat(path).st_mode)) if os.path.exists(path) else None,
                       "dir_mode": oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)),
                       "content": open(path).read() if os.path.exists(path) else None, "path": path}}
stdin = sys.stdin.read() if "--password-stdin" in args else None
with open({str(log)!r}, "a") as fh:
    fh.write(json.dumps({{"args": args, "stdin": stdin, "files": files}}) + "\\n")
if args[:2] == ["upgrade", "r"]:
    print(json.dumps({{"version": 1}}))
""")
    script.chmod(0o755)
    monkeypatch.setenv("HELMLIFE_HELM", str(script))
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def upgrade(helm: Helm, ref: ChartRef) -> None:
    helm.upgrade_install("r", "ns", ref, [], atomic=True, wait=True, timeout="1m", force=False, dry_run=False,
                         create_namespace=False)


def test_private_http_repository_gets_its_own_repositories_file(fake_helm: Path) -> None:
    helm = Helm("kubeconfig", access=RepoAccess(username="u", password="s3cret-pw", ca_pem="PEM"))
    upgrade(helm, ChartRef(repo="https://charts.example.com", name="c", version="1.0.0"))
    update, install = calls(fake_helm)
    assert update["args"][:3] == ["repo", "update", "helmlife"]
    repos = update["files"]["--repository-config"]
    assert repos["mode"] == "0o600" and repos["dir_mode"] == "0o700"
    assert "s3cret-pw" in repos["content"] and "caFile" in repos["content"]
    assert install["args"][:4] == ["upgrade", "r", "helmlife/c", "--version"]
    assert install["files"]["--repository-config"]["content"] == repos["content"]
    assert all("s3cret-pw" not in " ".join(c["args"]) for c in calls(fake_helm))
    assert not os.path.exists(repos["path"]) and not os.path.exists(os.path.dirname(repos["path"]))


def test_private_oci_registry_logs_in_with_the_password_on_stdin(fake_helm: Path) -> None:
    helm = Helm("kubeconfig", access=RepoAccess(username="u", password="s3cret-pw", ca_pem="PEM"))
    helm.show_chart(ChartRef(repo="oci://registry.example.com:5000/charts", name="c", version="1.0.0"))
    login, show = calls(fake_helm)
    assert login["args"][:6] == ["registry", "login", "registry.example.com:5000", "--username", "u", "--password-stdin"]
    assert login["stdin"] == "s3cret-pw"
    assert login["files"]["--ca-file"]["content"] == "PEM"
    assert show["args"][:5] == ["show", "chart", "oci://registry.example.com:5000/charts/c", "--version", "1.0.0"]
    assert show["files"]["--registry-config"]["path"] == login["files"]["--registry-config"]["path"]
    assert all("s3cret-pw" not in " ".join(c["args"]) for c in calls(fake_helm))


def test_public_sources_stay_plain_command_lines(fake_helm: Path) -> None:
    helm = Helm("kubeconfig")
    helm.show_chart(ChartRef(repo="https://charts.example.com", name="c", version="1.0.0"))
    helm.show_chart(ChartRef(repo="oci://ghcr.io/org/charts", name="c", version="1.0.0"))
    http, oci = calls(fake_helm)
    assert http["args"][:7] == ["show", "chart", "c", "--repo", "https://charts.example.com", "--version", "1.0.0"]
    assert oci["args"][:5] == ["show", "chart", "oci://ghcr.io/org/charts/c", "--version", "1.0.0"]


def test_ca_file_is_read_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("PEM")
    spec = parse_spec({"name": "x", "chart": {**REPO, "ca_file": "ca.pem"}})
    assert chart_source.repo_access(spec, tmp_path, None) == RepoAccess(ca_pem="PEM")
    with pytest.raises(ValueError, match=r"chart.ca_file: cannot read .*missing.pem"):
        chart_source.repo_access(parse_spec({"name": "x", "chart": {**REPO, "ca_file": "missing.pem"}}), tmp_path, None)


def test_digest_of_a_chart_without_file_dependencies_is_unchanged() -> None:
    """helmlife before sub-chart support hashed a chart like this; the same chart must not upgrade."""
    root = ROOT / "charts" / "demo-app"
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    assert dependencies.files_digest(root) == h.hexdigest()[:16]


def test_digest_covers_file_dependencies(tmp_path: Path) -> None:
    for name, deps in (("app", "dependencies:\n  - {name: lib, version: 0.1.0, repository: 'file://../lib'}\n"),
                       ("lib", "")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{deps}")
    before = dependencies.files_digest(tmp_path / "app")
    (tmp_path / "lib" / "values.yaml").write_text("a: 1\n")
    assert dependencies.files_digest(tmp_path / "app") != before
    assert dependencies.local_dirs(tmp_path / "app") == [(tmp_path / "lib").resolve()]


def test_missing_file_dependency_names_chart_and_dependency(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - {name: lib, version: 0.1.0, repository: 'file://../lib'}\n")
    with pytest.raises(ValueError, match=r"chart.path: .*: dependency 'lib' of chart 'app' \(file://../lib\) has no Chart.yaml"):
        dependencies.local_dirs(tmp_path / "app")


def test_chart_without_dependencies_is_used_in_place(fake_helm: Path) -> None:
    assert dependencies.resolved(ROOT / "charts" / "demo-app") == (ROOT / "charts" / "demo-app").resolve()
    assert not fake_helm.exists()  # not even `helm dependency list`


def test_uninstall_never_reads_the_chart_source(fake_helm: Path, tmp_path: Path) -> None:
    """At destroy the CA file may be gone; only fetching a chart needs it."""
    def gone() -> RepoAccess:
        raise AssertionError("repository access read for an uninstall")

    assert Helm("kubeconfig", access=gone).uninstall("r", "ns", "1m") is True
