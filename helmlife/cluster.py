"""Which cluster a chart deploys to: the `kubernetes.Provider` its Release uses, and the same
configuration for the lifecycle steps around it.

A `LifecycleChart` takes the cluster the way every pulumi-kubernetes resource does: the provider
in `opts=ResourceOptions(provider=...)` / `providers=[...]` (or a parent's), else the default
kubernetes provider (stack config `kubernetes:kubeconfig`/`kubernetes:context`, else KUBECONFIG).
`kubeconfig=`/`kube_context=` are a shorthand that makes one provider per cluster.

The steps are dynamic resources, which run in Pulumi's Python provider process, not in the
kubernetes plugin. They run in one explicit `helmlife-cluster` provider per kubernetes provider,
configured with that provider's own kubeconfig and context: recorded once per cluster (secret),
never copied into a step, and what `pulumi destroy` uses without any file on disk.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import kube

# The steps provider's configuration keys: a namespace no project's own config uses.
STEPS_CONFIG = {"kubeconfig": "helmlife-cluster:kubeconfig", "kube_context": "helmlife-cluster:kube_context"}
RELEASE_TOKEN = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one cluster: the kubernetes provider (None: the default one), the kubeconfig
    it was given (content or a path, as `kubernetes.Provider` takes it; None: KUBECONFIG or
    ~/.kube/config) and the context (None: the kubeconfig's current one)."""

    provider: k8s.Provider | None
    kubeconfig: pulumi.Input[str] | None
    context: pulumi.Input[str] | None

    def known(self) -> tuple[str, str | None] | None:
        """(kubeconfig content, context) when the program can read them now (not an Output):
        what the program itself asks the cluster at preview (an existing release to adopt)."""
        if isinstance(self.kubeconfig, pulumi.Output) or isinstance(self.context, pulumi.Output):
            return None
        try:
            return kube.kubeconfig_content(self.kubeconfig), self.context  # type: ignore[arg-type]
        except (OSError, ValueError):
            return None


class _Registry:
    """Providers made by this program run, so charts on one cluster share them."""

    def __init__(self) -> None:
        self.monitor: int | None = None
        self.kubernetes: dict[tuple[Any, str | None], k8s.Provider] = {}
        self.steps: dict[int, pulumi.ProviderResource] = {}
        self.access: dict[int, ClusterAccess] = {}

    def current(self) -> "_Registry":
        monitor = id(pulumi.runtime.settings.get_monitor())  # a new program run (or mock test)
        if monitor != self.monitor:
            self.__init__()  # type: ignore[misc]
            self.monitor = monitor
        return self


_registry = _Registry()


def kubernetes_provider(kubeconfig: pulumi.Input[str] | None, context: str | None = None) -> k8s.Provider:
    """One kubernetes.Provider per distinct kubeconfig and context in this program run
    (`cluster`, `cluster-2`, ...), its kubeconfig a secret (None: KUBECONFIG, as the provider reads it)."""
    reg = _registry.current()
    key = (kubeconfig if isinstance(kubeconfig, str) else id(kubeconfig), context)
    if key not in reg.kubernetes:
        name = "cluster" + (f"-{len(reg.kubernetes) + 1}" if reg.kubernetes else "")
        provider = k8s.Provider(name, kubeconfig=pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
                                context=context)
        reg.kubernetes[key] = provider
        reg.access[id(provider)] = ClusterAccess(provider, kubeconfig, context)
    return reg.kubernetes[key]


def access_of(resource: pulumi.Resource) -> ClusterAccess:
    """The cluster a child Release of `resource` would deploy to (its provider bag, else the default)."""
    provider = resource.get_provider(RELEASE_TOKEN)
    if provider is None:
        config = pulumi.Config("kubernetes")
        return ClusterAccess(None, config.get("kubeconfig") or os.environ.get("KUBECONFIG"), config.get("context"))
    reg = _registry.current()
    if id(provider) not in reg.access:
        # A provider the user built: its configuration, as the engine recorded it.
        reg.access[id(provider)] = ClusterAccess(provider, _set_or_empty(provider.__dict__.get("kubeconfig")),
                                                 _set_or_empty(provider.__dict__.get("context")))
    return reg.access[id(provider)]


def _set_or_empty(value: Any) -> pulumi.Input[str] | None:
    """A provider property as the steps' configuration. One the user did not set is absent from
    what the engine returns, which the SDK resolves as unknown during a preview: that would make
    the steps' provider unconfigurable at preview. Unset (or not known yet) reads as empty, which
    the steps take as the kubeconfig's defaults, as the kubernetes provider does."""
    if not isinstance(value, pulumi.Output):
        return value

    async def resolved() -> str:
        return (await value.future() or "") if await value.is_known() else ""

    return pulumi.Output.from_input(resolved())  # the kubeconfig is made secret where it is recorded


def steps_provider(access: ClusterAccess) -> pulumi.ProviderResource:
    """The `helmlife-cluster` provider the steps of every chart on this cluster run in."""
    reg = _registry.current()
    key = id(access.provider)
    if key not in reg.steps:
        name = "helmlife-cluster" + (f"-{len(reg.steps) + 1}" if reg.steps else "")
        config = {STEPS_CONFIG["kubeconfig"]: pulumi.Output.secret(access.kubeconfig or ""),
                  STEPS_CONFIG["kube_context"]: access.context or ""}
        reg.steps[key] = pulumi.ProviderResource("pulumi-python", name, config)
    return reg.steps[key]
