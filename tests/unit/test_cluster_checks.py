"""The pieces of issue 18's preview checks that need no cluster: which API versions a chart's
own CRDs add to the render, what `helm template` is asked for, which CRDs an uninstall keeps,
and how an API server's refusal and a wait's non-pod objects are told."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from helmlife import capabilities, crds, helm, helm_yaml, kube
from helmlife.actions import dry_run
from helmlife.actions.uninstall import kept_crds

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = ROOT / "tests" / "e2e" / "charts" / "hooked-operator"


def test_the_charts_own_crds_add_their_api_versions() -> None:
    docs = [c.doc for c in crds.chart_crds(OPERATOR, {})]
    assert capabilities.crd_api_versions(docs) == ["hooked.helmlife.dev/v1", "hooked.helmlife.dev/v1/Engine"]
    unserved = {"spec": {"group": "g.io", "names": {"kind": "K"}, "versions": [{"name": "v1", "served": False}]}}
    assert capabilities.crd_api_versions([unserved]) == []


def test_template_renders_for_the_given_cluster_without_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    monkeypatch.setattr(helm.Helm, "run", lambda self, *args, **kw: seen.append(args) or "")
    caps = capabilities.Capabilities("v1.34.4", ("apps/v1", "apps/v1/Deployment"))
    helm.Helm("kubeconfig").template("r", "ns", helm.ChartRef(path="/c"), [], caps.helm_args())
    args = seen[0]
    assert "--no-hooks" in args
    assert args[args.index("--kube-version") + 1] == "v1.34.4"
    assert args[args.index("--api-versions") + 1] == "apps/v1,apps/v1/Deployment"


MANIFEST = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.x.io
  annotations:
    helm.sh/resource-policy: keep
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gone.x.io
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept-too
  annotations:
    helm.sh/resource-policy: keep
"""


def test_only_crds_annotated_keep_are_kept_crds() -> None:
    assert kept_crds(helm_yaml.load_all(MANIFEST)) == ["certificates.x.io"]
    assert kept_crds([]) == []


def test_an_api_refusal_names_the_field() -> None:
    body = {"kind": "Status", "message": 'Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1',
            "details": {"causes": [{"field": "spec.replicas", "message": "Invalid value: -1"}]}}
    err = client.ApiException(status=422, reason="Unprocessable Entity")
    err.body = json.dumps(body)
    assert dry_run._reason(err) == body["message"]  # the field is named already
    body["message"] = 'Deployment.apps "x" is invalid'
    err.body = json.dumps(body)
    assert dry_run._reason(err) == 'Deployment.apps "x" is invalid (spec.replicas: Invalid value: -1)'
    plain = client.ApiException(status=400, reason="Bad Request")
    plain.body = json.dumps({"message": "json: cannot unmarshal string into Go struct field .spec.replicas"})
    assert dry_run._reason(plain) == "json: cannot unmarshal string into Go struct field .spec.replicas"


def _meta(name: str, **annotations: str) -> Any:
    return SimpleNamespace(name=name, annotations=annotations)


def test_a_wait_names_services_claims_and_hook_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = {kube.RELEASE_NAME_ANNOTATION: "edge", kube.RELEASE_NAMESPACE_ANNOTATION: "web"}
    services = [
        SimpleNamespace(metadata=_meta("lb", **ours), spec=SimpleNamespace(type="LoadBalancer", cluster_ip="10.0.0.1",
                                                                         external_i_ps=None),
                        status=SimpleNamespace(load_balancer=SimpleNamespace(ingress=None))),
        SimpleNamespace(metadata=_meta("other"), spec=SimpleNamespace(type="LoadBalancer", cluster_ip="10.0.0.2",
                                                                      external_i_ps=None),
                        status=SimpleNamespace(load_balancer=SimpleNamespace(ingress=None))),
        SimpleNamespace(metadata=_meta("ok", **ours), spec=SimpleNamespace(type="ClusterIP", cluster_ip="10.0.0.3",
                                                                         external_i_ps=None),
                        status=SimpleNamespace(load_balancer=None)),
    ]
    claims = [SimpleNamespace(metadata=_meta("data", **ours), status=SimpleNamespace(phase="Pending"))]
    job_selector = client.V1LabelSelector(match_labels={"batch.kubernetes.io/controller-uid": "u1"})
    jobs = [SimpleNamespace(metadata=_meta("migrate", **{"helm.sh/hook": "pre-install"}),
                            spec=SimpleNamespace(selector=job_selector),
                            status=SimpleNamespace(conditions=None, active=1, succeeded=None, failed=None)),
            SimpleNamespace(metadata=_meta("plain"), spec=SimpleNamespace(selector=job_selector),
                            status=SimpleNamespace(conditions=None, active=1, succeeded=None, failed=None))]
    pending = client.V1Pod(metadata=client.V1ObjectMeta(name="migrate-x1"), status=client.V1PodStatus(
        phase="Pending", conditions=[client.V1PodCondition(type="PodScheduled", status="False", reason="Unschedulable",
                                                           message="0/2 nodes are available")]))
    asked: list[str] = []

    def pods(ns: str, label_selector: str) -> SimpleNamespace:
        asked.append(label_selector)
        return SimpleNamespace(items=[pending])

    core = SimpleNamespace(list_namespaced_service=lambda ns: SimpleNamespace(items=services),
                           list_namespaced_persistent_volume_claim=lambda ns: SimpleNamespace(items=claims),
                           list_namespaced_pod=pods)
    monkeypatch.setattr(client, "CoreV1Api", lambda api: core)
    monkeypatch.setattr(client, "BatchV1Api", lambda api: SimpleNamespace(
        list_namespaced_job=lambda ns: SimpleNamespace(items=jobs)))
    assert kube.unready_others(None, "web", "edge") == [
        "Service/web/lb: no load-balancer address",
        "PersistentVolumeClaim/web/data: not bound (Pending)",
        "Job/web/migrate: not complete (hook; 1 active, 0 succeeded, 0 failed)",
        "  pod/migrate-x1: phase=Pending; PodScheduled=Unschedulable 0/2 nodes are available",
    ]
    assert asked == ["batch.kubernetes.io/controller-uid=u1"]  # the hook Job's own pods
