"""render: what Helm would apply for these inputs, without applying anything.

`helm upgrade --install --dry-run=server`: the Release's own upgrade minus the apply, so
lookups and capabilities come from the live cluster and values.schema.json or template
errors surface at `pulumi preview`, naming the chart. Every object rendered is then sent to
the API server as a server-side dry run (`dry_run`), so a value of the wrong type fails preview
too, naming the object and the field, although the chart has no values schema. A render is
kept for the life of the provider process (one `pulumi preview` or `up`), so each release
renders, and is checked, at most once, and only when what it depends on changed.

pre_exec's check starts the render in a thread of this pool and waits for it: the engine calls
every resource's `check` one after another, so renders of several charts run in a row (a
measured cost with many charts changing at once, see docs/benchmark.md); pre_exec's run, which
must fail before any step changes anything, finds the render its check made.
"""
from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from .. import capabilities, chart_source, crds, kube, manifests, releases
from ..canonical import canonical_json
from ..helm import HelmError
from ..spec import crosses_breaking
from . import dry_run

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
# same objects (at the cluster's Kubernetes and API versions, `capabilities`, without hook
# objects, as the install's manifest): an object of a kind whose CRD the install itself creates first (crds/, or a
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


def start(inputs: "ChartInputs", checked: bool = True) -> Future[str]:
    """The render of these inputs: started in the background now, or the one already started.
    `checked`: its objects pass the cluster's dry run too (what preview and `up` need; refresh,
    which only compares, does without)."""
    key = _key(inputs) + ("" if checked else ":unchecked")
    with _lock:
        found = _renders.get(key)
        if found is None:
            found = _renders[key] = _pool.submit(_render, inputs, checked)
    return found


def manifest(inputs: "ChartInputs", checked: bool = True) -> str:
    """The manifest Helm would apply (hooks excluded, as in `helm get manifest`); RenderError
    when the chart cannot be rendered with these values (or, `checked`, the cluster refuses it)."""
    return start(inputs, checked).result()


def wait(inputs: "ChartInputs") -> None:
    """Wait for the render started for these inputs, if one was, and raise its RenderError."""
    with _lock:
        found = _renders.get(_key(inputs))
    if found is not None:
        found.result()


def _replacing(inputs: "ChartInputs") -> bool:
    """Whether `up` replaces the live objects rather than changing them: `force_upgrade`, or a
    breaking-version reinstall (pre_exec uninstalls first)."""
    spec = inputs.spec
    if spec.force_upgrade:
        return True
    record = releases.latest(inputs.api, spec.name, spec.namespace)
    return bool(record and record.live and crosses_breaking(record.chart_version, inputs.chart_version,
                                                            spec.last_breaking_version_requiring_restart))


def _render(inputs: "ChartInputs", checked: bool) -> str:
    spec = inputs.spec
    chart, values = chart_source.chart_ref(spec, inputs.base_dir), [inputs.values, inputs.secret_values]
    try:
        try:
            rendered = inputs.helm.upgrade_install(spec.name, spec.namespace, chart, values, atomic=False, wait=False,
                                                   timeout=spec.timeout, force=False, dry_run=True,
                                                   create_namespace=True).get("manifest") or ""
        except HelmError as err:
            if not (adopted_conflict(err.stderr, spec.adopt, spec.namespace)
                    or any(reason in err.stderr for reason in TEMPLATE_INSTEAD)):
                raise
            own_crds = [c.doc for c in crds.of_chart(spec, inputs.base_dir, inputs.values, inputs.helm) or []]
            rendered = inputs.helm.template(spec.name, spec.namespace, chart, values,
                                            capabilities.of_cluster(inputs.api, own_crds).helm_args())
    except (HelmError, ValueError, OSError) as err:
        reason = helm_reason(err.stderr) if isinstance(err, HelmError) else str(err)
        if CONFLICT.search(reason):
            reason += "; list that object in the chart's adopt: to hand it over to Helm before the install"
        raise RenderError(f"chart {spec.chart_label} cannot be rendered with these values:\n{reason}") from None
    if not checked:
        return rendered
    refused = dry_run.refused(inputs.api, rendered, spec.namespace, manifests.secret_strings(inputs.secret_values),
                              replacing=_replacing(inputs))
    if refused:
        raise RenderError(f"chart {spec.chart_label}: the cluster's API refuses what it renders with these values "
                          "(server-side dry run, nothing applied):\n" + "\n".join(f"  - {r}" for r in refused))
    return rendered


# helm names the command a dry run stands for ("UPGRADE FAILED" while previewing a change
# that was never attempted); the render's own line already says what failed.
HELM_PREFIX = re.compile(r"^Error: (?:(?:UPGRADE|INSTALLATION) FAILED: )?", re.M)


def helm_reason(stderr: str) -> str:
    """helm's message without its "Error: UPGRADE FAILED:" prefix (warnings before it kept)."""
    return HELM_PREFIX.sub("", stderr.strip(), count=1)
