"""Merging chart values the way Helm does: values files, then inline YAML, then `--set` pairs.

Doing the merge here (instead of passing several `-f` flags to helm) gives one document that
pre_exec's diff can compare and the Release gets as its `values`, and lets secret values stay
separate, encrypted leaves.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from pulumi import Output

from .spec import ChartSpec, ValueSetting


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge key by key; any other value (lists included) replaces, as in Helm."""
    out = _copy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = _copy(value)
    return out


def _copy(value: Any) -> Any:
    """A deep copy of values data; an Output (a secret value from config) is not data and stays itself."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value if isinstance(value, Output) else copy.deepcopy(value)


def set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    node = target
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def load_yaml_document(text: str, origin: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"{origin} is not valid YAML: {err}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError(f"{origin} must be a YAML mapping of values, got {type(doc).__name__}")
    return doc


def resolve_path(path: str, base_dir: Path | None) -> Path:
    return Path(path) if base_dir is None else base_dir / path  # an absolute path stays itself


def merge_values(files: Iterable[tuple[str, str]], inline: Iterable[str],
                 settings: Iterable[ValueSetting]) -> dict[str, Any]:
    """Merge (origin, text) files, inline YAML strings and dotted settings, later wins."""
    merged: dict[str, Any] = {}
    for origin, text in files:
        merged = deep_merge(merged, load_yaml_document(text, origin))
    for i, text in enumerate(inline):
        merged = deep_merge(merged, load_yaml_document(text, f"yaml_files_content[{i}]"))
    for setting in settings:
        set_dotted(merged, setting.key, setting.value)
    return merged


def read_values_files(spec: ChartSpec, base_dir: Path | None) -> list[tuple[str, str]]:
    out = []
    for i, path in enumerate(spec.values_files):
        resolved = resolve_path(path, base_dir)
        try:
            out.append((f"values_files[{i}] ({path})", resolved.read_text()))
        except OSError as err:
            raise ValueError(f"values_files[{i}]: cannot read {path!r} ({err.strerror}); "
                             "fix the path or remove the entry") from None
    return out


def split_values(spec: ChartSpec, base_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, secret) values: secret settings are kept apart so they can be encrypted in state."""
    public = merge_values(read_values_files(spec, base_dir), spec.yaml_files_content,
                          [v for v in spec.values if not v.secret])
    secret: dict[str, Any] = {}
    for setting in (v for v in spec.values if v.secret):
        set_dotted(secret, setting.key, setting.value)
    return public, secret
