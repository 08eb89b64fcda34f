"""Values merge like Helm: files, then inline YAML, then --set style pairs."""
from __future__ import annotations

from pathlib import Path

import pytest

from helmlife.spec import parse_spec
from helmlife.values import merge_values, split_values


def test_merge_order(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("image: {tag: '1', repository: r}\nreplicas: 1\nlist: [1, 2]\n")
    (tmp_path / "b.yaml").write_text("image: {tag: '2'}\n")
    spec = parse_spec({
        "name": "x", "chart": "c",
        "values_files": ["a.yaml", "b.yaml"],
        "yaml_files_content": ["replicas: 2\nlist: [3]\n", "image: {pullPolicy: Always}"],
        "values": [{"key": "image.tag", "value": "3"}, {"key": "deep.new.key", "value": True},
                   {"key": "token", "value": "s", "secret": True}],
    })
    public, secret = split_values(spec, tmp_path)
    assert public == {
        "image": {"tag": "3", "repository": "r", "pullPolicy": "Always"},
        "replicas": 2,
        "list": [3],
        "deep": {"new": {"key": True}},
    }
    assert secret == {"token": "s"}


def test_missing_values_file_names_field(tmp_path: Path) -> None:
    spec = parse_spec({"name": "x", "chart": "c", "values_files": ["nope.yaml"]})
    with pytest.raises(ValueError, match=r"values_files\[0\].*nope.yaml"):
        split_values(spec, tmp_path)


def test_inline_yaml_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match=r"yaml_files_content\[0\]"):
        merge_values([], ["- a list"], [])
    with pytest.raises(ValueError, match=r"yaml_files_content\[0\] is not valid YAML"):
        merge_values([], ["a: [unclosed"], [])


def test_set_replaces_scalar_parent() -> None:
    assert merge_values([], ["a: 1"], parse_spec({"name": "x", "chart": "c", "values": [{"key": "a.b", "value": 2}]}).values) == {"a": {"b": 2}}
