"""Rendered Kubernetes objects as a map the engine can diff, with every secret masked.

A release's manifest becomes `{"Kind/namespace/name": object}`, so `pulumi preview --diff`
shows objects added, removed and the exact fields changed, in the stable order of the keys.

Masking: the data of `Secret` objects and every string that contains a value marked secret
are replaced by a marker, `[secret #N]`. The marker says nothing about the value; it changes
(N+1) only when the value differs from the reference (what Helm has deployed), so a changed
secret shows as changed and an unchanged one shows no difference, preview after preview.
Only masked maps are ever stored, shown or posted.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
from typing import Any, Iterable, Iterator

import yaml

from . import helm_yaml
from .canonical import whole_numbers

Objects = dict[str, dict[str, Any]]
MARKER = re.compile(r"^\[secret #(\d+)\]$")
MIN_SECRET_LENGTH = 4  # shorter secret values would mask half the manifest ("true", "80")
CLUSTER_SCOPED = frozenset({
    "APIService", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CustomResourceDefinition",
    "IngressClass", "MutatingWebhookConfiguration", "Namespace", "PersistentVolume", "PriorityClass",
    "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment",
})


def key(obj: dict[str, Any], default_namespace: str) -> str:
    kind, meta = obj.get("kind", "?"), obj.get("metadata") or {}
    if kind in CLUSTER_SCOPED:
        return f"{kind}/{meta.get('name')}"
    return f"{kind}/{meta.get('namespace') or default_namespace}/{meta.get('name')}"


def objects(manifest: str, default_namespace: str) -> Objects:
    """The objects of a rendered manifest (Helm's `---`-separated YAML, read as Helm reads it), by key."""
    return {key(doc, default_namespace): doc for doc in helm_yaml.load_all(manifest or "")
            if isinstance(doc, dict) and doc.get("kind") and (doc.get("metadata") or {}).get("name")}


def secret_strings(values: Any) -> list[str]:
    """Every scalar in a (nested) values document, as the strings a template could print."""
    return [str(v) for _, v in _leaves(values) if v is not None and len(str(v)) >= MIN_SECRET_LENGTH]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _sensitive(obj: dict[str, Any], path: tuple[Any, ...], leaf: Any, secrets: Iterable[str]) -> bool:
    if obj.get("kind") == "Secret" and path and path[0] in ("data", "stringData"):
        return True
    return isinstance(leaf, str) and any(s in leaf for s in secrets)


def _next_marker(previous: Any) -> str:
    m = MARKER.match(previous) if isinstance(previous, str) else None
    return f"[secret #{int(m.group(1)) + 1 if m else 1}]"


def mask(raw: Objects, secrets: Iterable[str], reference_raw: Objects | None = None,
         reference_masked: Objects | None = None) -> Objects:
    """`raw` with every sensitive leaf replaced by a marker.

    A leaf equal to the same leaf of `reference_raw` keeps the marker `reference_masked` has
    there (so nothing changes between previews); a leaf that differs gets the next marker.
    """
    secrets = [s for s in secrets if s]
    reference_raw, reference_masked = reference_raw or {}, reference_masked or {}
    masked: Objects = {}
    for k, obj in raw.items():
        masked_obj = copy.deepcopy(obj)
        before, shown = reference_raw.get(k), reference_masked.get(k)
        for path, leaf in _leaves(obj):
            old = _get(before, path) if before is not None else None
            if not (_sensitive(obj, path, leaf, secrets) or _sensitive(obj, path, old, secrets)):
                continue
            previous = _get(shown, path) if shown is not None else None
            same = before is not None and old == leaf and isinstance(previous, str) and MARKER.match(previous)
            _set(masked_obj, path, previous if same else _next_marker(previous))
        masked[k] = masked_obj
    return masked


def sorted_keys(keys: Iterable[str]) -> list[str]:
    """Kind, then namespace, then name: the order reviewers read a change in."""
    return sorted(keys, key=lambda k: k.split("/"))


def changes(old: Objects, new: Objects) -> list[tuple[str, str]]:
    """(sign, key) for every object added (+), removed (-) or changed (~), in stable order."""
    out = []
    for k in sorted_keys(set(old) | set(new)):
        if k not in old:
            out.append(("+", k))
        elif k not in new:
            out.append(("-", k))
        elif old[k] != new[k]:
            out.append(("~", k))
    return out


def unified(old: dict[str, Any] | None, new: dict[str, Any] | None, name: str) -> str:
    """A unified diff of one object's YAML (fields in a fixed order)."""
    a = yaml.safe_dump(old, sort_keys=True).splitlines() if old is not None else []
    b = yaml.safe_dump(new, sort_keys=True).splitlines() if new is not None else []
    return "\n".join(difflib.unified_diff(a, b, f"a/{name}", f"b/{name}", n=2, lineterm=""))


SHOWN_CHARS = 120  # a changed value longer than this is cut in `field_changes` (a whole config file)


def _shown(value: Any) -> str:
    value = whole_numbers(value)  # state gives back every number as a float: `replicas: 1`, not 1.0
    text = "(none)" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"… ({len(text)} chars)"


def _path(parts: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def field_changes(old: Objects, new: Objects) -> dict[str, Any]:
    """What a reviewer reads: each object added or removed, and for each changed object only its
    changed fields, `"old → new"`, by kind/namespace/name. Objects are masked already, so a
    changed secret reads `[secret #1] → [secret #2]`."""
    out: dict[str, Any] = {}
    for sign, k in changes(old, new):
        if sign != "~":
            out[k] = "added" if sign == "+" else "removed"
            continue
        before, after = dict(_leaves(old[k])), dict(_leaves(new[k]))
        out[k] = {_path(p): f"{_shown(before.get(p))} → {_shown(after.get(p))}"
                  for p in sorted(set(before) | set(after), key=str) if before.get(p) != after.get(p)}
    return out
