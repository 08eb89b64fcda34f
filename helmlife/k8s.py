"""The kubernetes client package, imported when first used.

`import kubernetes` takes a second or more (its `__init__` builds every API and model class),
and the Pulumi program needs none of it unless a chart has `action: destroy` at preview: the
steps talk to the cluster, in the provider's process. The program's start delays everything
else in `pulumi up` (the engine starts the provider only when the program registers its first
step), so helmlife's modules take `client`, `config` and `dynamic` from here: the real
modules, loaded on the first attribute read. (`importlib.util.LazyLoader` cannot do this:
importing any `kubernetes.*` submodule runs the package `__init__`, which imports them all.)
"""
from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any


class _OnFirstUse(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        # Every read goes to the real module (a dict lookup in sys.modules once imported), never
        # a copy of it: a copy would hide later changes to the module, as pytest's monkeypatch makes.
        return getattr(importlib.import_module(self.__name__), attr)


if TYPE_CHECKING:
    from kubernetes import client, config, dynamic
else:
    client = _OnFirstUse("kubernetes.client")
    config = _OnFirstUse("kubernetes.config")
    dynamic = _OnFirstUse("kubernetes.dynamic")
