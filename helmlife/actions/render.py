"""render: what Helm would apply for these inputs, without applying anything.

`helm upgrade --install --dry-run=server`: the release step's own command minus the apply,
so lookups and capabilities come from the live cluster and values.schema.json or template
errors surface at `pulumi preview`, naming the chart. A render is kept for the life of the
provider process (one `pulumi preview` or `up`), so each release renders at most once.

Renders run in the background (`start`): the engine calls every resource's `check` one after
another, never two at once, so a render that blocked check_prerequisites' check made the
charts render in a row (60 charts: 60 helm processes one by one before the first release
could start). check_prerequisites starts its chart's render and returns; the release step's
check, which needs the manifest, and check_prerequisites' own run, which must fail before any
step changes anything, wait for it.
"""
from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from .. import chart_source, kube
from ..canonical import canonical_json
from ..helm import HelmError

if TYPE_CHECKING:
    from ..steps.contract import ChartInputs

# What a render depends on (besides the cluster): a change to any of these means render again.
RENDER_INPUTS = ("spec.chart", "spec.name", "spec.namespace", "chart_version", "chart_digest", "values",
                 "secret_values")
RENDERS_AT_ONCE = 8  # helm processes rendering at once in the provider process
_renders: dict[str, Future[str]] = {}
_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=RENDERS_AT_ONCE, thread_name_prefix="helmlife-render")


CONFLICT = re.compile(r'(\w+) "([^"]+)" in namespace "([^"]*)" exists and cannot be imported into the current release')


def adopted_conflict(stderr: str, adopt: list[str], namespace: str) -> bool:
    """Helm refuses to install over a live object it does not own; pre_exec adopts the objects
    the spec lists before the install, so for those the render goes on without that check."""
    found = CONFLICT.search(stderr)
    if not found:
        return False
    kind, name, ns = found.groups()
    return any(kube.parse_ref(ref, namespace) == kube.ObjectRef(kind=kind, name=name, namespace=ns or namespace)
               for ref in adopt)


# When the dry run of the install cannot tell, `helm template --dry-run=server` renders the
# same objects: an object of a kind whose CRD the install itself creates first (crds/, or a
# template) cannot be built before it exists (an install of a kind nobody defines still fails,
# at `up`); and a release a dead helm left pending refuses every upgrade until the release
# step remediates it.
TEMPLATE_INSTEAD = ("resource mapping not found", "another operation (install/upgrade/rollback) is in progress")


class RenderError(ValueError):
    """The chart cannot be rendered with these values; helm's reason is in the message."""


def _key(inputs: "ChartInputs") -> str:
    parts = [inputs.spec.chart.model_dump(mode="json"), inputs.spec.name, inputs.spec.namespace,
             inputs.chart_version, inputs.chart_digest, inputs.values, inputs.secret_values,
             inputs.kube_context, hashlib.sha256(inputs.kubeconfig.encode()).hexdigest()]
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()


def start(inputs: "ChartInputs") -> Future[str]:
    """The render of these inputs: started in the background now, or the one already started."""
    key = _key(inputs)
    with _lock:
        found = _renders.get(key)
        if found is None:
            found = _renders[key] = _pool.submit(_render, inputs)
    return found


def manifest(inputs: "ChartInputs") -> str:
    """The manifest Helm would apply (hooks excluded, as in `helm get manifest`); RenderError
    when the chart cannot be rendered with these values."""
    return start(inputs).result()


def wait(inputs: "ChartInputs") -> None:
    """Wait for the render started for these inputs, if one was, and raise its RenderError."""
    with _lock:
        found = _renders.get(_key(inputs))
    if found is not None:
        found.result()


def _render(inputs: "ChartInputs") -> str:
    spec = inputs.spec
    chart, values = chart_source.chart_ref(spec, inputs.base_dir), [inputs.values, inputs.secret_values]
    try:
        try:
            return inputs.helm.upgrade_install(spec.name, spec.namespace, chart, values, atomic=False, wait=False,
                                               timeout=spec.timeout, force=False, dry_run=True,
                                               create_namespace=True).get("manifest") or ""
        except HelmError as err:
            if not (adopted_conflict(err.stderr, spec.adopt, spec.namespace)
                    or any(reason in err.stderr for reason in TEMPLATE_INSTEAD)):
                raise
            return inputs.helm.template(spec.name, spec.namespace, chart, values)
    except (HelmError, ValueError, OSError) as err:
        reason = helm_reason(err.stderr) if isinstance(err, HelmError) else str(err)
        if CONFLICT.search(reason):
            reason += "; list that object in the chart's adopt: to hand it over to Helm before the install"
        raise RenderError(f"chart {spec.chart_label} cannot be rendered with these values:\n{reason}") from None


# helm names the command a dry run stands for ("UPGRADE FAILED" while previewing a change
# that was never attempted); the render's own line already says what failed.
HELM_PREFIX = re.compile(r"^Error: (?:(?:UPGRADE|INSTALLATION) FAILED: )?", re.M)


def helm_reason(stderr: str) -> str:
    """helm's message without its "Error: UPGRADE FAILED:" prefix (warnings before it kept)."""
    return HELM_PREFIX.sub("", stderr.strip(), count=1)
