"""Generated invalid chart specs: every one refused at preview with its field named, none applied.

The property is checked twice: fast, against the stack parser and check_prerequisites'
checks on the running cluster (many examples); and through the real CLI, with hundreds of
schema-invalid charts in one stack (one `pulumi preview` names them all, as the program parses
the stack) and one preview per check-invalid chart (the engine stops at the first failed check).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes import client

from helmlife.stacks import StackConfigError, parse_stack_config
from helmlife.steps import pre_exec as check_prerequisites  # its check runs the prerequisites
from tests.e2e.conftest import ROOT, Cluster, Project
from tests.faults.conftest import pulumi
from tests.faults.invalid_specs import (CHECK_MUTATIONS, SCHEMA_MUTATIONS, Invalid, check_entry, check_invalid, generated,
                                        schema_entry, schema_invalid)

SCHEMA_CHARTS, CHECK_CHARTS = 220, 8  # the load: charts per stack in the CLI test
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"


def named(output: str, label: str, field: str) -> bool:
    """Does the error for chart `label` list `field` (as `  - field: ...`)?"""
    block = output.split(label, 1)[1].split("invalid chart spec for", 1)[0] if label in output else ""
    return re.search(rf"^\s+- {re.escape(field)}: ", block, re.MULTILINE) is not None


# --- fast: the same strategies against the parser and the checks ---------------------------------

@settings(max_examples=1500, deadline=None)
@given(st.integers(0, 999).flatmap(lambda i: schema_invalid(i, "ns")))
def test_schema_invalid_specs_are_refused_naming_the_field(bad: Invalid) -> None:
    with pytest.raises(StackConfigError) as err:
        parse_stack_config("t", {"charts": [bad.entry]})
    assert named(str(err.value), f"stack 't', chart {bad.name!r}:", bad.field), (bad, str(err.value))


@pytest.mark.e2e
@settings(max_examples=300, deadline=None)
@given(bad=st.integers(0, 999).flatmap(lambda i: check_invalid(i, "ns")))
def test_check_invalid_specs_are_refused_naming_the_field(bad: Invalid, cluster: Cluster) -> None:
    """On the running cluster: a namespace the strategy calls absent really is, and the check
    must find that out itself."""
    _, [spec] = parse_stack_config("t", {"charts": [bad.entry]})
    inputs = check_prerequisites.Inputs(spec=spec, kubeconfig=cluster.kubeconfig.read_text(), project_dir=str(ROOT))
    problems = check_prerequisites.check(inputs)
    assert any(p.startswith(f"{bad.field}:") or p.startswith(f"{bad.field} ") for p in problems), (bad, problems)


def test_a_namespace_that_exists_passes_the_check(cluster: Cluster) -> None:
    """The other half: the namespace check is not just a refusal of everything."""
    _, [spec] = parse_stack_config("t", {"charts": [{**check_entry(0, "ns", ("namespace", "")).entry,
                                                       "namespace": "default"}]})
    inputs = check_prerequisites.Inputs(spec=spec, kubeconfig=cluster.kubeconfig.read_text(), project_dir=str(ROOT))
    assert check_prerequisites.check(inputs) == []


# --- through the CLI: one stack per kind, one preview (and one up) each -----------------------------

def leaked(cluster: Cluster, prefix: str, names: set[str]) -> list[str]:
    """Namespaces under `prefix` and Helm releases named `names`: what the invalid specs must not make."""
    core = client.CoreV1Api(cluster.api)
    spaces = [n.metadata.name for n in core.list_namespace().items if n.metadata.name.startswith(prefix)]
    releases = [s.metadata.name for s in core.list_secret_for_all_namespaces(label_selector="owner=helm").items
                if s.metadata.labels.get("name") in names]
    return spaces + releases


@pytest.mark.e2e
def test_hundreds_of_invalid_specs_fail_preview_naming_each_field_and_nothing_reaches_the_cluster(
        project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    Path("/tmp/helmlife-pwned").unlink(missing_ok=True)  # so the check at the end can only see this run's
    schema = [schema_entry(i, ns, m) for i, m in enumerate(generated(SCHEMA_MUTATIONS, SCHEMA_CHARTS))]
    checks = [check_entry(SCHEMA_CHARTS + i, ns, m) for i, m in enumerate(generated(CHECK_MUTATIONS, CHECK_CHARTS))]
    project.write_stack("schema", [b.entry for b in schema])
    project.write_stack("checks", [b.entry for b in checks])

    preview = pulumi(project, "preview", "schema")  # every problem of every chart, at once
    assert not preview.ok
    missed = [b for b in schema if not named(preview.output, f"stack 'schema', chart {b.name!r}:", b.field)]
    assert missed == [], (missed[:5], preview.output[-3000:])

    # Pulumi stops a preview at the first resource whose check fails, so each chart of this kind
    # gets a preview of its own: every one must fail naming its field.
    missed = []
    for b in checks:
        project.write_stack("checks", [b.entry])
        preview = pulumi(project, "preview", "checks")
        if preview.ok or not re.search(rf"{b.name}: pre_exec: {re.escape(b.field)}[: ]", preview.output):
            missed.append((b, preview.output[-1500:]))
    assert missed == [], missed
    project.write_stack("checks", [b.entry for b in checks])

    for stack in ("schema", "checks"):
        assert not pulumi(project, "up", stack).ok
    assert leaked(cluster, ns, {b.name for b in schema + checks}) == []
    assert not Path("/tmp/helmlife-pwned").exists()


def test_the_base_entry_the_mutations_start_from_is_valid() -> None:
    from tests.faults.invalid_specs import _base
    _, specs = parse_stack_config("t", {"charts": [_base(i, "ns") for i in range(3)]})
    assert [s.name for s in specs] == ["bad-0", "bad-1", "bad-2"]
