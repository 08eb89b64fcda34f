"""Ordering between charts (`depends_on`): an app whose templates use an operator's CRD."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.e2e.conftest import ROOT, Cluster, Project, chart

pytestmark = pytest.mark.e2e
WIDGET_APP = str(ROOT / "tests" / "e2e" / "charts" / "widget-app")


def test_app_waits_for_the_operator_that_serves_its_crd(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    # Listed first, so nothing but depends_on puts the operator before it.
    project.write_stack("t", [chart("widgets", ns, WIDGET_APP, depends_on=["operator"]),
                              chart("operator", ns, "charts/demo-operator/1.0.0")])
    up = project.up("t")
    assert up.ok, up.output
    journal = [(r, s) for r, s in _journal(project) if s[1] == "create"]
    op_validated = journal.index(("operator", ("validate", "create")))
    app_started = journal.index(("widgets", ("pre_exec", "create")))
    assert op_validated < app_started, journal
    widget = client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
        "demo.helmlife.dev", "v1", ns, "widgets", "widgets")
    assert widget["spec"] == {"size": 3}

    # Destroy in reverse: the app (and its Widget) first, so the operator's CRDs can go.
    project.clear_journal()
    down = project.destroy("t")
    assert down.ok, down.output
    # The journal records the dynamic steps only; widgets' pre_exec is deleted after its Release
    # (the Release depends on it), so it bounds the app's uninstall.
    deleted = [(r, s) for r, s in _journal(project) if s[1] == "delete"]
    app_gone = deleted.index(("widgets", ("pre_exec", "delete")))
    assert app_gone < deleted.index(("operator", ("validate", "delete"))), deleted
    assert app_gone < deleted.index(("operator", ("pre_exec", "delete"))), deleted
    assert cluster.release_secrets(ns, "widgets") == [] and cluster.release_secrets(ns, "operator") == []
    assert "widgets.demo.helmlife.dev" not in cluster.crd_names()


@pytest.mark.parametrize(("charts", "expected"), [
    ([("app", ["operatr"]), ("operator", [])], ["chart 'app'", "depends_on: 'operatr' is not a chart of this stack"]),
    ([("app", ["operator"]), ("operator", ["app"])], ["depends_on forms a cycle", "'app'", "'operator'"]),
], ids=["unknown", "cycle"])
def test_bad_depends_on_fails_at_preview(project: Project, cluster: Cluster, charts, expected) -> None:
    project.write_stack("t", [chart(n, project.namespace, depends_on=deps) for n, deps in charts])
    preview = project.preview("t")
    assert not preview.ok
    assert "stack 't'" in preview.output and all(e in preview.output for e in expected), preview.output


def _journal(project: Project) -> list[tuple[str, tuple[str, str]]]:
    """(release, (step, op)) in the order the providers ran them."""
    rows = [json.loads(line) for line in project.journal.read_text().splitlines() if line.strip()]
    return [(r["release"], (r["step"], r["op"])) for r in rows]
