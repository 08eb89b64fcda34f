"""Secrets and hostile input: nothing secret in plain text anywhere `pulumi up` writes, credential
files private and short-lived, and no value ever interpreted by a shell."""
from __future__ import annotations

import ast
import base64
import json
import os
import shutil
import stat
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from helmlife.releases import decode
from tests.e2e.conftest import ROOT, TOOLS, Cluster, Project
from tests.faults.conftest import chart, pulumi

HELM_SHIM = """\
#!{python}
# Stands in for helm on PATH: records how it was called and the files it was handed, then runs helm.
import json, os, stat, subprocess, sys
args = sys.argv[1:]
seen = [{{"flag": flag, "path": p, "mode": stat.S_IMODE(os.stat(p).st_mode)}} for flag, p in
        [(a, args[i + 1]) for i, a in enumerate(args[:-1]) if a in ("--kubeconfig", "-f")]]
with open(os.environ["FAULT_HELM_LOG"], "a") as log:
    log.write(json.dumps({{"argv": args, "files": seen}}) + "\\n")
sys.exit(subprocess.run([os.environ["FAULT_REAL_HELM"], *args]).returncode)
"""


def inline_kubeconfig(source: Path, dest: Path) -> dict[str, str]:
    """`source` with its certificate and key files embedded, written to `dest` (0600); returns
    the embedded secrets by name, to look for afterwards."""
    doc = yaml.safe_load(source.read_text())
    found: dict[str, str] = {}
    for section, key in (("clusters", "cluster"), ("users", "user")):
        for item in doc[section]:
            body = item[key]
            for field in ("certificate-authority", "client-certificate", "client-key"):
                if field in body:
                    data = base64.b64encode(Path(body.pop(field)).read_bytes()).decode()
                    body[f"{field}-data"] = found[field] = data
    dest.write_text(yaml.safe_dump(doc))
    dest.chmod(0o600)
    return found


@pytest.mark.e2e
def test_no_secret_in_plain_text_credential_files_private_and_gone_and_no_shell(
        project: Project, cluster: Cluster, tmp_path: Path) -> None:
    ns, marker = project.namespace, f"helmlife-pwned-{uuid.uuid4().hex[:8]}"
    hostile = [f"$(touch /tmp/{marker})", f"`touch /tmp/{marker}`", f"; touch /tmp/{marker}", f"| touch {marker} &&"]
    token = f"tok-{uuid.uuid4().hex}"
    kubeconfig = tmp_path / "kubeconfig"
    creds = inline_kubeconfig(cluster.kubeconfig, kubeconfig)
    key_pem = base64.b64decode(creds["client-key"]).decode().splitlines()[1]  # a line of the private key itself

    nasty_dir = f"charts/app $(touch {marker}); touch {marker}"  # a chart path is an argument, never a command
    shutil.copytree(project.root / "charts" / "demo-app", project.root / nasty_dir)
    values = [{"key": "message", "value": hostile[0]},
              {"key": "extraEnv", "value": [{"name": "HOSTILE", "value": " ".join(hostile)}]},
              {"key": "auth.token", "secret_config": "token"}]
    project.write_stack("t", [chart("app", ns, nasty_dir, values=values,
                                    yaml_files_content=[f"podAnnotations: {{inline: '{hostile[2]}'}}"])],
                        kubeconfig_path=str(kubeconfig))
    project.stack("t").set_config("helmlife:token", auto.ConfigValue(token, secret=True))

    shim_dir, scratch, helm_log = tmp_path / "shim", tmp_path / "tmp", tmp_path / "helm-calls.jsonl"
    shim_dir.mkdir()
    scratch.mkdir()
    (shim_dir / "helm").write_text(HELM_SHIM.format(python=sys.executable))
    (shim_dir / "helm").chmod(0o755)
    env = {"PATH": f"{shim_dir}{os.pathsep}{project.env()['PATH']}", "TMPDIR": str(scratch),
           "FAULT_HELM_LOG": str(helm_log), "FAULT_REAL_HELM": str(TOOLS / "bin" / "helm")}
    up = pulumi(project, "up", "t", env=env)
    assert up.ok, up.output

    # The release got both the secret and the hostile strings, as data.
    [secret] = cluster.release_secrets(ns, "app")
    config = decode(secret.data["release"])["config"]
    assert config["auth"]["token"] == token and config["message"] == hostile[0]
    dep = cluster.deployment(ns, "app")
    assert dep is not None
    assert dep.spec.template.metadata.annotations["helmlife.dev/message"] == hostile[0]
    assert dep.spec.template.metadata.annotations["inline"] == hostile[2]
    assert dep.spec.template.spec.containers[0].env[0].value == " ".join(hostile)

    # Plain text nowhere: the stack export, every state file, the output, the journal, temp files, helm's argv.
    exported = project.cli("stack", "export", "--stack", "t")
    # The kubernetes plugin (pulumi-kubernetes 4.25) writes the kubeconfig it is given to a temp file
    # for its helm library and never removes it: its own file, private; not helmlife's, not state.
    plugin_copies = [p for p in scratch.iterdir() if p.name.startswith("kubeconfig")]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in plugin_copies), plugin_copies
    written = {str(p): p.read_text(errors="replace") for base in (project.root / ".tools" / "state", scratch)
               for p in base.rglob("*") if p.is_file() and p not in plugin_copies}
    written |= {"export": exported, "output": up.output, "journal": project.journal.read_text(),
                "helm argv": helm_log.read_text()}
    for secret_text in (token, creds["client-key"], key_pem, creds["client-certificate"], "current-context"):
        assert [where for where, text in written.items() if secret_text in text] == [], secret_text
    resources = json.loads(exported)["deployment"]["resources"]
    steps = [r for r in resources if r["type"].startswith("pulumi-python:dynamic/")]
    assert len(steps) == 2 and not any(  # pre_exec, validate; bookkeeping keys are `__`-prefixed
        k.removeprefix("__") == "kubeconfig" for r in steps for s in ("inputs", "outputs") for k in r[s])
    [release] = [r for r in resources if r["type"] == "kubernetes:helm.sh/v3:Release"]
    assert "ciphertext" in json.dumps(release["inputs"]["values"]["auth"])  # the secret value, encrypted
    kubernetes = [r for r in resources if r["type"] == "pulumi:providers:kubernetes"]
    assert kubernetes and all("ciphertext" in json.dumps(r["inputs"]["kubeconfig"]) for r in kubernetes)
    cluster = [r for r in resources if r["urn"].endswith("pulumi:providers:pulumi-python::helmlife-cluster")]
    assert len(cluster) == 1 and all("ciphertext" in cluster[0][s]["helmlife-cluster:kubeconfig"]
                                     for s in ("inputs", "outputs"))

    # Every file helm was handed was private while in use and is gone now.
    calls = [json.loads(line) for line in helm_log.read_text().splitlines()]
    handed = [f for call in calls for f in call["files"]]
    assert {f["flag"] for f in handed} == {"--kubeconfig", "-f"}, calls
    assert [f for f in handed if f["mode"] != stat.S_IRUSR | stat.S_IWUSR] == []
    assert [f["path"] for f in handed if Path(f["path"]).exists()] == []
    assert [p.name for p in scratch.iterdir() if p.name.startswith("helmlife-")] == []

    # No shell ever ran a value: no marker, in /tmp or in any working directory.
    assert not Path("/tmp", marker).exists()
    assert list(project.root.rglob(f"{marker}*")) == [] and not (ROOT / marker).exists()


SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}


def test_helmlife_never_calls_a_shell() -> None:
    """No `shell=True`, `os.system` or `os.popen` anywhere in the library: every process helmlife
    starts gets an argument list, so config and values are never parsed as shell syntax."""
    found = []
    for path in sorted((ROOT / "helmlife").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                       for k in node.keywords):
                    found.append(f"{path.name}:{node.lineno} shell=")
                f = node.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in SHELL_CALLS:
                    found.append(f"{path.name}:{node.lineno} {f.value.id}.{f.attr}")
    assert found == []

