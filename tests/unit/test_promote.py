"""Promotion of pinned chart versions between stack files: what moves, what never does, and
every refusal, checked on small stack files that carry comments and quoting."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from helmlife.promote import (
    ENV_ORDER,
    Change,
    Promotion,
    PromotionRefused,
    StackStatus,
    plan_promotion,
    write_atomically,
)

OK = StackStatus(last_result="succeeded", pending_changes=False)

DEV = """\
encryptionsalt: v1:nW5rpuhiN8E=:v1:emSo7WU41IY7QA5k:KBYFlpAhfc4k9siVJC7lmY7wmANWpg==
config:
  helmlife:demoToken:
    secure: v1:krOcLMpYQidGwgSl:ckdYm2UuQeED3DKBggkzBy0P6nKaR10i+uSvsiqAjEKc0oUv2DEDcV1jzxEn7wVR
  # dev cluster
  helmlife:kubeconfig_path: .tools/cluster/kubeconfig
  helmlife:promotable_values:
    - demo-app.image.tag
    - demo-app.auth.token
    - demo-app.inline.secret
    - demo-app.missing.key
  helmlife:charts:
    - name: demo-app
      chart: charts/demo-app
      namespace: helmlife-dev
      values:
        - key: message
          value: hello from dev
        - key: image.tag
          value: "1.4.2"
        - key: auth.token
          secret_config: demoToken
        - key: inline.secret
          value: s3cr3t
          secret: true
    - name: demo-operator
      chart: charts/demo-operator/2.0.0  # bumped in dev first
      namespace: helmlife-dev
      last_breaking_version_requiring_restart: 2.0.0
    - name: hello-repo
      chart:
        repo: http://127.0.0.1:8879
        name: hello-repo
        version: 0.2.0
      namespace: helmlife-dev
    - name: dev-only
      chart: charts/dev-only/0.0.1
      namespace: helmlife-dev
"""

STAGING = """\
encryptionsalt: v1:AAAAAAAAAAA=:v1:BBBBBBBBBBBBBBBB:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC
config:
  helmlife:demoToken:
    secure: v1:stagingstagings:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ
  # staging cluster: never copied from dev
  helmlife:kubeconfig_path: /etc/helmlife/staging.kubeconfig
  helmlife:charts:
    # the app first
    - name: demo-app
      chart: charts/demo-app
      namespace: helmlife-staging  # staging namespace
      values:
        - key: message
          value: 'hello from staging'
        - key: image.tag
          value: "1.3.0"  # pinned tag
        - key: auth.token
          secret_config: demoToken
    - name: demo-operator
      chart: charts/demo-operator/1.0.0  # current staging pin
      namespace: helmlife-staging
      timeout: 120s
    - name: hello-repo
      chart:
        repo: https://charts.staging.example.com
        name: hello-repo
        version: "0.1.0"
      namespace: helmlife-staging
    - name: staging-only
      chart: charts/staging-only/3.0.0
      namespace: helmlife-staging
"""


def files(tmp_path: Path, dev: str = DEV, staging: str = STAGING) -> tuple[Path, Path]:
    (tmp_path / "stacks").mkdir(exist_ok=True)
    src, tgt = tmp_path / "stacks" / "Pulumi.dev.yaml", tmp_path / "stacks" / "Pulumi.staging.yaml"
    src.write_text(dev)
    tgt.write_text(staging)
    return src, tgt


def plan(src: Path, tgt: Path, **kw) -> Promotion:
    args = dict(source="dev", target="staging", charts=None, source_status=OK)
    args.update(kw)
    return plan_promotion(src, tgt, **args)


def chart(text: str, name: str) -> dict:
    doc = YAML(typ="safe").load(text)
    return next(c for c in doc["config"]["helmlife:charts"] if c["name"] == name)


def test_env_order() -> None:
    assert ENV_ORDER == ("dev", "staging", "prod")


def test_promotes_pins_and_listed_plain_values_only(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt)
    by_field = {(c.chart, c.field): c for c in p.changes}
    assert by_field == {
        ("demo-app", "values.image.tag"): Change("demo-app", "values.image.tag", "1.3.0", "1.4.2"),
        ("demo-operator", "chart"): Change("demo-operator", "chart", "charts/demo-operator/1.0.0",
                                           "charts/demo-operator/2.0.0"),
        ("demo-operator", "last_breaking_version_requiring_restart"):
            Change("demo-operator", "last_breaking_version_requiring_restart", None, "2.0.0"),
        ("hello-repo", "chart.version"): Change("hello-repo", "chart.version", "0.1.0", "0.2.0"),
    }
    app, op, repo = chart(p.new_text, "demo-app"), chart(p.new_text, "demo-operator"), chart(p.new_text, "hello-repo")
    values = {v["key"]: v for v in app["values"]}
    assert values["image.tag"]["value"] == "1.4.2"
    assert values["message"]["value"] == "hello from staging"  # not listed: never promoted
    assert values["auth.token"] == {"key": "auth.token", "secret_config": "demoToken"}
    assert "inline.secret" not in values  # secret: true in the source, even though listed
    assert op["chart"] == "charts/demo-operator/2.0.0"
    assert op["last_breaking_version_requiring_restart"] == "2.0.0"
    assert repo["chart"] == {"repo": "https://charts.staging.example.com", "name": "hello-repo", "version": "0.2.0"}


def test_environment_specific_settings_never_move(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt)
    new = YAML(typ="safe").load(p.new_text)
    old = YAML(typ="safe").load(STAGING)
    assert new["encryptionsalt"] == old["encryptionsalt"]
    assert new["config"]["helmlife:demoToken"] == old["config"]["helmlife:demoToken"]
    assert new["config"]["helmlife:kubeconfig_path"] == "/etc/helmlife/staging.kubeconfig"
    assert "helmlife:promotable_values" not in new["config"]
    for c in new["config"]["helmlife:charts"]:
        assert c["namespace"] == "helmlife-staging"
    assert [c["name"] for c in new["config"]["helmlife:charts"]] == ["demo-app", "demo-operator", "hello-repo",
                                                                     "staging-only"]
    assert chart(p.new_text, "staging-only")["chart"] == "charts/staging-only/3.0.0"
    assert "s3cr3t" not in p.new_text and "s3cr3t" not in p.diff_text


def test_comments_order_and_quoting_survive(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt)
    for comment in ("# staging cluster: never copied from dev", "# the app first", "# staging namespace",
                    "# pinned tag", "# current staging pin"):
        assert comment in p.new_text
    assert "value: 'hello from staging'" in p.new_text  # single quotes kept
    assert 'value: "1.4.2"  # pinned tag' in p.new_text  # double quotes and the line comment kept
    assert 'version: "0.2.0"' in p.new_text  # the target's quoting wins
    assert "chart: charts/demo-operator/2.0.0  # current staging pin" in p.new_text
    # Exactly the promoted lines change; nothing is re-indented or re-wrapped.
    changed = [line for line in p.diff_text.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert sorted(changed) == sorted([
        '-          value: "1.3.0"  # pinned tag',
        '+          value: "1.4.2"  # pinned tag',
        "-      chart: charts/demo-operator/1.0.0  # current staging pin",
        "+      chart: charts/demo-operator/2.0.0  # current staging pin",
        "+      last_breaking_version_requiring_restart: 2.0.0",
        '-        version: "0.1.0"',
        '+        version: "0.2.0"',
    ])
    # Key order within the chart: the new key goes right after `chart`.
    keys = list(chart(p.new_text, "demo-operator"))
    assert keys == ["name", "chart", "last_breaking_version_requiring_restart", "namespace", "timeout"]


def test_plan_does_not_write(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    before = (src.read_bytes(), tgt.read_bytes(), tgt.stat().st_mtime_ns)
    p = plan(src, tgt)
    assert p.changed
    assert (src.read_bytes(), tgt.read_bytes(), tgt.stat().st_mtime_ns) == before
    assert p.old_text == STAGING
    assert p.diff_text.startswith(f"--- {tgt.as_posix()}\n+++ {tgt.as_posix()}\n")


def test_diff_uses_git_style_labels_for_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files(tmp_path)
    monkeypatch.chdir(tmp_path)
    p = plan(Path("stacks/Pulumi.dev.yaml"), Path("stacks/Pulumi.staging.yaml"))
    assert p.diff_text.startswith("--- a/stacks/Pulumi.staging.yaml\n+++ b/stacks/Pulumi.staging.yaml\n@@")


def test_skipped_charts_and_values_are_reported(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt)
    notes = {(s.chart, s.note.split(";")[0].split(" (")[0]) for s in p.skipped}
    assert ("dev-only", "not in stack 'staging'") in notes
    assert ("demo-app", "chart path 'charts/demo-app' has no version directory") in notes
    assert ("demo-app", "value 'auth.token' is secret in the source") in notes
    assert ("demo-app", "value 'inline.secret' is secret in the source") in notes
    assert ("demo-app", "value 'missing.key' is listed in helmlife:promotable_values but not set in the source") in notes
    assert "dev-only" not in p.new_text  # reported, not added


def test_repo_url_is_never_copied(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt)
    assert "127.0.0.1:8879" not in p.new_text
    assert "https://charts.staging.example.com" in p.new_text


def test_charts_filter(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt, charts=["hello-repo"])
    assert [(c.chart, c.field) for c in p.changes] == [("hello-repo", "chart.version")]
    assert p.charts == ["hello-repo"]
    assert "charts/demo-operator/1.0.0" in p.new_text
    assert p.skipped == []


def test_nothing_to_promote_returns_the_file_unchanged(tmp_path: Path) -> None:
    src, tgt = files(tmp_path, staging=STAGING)
    first = plan(src, tgt)
    tgt.write_text(first.new_text)
    again = plan(src, tgt)
    assert again.changes == [] and not again.changed and again.diff_text == ""
    assert again.new_text == first.new_text


def test_breaking_version_is_removed_when_the_source_drops_it(tmp_path: Path) -> None:
    dev = DEV.replace("      last_breaking_version_requiring_restart: 2.0.0\n", "")
    staging = STAGING.replace("      timeout: 120s\n", "      last_breaking_version_requiring_restart: 1.0.0\n      timeout: 120s\n")
    src, tgt = files(tmp_path, dev, staging)
    p = plan(src, tgt, charts=["demo-operator"])
    assert Change("demo-operator", "last_breaking_version_requiring_restart", "1.0.0", None) in p.changes
    assert "last_breaking_version_requiring_restart" not in chart(p.new_text, "demo-operator")


def test_listed_value_missing_in_target_is_added(tmp_path: Path) -> None:
    staging = STAGING.replace('        - key: image.tag\n          value: "1.3.0"  # pinned tag\n', "")
    src, tgt = files(tmp_path, staging=staging)
    p = plan(src, tgt, charts=["demo-app"])
    assert p.changes == [Change("demo-app", "values.image.tag", None, "1.4.2")]
    assert {"key": "image.tag", "value": "1.4.2"} in chart(p.new_text, "demo-app")["values"]


def test_secret_in_target_is_never_overwritten(tmp_path: Path) -> None:
    staging = STAGING.replace('          value: "1.3.0"  # pinned tag\n', "          secret_config: demoToken\n")
    src, tgt = files(tmp_path, staging=staging)
    p = plan(src, tgt, charts=["demo-app"])
    assert p.changes == []
    assert any("secret in the target" in s.note for s in p.skipped)


def test_mismatched_chart_kinds_are_skipped(tmp_path: Path) -> None:
    staging = STAGING.replace("      chart: charts/demo-operator/1.0.0  # current staging pin\n",
                              "      chart:\n        repo: https://x.example.com\n        name: demo-operator\n"
                              "        version: 1.0.0\n")
    src, tgt = files(tmp_path, staging=staging)
    p = plan(src, tgt, charts=["demo-operator"])
    assert [c.field for c in p.changes] == ["last_breaking_version_requiring_restart"]
    assert any("chart kinds differ" in s.note for s in p.skipped)


def test_chart_given_as_path_mapping(tmp_path: Path) -> None:
    staging = STAGING.replace("      chart: charts/demo-operator/1.0.0  # current staging pin\n",
                              "      chart:\n        path: charts/demo-operator/1.0.0\n")
    src, tgt = files(tmp_path, staging=staging)
    p = plan(src, tgt, charts=["demo-operator"])
    assert Change("demo-operator", "chart.path", "charts/demo-operator/1.0.0", "charts/demo-operator/2.0.0") in p.changes
    assert chart(p.new_text, "demo-operator")["chart"] == {"path": "charts/demo-operator/2.0.0"}


def test_force_allows_skipping_an_environment(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    p = plan(src, tgt, target="prod", force=True)
    assert p.target == "prod" and p.changes


def test_custom_order(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    assert plan(src, tgt, source="dev", target="qa", order=("dev", "qa")).changes


# -- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, message", [
    (StackStatus("failed", False), "last update of stack 'dev' failed; fix it and run pulumi up before promoting"),
    (StackStatus(None, False), "stack 'dev' has never been deployed; run pulumi up on it "
                               "(pulumi up --stack dev) before promoting what it pins"),
    (StackStatus("succeeded", True), "stack 'dev' has pending changes: its config differs from what is deployed; "
                                     "run pulumi up on it (pulumi up --stack dev) or revert the config before promoting"),
    (StackStatus("in-progress", False), "last update of stack 'dev' is 'in-progress', not succeeded; "
                                        "wait for it to finish (or cancel it) and run pulumi up before promoting"),
])
def test_refuses_an_unproven_source(tmp_path: Path, status: StackStatus, message: str) -> None:
    src, tgt = files(tmp_path)
    with pytest.raises(PromotionRefused) as err:
        plan(src, tgt, source_status=status)
    assert str(err.value) == message


def test_force_does_not_override_a_failed_source(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    with pytest.raises(PromotionRefused, match="failed"):
        plan(src, tgt, source_status=StackStatus("failed", False), force=True)


@pytest.mark.parametrize("source, target, message", [
    ("dev", "prod", "prod is not the next environment after dev (dev -> staging -> prod); "
                    "promote to staging first or pass --force"),
    ("staging", "dev", "dev is not the next environment after staging (dev -> staging -> prod); "
                       "promote to prod first or pass --force"),
    ("prod", "staging", "prod is the last environment (dev -> staging -> prod); there is nothing after it to promote to"),
    ("dev", "qa", "'qa' is not a known environment (dev -> staging -> prod); use one of them, "
                  "or pass --force to promote anyway"),
    ("dev", "dev", "source and target are both 'dev'; name two different stacks (dev -> staging -> prod)"),
])
def test_refuses_out_of_order(tmp_path: Path, source: str, target: str, message: str) -> None:
    src, tgt = files(tmp_path)
    with pytest.raises(PromotionRefused) as err:
        plan(src, tgt, source=source, target=target)
    assert str(err.value) == message


def test_refuses_a_chart_the_source_does_not_have(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    with pytest.raises(PromotionRefused) as err:
        plan(src, tgt, charts=["hello-repo", "nope"])
    assert str(err.value) == (f"chart 'nope' is not in stack 'dev' ({src}); "
                              "its charts are: demo-app, demo-operator, hello-repo, dev-only")


def test_refuses_a_missing_target_file(tmp_path: Path) -> None:
    src, _ = files(tmp_path)
    missing = tmp_path / "stacks" / "Pulumi.prod.yaml"
    with pytest.raises(PromotionRefused) as err:
        plan(src, missing, source="staging", target="prod")
    assert str(err.value) == (f"{missing} does not exist; create stack 'prod' first (pulumi stack init prod) "
                              "with its own namespace and cluster settings")


def test_refuses_a_malformed_promotable_list(tmp_path: Path) -> None:
    src, tgt = files(tmp_path, dev=DEV.replace("    - demo-app.image.tag\n", "    - imagetag\n"))
    with pytest.raises(PromotionRefused) as err:
        plan(src, tgt)
    assert str(err.value) == (f"{src}: helmlife:promotable_values entry 'imagetag' is not \"chart.valueKey\" "
                              "(e.g. demo-app.image.tag)")


# -- writing -------------------------------------------------------------------------------------

def test_write_atomically_replaces_and_keeps_mode(tmp_path: Path) -> None:
    src, tgt = files(tmp_path)
    os.chmod(tgt, 0o640)
    p = plan(src, tgt)
    write_atomically(tgt, p.new_text)
    assert tgt.read_text() == p.new_text
    assert stat.S_IMODE(tgt.stat().st_mode) == 0o640
    assert sorted(f.name for f in tgt.parent.iterdir()) == ["Pulumi.dev.yaml", "Pulumi.staging.yaml"]
    assert plan(src, tgt).changes == []  # promoting again is a no-op


def test_write_atomically_leaves_the_file_alone_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    target.write_text("config: {}\n")

    def boom(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "config:\n  x: 1\n")
    assert target.read_text() == "config: {}\n"
    assert [f.name for f in tmp_path.iterdir()] == ["Pulumi.staging.yaml"]


def test_real_dev_stack_round_trips_unchanged(tmp_path: Path) -> None:
    """The project's own stack file is re-emitted byte for byte, so promotions diff cleanly."""
    dev_file = Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.dev.yaml"
    text = dev_file.read_text()
    staging = text.replace("helmlife-dev", "helmlife-staging")
    src, tgt = files(tmp_path, dev=text, staging=staging)
    p = plan(src, tgt)
    assert p.changes == [] and p.new_text == staging
    bumped = staging.replace("charts/demo-operator/1.0.0", "charts/demo-operator/0.9.0")
    tgt.write_text(bumped)
    p = plan(src, tgt)
    assert p.new_text == staging
