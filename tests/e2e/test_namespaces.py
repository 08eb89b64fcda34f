"""What a release leaves behind at destroy: teardown hooks, and the namespace helmlife made."""
from __future__ import annotations

import pytest
from kubernetes import client

from helmlife.kube import read_or_none
from helmlife.namespaces import CREATED_BY
from tests.e2e.conftest import Cluster, Project, chart

pytestmark = pytest.mark.e2e


def namespace(cluster: Cluster, name: str) -> client.V1Namespace | None:
    return read_or_none(client.CoreV1Api(cluster.api).read_namespace, name)


def test_teardown_undoes_pre_exec_and_the_created_empty_namespace_goes(project: Project, cluster: Cluster) -> None:
    ns = project.namespace
    assert namespace(cluster, ns) is None
    project.write_stack("t", [chart("tidy", ns, delete_namespace="if_created_and_empty")])
    assert (r := project.up("t")).ok, r.output
    assert cluster.configmap(ns, "tidy-side-object").data == {"made_by": "pre_exec"}
    assert namespace(cluster, ns).metadata.annotations[CREATED_BY] == "tidy"  # made by pre_exec, recorded

    down = project.destroy("t")
    assert down.ok, down.output
    assert "teardown removed tidy-side-object" in down.output
    # Only empty because teardown removed what pre_exec made (the release's objects went with helm).
    assert f"deleted namespace {ns} (created by helmlife for tidy, empty)" in down.output
    assert namespace(cluster, ns) is None


def test_namespace_kept_when_it_was_there_before_or_is_not_empty(project: Project, cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api)
    theirs, busy = project.namespace, f"{project.namespace}-busy"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=theirs)))
    try:
        project.write_stack("t", [chart("pre-existing", theirs, delete_namespace="if_created_and_empty"),
                                  chart("not-empty", busy, delete_namespace="if_created_and_empty")])
        assert (r := project.up("t")).ok, r.output
        core.create_namespaced_config_map(busy, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="user-data")))

        down = project.destroy("t")
        assert down.ok, down.output
        assert cluster.release_secrets(theirs, "pre-existing") == [] and cluster.release_secrets(busy, "not-empty") == []
        assert f"kept namespace {theirs}: helmlife did not create it for pre-existing" in down.output
        assert f"kept namespace {busy}: it still holds ConfigMap/user-data" in down.output
        assert namespace(cluster, theirs) is not None and namespace(cluster, theirs).status.phase == "Active"
        assert namespace(cluster, busy).status.phase == "Active"
        assert cluster.configmap(busy, "user-data") is not None
    finally:
        core.delete_namespace(busy)
