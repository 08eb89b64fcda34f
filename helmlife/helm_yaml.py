"""YAML read as Helm reads it, for the chart files helm applies (CRDs, rendered manifests).

Helm parses manifests with sigs.k8s.io/yaml, which is go-yaml v2: YAML 1.1 scalars, except
that a plain `=` is the string "=" (PyYAML's safe loader resolves it to YAML 1.1's `value`
type and then has no constructor for it: real CRDs list `- =` among their operators) and
timestamps stay strings (go-yaml hands them to `interface{}` as text; the API server gets
JSON). So this is PyYAML's safe loader (libyaml's when installed: large CRDs parse ten times
faster) with those implicit types taken out of its resolver, nothing hand-parsed.
"""
from __future__ import annotations

from typing import Any, Iterator

import yaml

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]
_NOT_IN_GO_YAML = {"tag:yaml.org,2002:value", "tag:yaml.org,2002:yaml", "tag:yaml.org,2002:timestamp"}

YAMLError = yaml.YAMLError


class HelmLoader(_BASE):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader resolving plain scalars the way go-yaml v2 does."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_IN_GO_YAML]
        for first, resolvers in _BASE.yaml_implicit_resolvers.items()
    }


def load_all(text: str | bytes) -> Iterator[Any]:
    """Every document of a multi-document stream (empty documents as None, as PyYAML gives them)."""
    return yaml.load_all(text, Loader=HelmLoader)  # noqa: S506 - a safe loader


def load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=HelmLoader)  # noqa: S506 - a safe loader
