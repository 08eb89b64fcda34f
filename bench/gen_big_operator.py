"""Write charts/big-operator/: an operator chart with ten large CRDs, like a real community one.

Real operator charts (prometheus-operator, cert-manager, Strimzi) ship CRDs whose
openAPIV3Schemas embed pod templates, affinity rules and volume sources with long
descriptions: tens of kilobytes each. This generator builds schemas of that shape,
deterministically, so the benchmark (bench/crd_operator.py) and the end-to-end tests work
on a chart with the cost profile of the real thing without fetching one. One enum carries an
unquoted `- =`, a YAML 1.1 token PyYAML's safe loader rejects and Helm accepts.

    python bench/gen_big_operator.py     # rewrites charts/big-operator/crds/
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "charts" / "big-operator"
GROUP = "big.helmlife.dev"
KINDS = ["Cluster", "Node", "Backup", "Restore", "Pooler", "Database", "Publication", "Subscription",
         "ScheduledBackup", "ImageCatalog"]


def describe(what: str, why: str) -> str:
    return f"{what} {why}"


def string(what: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": describe(what, "is a string."), **extra}


def integer(what: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "format": "int32", "description": describe(what, "is an integer."), **extra}


def obj(what: str, props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "description": describe(what, "is an object."), "properties": props}
    if required:
        out["required"] = required
    return out


def array(what: str, items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "description": describe(what, "is a list."), "items": items}


def quantity(what: str) -> dict[str, Any]:
    return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
            "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
            "description": describe(what, "is a resource quantity.")}


def selector(what: str) -> dict[str, Any]:
    return obj(what, {
        "matchExpressions": array("matchExpressions", obj("requirement", {
            "key": string("key"),
            "operator": string("operator", enum=["In", "NotIn", "Exists", "DoesNotExist", "=", "==", "!="]),
            "values": array("values", {"type": "string"}),
        }, ["key", "operator"])),
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": describe("matchLabels", "is a map.")},
    })


def resources() -> dict[str, Any]:
    return obj("resources", {
        "claims": array("claims", obj("claim", {"name": string("name")}, ["name"])),
        "limits": {"type": "object", "additionalProperties": quantity("limit"), "description": describe("limits", "is a map.")},
        "requests": {"type": "object", "additionalProperties": quantity("request"), "description": describe("requests", "is a map.")},
    })


def probe(what: str) -> dict[str, Any]:
    return obj(what, {
        "exec": obj("exec", {"command": array("command", {"type": "string"})}),
        "failureThreshold": integer("failureThreshold"),
        "grpc": obj("grpc", {"port": integer("port"), "service": string("service")}, ["port"]),
        "httpGet": obj("httpGet", {
            "host": string("host"), "path": string("path"), "port": quantity("port"),
            "scheme": string("scheme", enum=["HTTP", "HTTPS"]),
            "httpHeaders": array("httpHeaders", obj("header", {"name": string("name"), "value": string("value")},
                                                    ["name", "value"])),
        }, ["port"]),
        "initialDelaySeconds": integer("initialDelaySeconds"), "periodSeconds": integer("periodSeconds"),
        "successThreshold": integer("successThreshold"), "timeoutSeconds": integer("timeoutSeconds"),
        "tcpSocket": obj("tcpSocket", {"host": string("host"), "port": quantity("port")}, ["port"]),
    })


def env_var() -> dict[str, Any]:
    key_ref = obj("keyRef", {"key": string("key"), "name": string("name"), "optional": {"type": "boolean"}}, ["key"])
    return obj("env var", {
        "name": string("name"), "value": string("value"),
        "valueFrom": obj("valueFrom", {
            "configMapKeyRef": key_ref, "secretKeyRef": key_ref,
            "fieldRef": obj("fieldRef", {"apiVersion": string("apiVersion"), "fieldPath": string("fieldPath")}, ["fieldPath"]),
            "resourceFieldRef": obj("resourceFieldRef", {"containerName": string("containerName"),
                                                         "divisor": quantity("divisor"), "resource": string("resource")},
                                    ["resource"]),
        }),
    }, ["name"])


def container(what: str) -> dict[str, Any]:
    return obj(what, {
        "name": string("name"), "image": string("image"),
        "imagePullPolicy": string("imagePullPolicy", enum=["Always", "IfNotPresent", "Never"]),
        "args": array("args", {"type": "string"}), "command": array("command", {"type": "string"}),
        "env": array("env", env_var()),
        "ports": array("ports", obj("port", {"containerPort": integer("containerPort"), "name": string("name"),
                                            "protocol": string("protocol", enum=["TCP", "UDP", "SCTP"])},
                                   ["containerPort"])),
        "resources": resources(), "readinessProbe": probe("readinessProbe"),
        "securityContext": obj("securityContext", {
            "allowPrivilegeEscalation": {"type": "boolean"}, "privileged": {"type": "boolean"},
            "readOnlyRootFilesystem": {"type": "boolean"}, "runAsGroup": integer("runAsGroup"),
            "runAsNonRoot": {"type": "boolean"}, "runAsUser": integer("runAsUser"),
            "capabilities": obj("capabilities", {"add": array("add", {"type": "string"}),
                                                 "drop": array("drop", {"type": "string"})}),
            "seccompProfile": obj("seccompProfile", {"localhostProfile": string("localhostProfile"),
                                                     "type": string("type")}, ["type"]),
        }),
        "volumeMounts": array("volumeMounts", obj("mount", {"mountPath": string("mountPath"), "name": string("name"),
                                                           "readOnly": {"type": "boolean"}, "subPath": string("subPath")},
                                                 ["mountPath", "name"])),
    }, ["name"])


def affinity() -> dict[str, Any]:
    term = obj("term", {"labelSelector": selector("labelSelector"), "namespaceSelector": selector("namespaceSelector"),
                        "topologyKey": string("topologyKey")}, ["topologyKey"])
    weighted = obj("weighted", {"podAffinityTerm": term, "weight": integer("weight")}, ["podAffinityTerm", "weight"])
    return obj("affinity", {
        "nodeAffinity": obj("nodeAffinity", {
            "requiredDuringSchedulingIgnoredDuringExecution": obj("required", {
                "nodeSelectorTerms": array("nodeSelectorTerms", selector("nodeSelectorTerm"))}, ["nodeSelectorTerms"]),
        }),
        "podAffinity": obj("podAffinity", {"preferredDuringSchedulingIgnoredDuringExecution": array("preferred", weighted),
                                           "requiredDuringSchedulingIgnoredDuringExecution": array("required", term)}),
        "podAntiAffinity": obj("podAntiAffinity", {"preferredDuringSchedulingIgnoredDuringExecution": array("preferred", weighted),
                                                   "requiredDuringSchedulingIgnoredDuringExecution": array("required", term)}),
    })


def volume() -> dict[str, Any]:
    items = array("items", obj("item", {"key": string("key"), "path": string("path"), "mode": integer("mode")}, ["key", "path"]))
    return obj("volume", {
        "name": string("name"),
        "configMap": obj("configMap", {"name": string("name"), "items": items, "defaultMode": integer("defaultMode")}),
        "secret": obj("secret", {"secretName": string("secretName"), "items": items, "defaultMode": integer("defaultMode")}),
        "emptyDir": obj("emptyDir", {"medium": string("medium"), "sizeLimit": quantity("sizeLimit")}),
        "persistentVolumeClaim": obj("pvc", {"claimName": string("claimName"), "readOnly": {"type": "boolean"}}, ["claimName"]),
    }, ["name"])


def pod_template() -> dict[str, Any]:
    return obj("podTemplate", {
        "containers": array("containers", container("container")),
        "affinity": affinity(),
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
        "tolerations": array("tolerations", obj("toleration", {
            "effect": string("effect"), "key": string("key"), "operator": string("operator", enum=["Exists", "Equal"]),
            "tolerationSeconds": {"type": "integer", "format": "int64"}, "value": string("value")})),
        "volumes": array("volumes", volume()),
        "serviceAccountName": string("serviceAccountName"),
        "priorityClassName": string("priorityClassName"),
    })


def crd(kind: str, index: int) -> dict[str, Any]:
    plural = kind.lower() + ("es" if kind.endswith("s") else "s")
    spec = obj(f"{kind} spec", {
        "instances": integer("instances", minimum=1),
        "imageName": string("imageName"),
        "template": pod_template(),
        "storage": obj("storage", {"size": quantity("size"), "storageClass": string("storageClass"),
                                   "selector": selector("selector")}),
        "monitoring": obj("monitoring", {"enabled": {"type": "boolean"}, "podMonitorLabels":
                                         {"type": "object", "additionalProperties": {"type": "string"}}}),
    })
    if index % 3 == 0:
        spec["properties"]["volumeSnapshots"] = array("volumeSnapshots", volume())
    status = obj("status", {
        "phase": string("phase"), "readyInstances": integer("readyInstances"),
        "conditions": array("conditions", obj("condition", {
            "lastTransitionTime": string("lastTransitionTime", format="date-time"), "message": string("message"),
            "reason": string("reason"), "status": string("status", enum=["True", "False", "Unknown"]),
            "type": string("type")}, ["status", "type"])),
    })
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": {"app.kubernetes.io/name": "big-operator"}},
        "spec": {
            "group": GROUP, "scope": "Namespaced",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                          "schema": {"openAPIV3Schema": obj(kind, {
                              "apiVersion": string("apiVersion"), "kind": string("kind"),
                              "metadata": {"type": "object"}, "spec": spec, "status": status})}}],
        },
    }


def main() -> None:
    crds = CHART / "crds"
    crds.mkdir(parents=True, exist_ok=True)
    for old in crds.glob("*.yaml"):
        old.unlink()
    total = 0
    for i, kind in enumerate(KINDS):
        doc = crd(kind, i)
        text = yaml.safe_dump(doc, sort_keys=False, width=120)
        # As in real CRDs: operators written unquoted, `=` among them (YAML 1.1's "value" token).
        text = re.sub(r"^(\s*)- '='$", r"\1- =", text, flags=re.M)
        path = crds / f"{doc['metadata']['name']}.yaml"
        path.write_text(text)
        total += len(text)
    print(f"wrote {len(KINDS)} CRDs, {total // 1024} KiB, to {crds}")


if __name__ == "__main__":
    main()
