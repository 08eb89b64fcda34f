"""diagnose: what a person looks at next when a deploy fails, gathered inside the failure.

When `helm upgrade --wait` fails it says only `context deadline exceeded`, after the whole
timeout; and with `--atomic` it has already rolled back (or uninstalled) before it returns, so
the pods that would not start are gone when anyone looks. `ReadinessWatch` therefore samples
the release's workloads and their pods in a background thread *while* helm runs and keeps the
last sample in which something was not ready: which Deployment was 0/2 available, and why its
pods were not (Pending, Unschedulable: 0/2 nodes ...). Helm keeps doing the rollback itself.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType

from .. import kube, releases
from ..k8s import client


@dataclass(frozen=True)
class Sample:
    """What was not ready at one moment (`taken` on the monotonic clock)."""

    taken: float
    lines: list[str]


def sample(api: client.ApiClient, namespace: str, release: str) -> Sample:
    """Workloads and their pods, then the other objects helm waits for (a LoadBalancer Service
    without an address times out helm as surely as a Pending pod, and says even less)."""
    return Sample(time.monotonic(), [*kube.unready_workloads(api, kube.release_workloads(api, namespace, release)),
                                     *kube.unready_others(api, namespace, release)])


def reasons(seen: Sample) -> int:
    """How many unready pods a sample explains. While helm's atomic rollback replaces the
    failing pods, a sample may find a workload not ready and no pod to say why; it must not
    hide an earlier one that named the pods and their reasons."""
    return sum(1 for line in seen.lines if line.startswith("  "))


class ReadinessWatch:
    """Samples the release's readiness every `interval` seconds, from `delay` seconds on, until
    the `with` block ends.

    Only the last sample that found something not ready is kept, and only if it explains as
    many unready pods as the one before: with `--atomic` the samples taken during helm's
    rollback find the old revision ready, or in between, and must not hide what failed.
    Sampling errors are remembered, never raised: diagnostics must not fail a deploy.
    """

    def __init__(self, api: client.ApiClient, namespace: str, release: str, interval: float,
                 delay: float = 0.0) -> None:
        self._args = (api, namespace, release)
        self._interval = interval
        self._delay = delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.unready: Sample | None = None
        self.error: Exception | None = None
        self.ended: float | None = None
        self.started_at: datetime | None = None

    def __enter__(self) -> "ReadinessWatch":
        self.started_at = datetime.now(timezone.utc).replace(microsecond=0)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"readiness {self._args[1]}/{self._args[2]}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self.ended = time.monotonic()

    def restart(self) -> None:
        """Watch the next attempt (an on_deploy_failure hook asked for one)."""
        self.unready, self.error = None, None
        self.__enter__()

    def _run(self) -> None:
        if self._stop.wait(max(0.0, self._delay - self._interval)):
            return
        while not self._stop.wait(self._interval):
            try:
                seen = sample(*self._args)
            except Exception as err:  # noqa: BLE001 - see the class docstring
                self.error = err
                continue
            if seen.lines and (self.unready is None or reasons(seen) >= reasons(self.unready)):
                self.unready = seen

    def report(self) -> list[str]:
        """The last unready sample, saying how long before helm returned it was taken."""
        if self.unready is None:
            return [f"  (could not sample readiness while helm ran: {self.error})"] if self.error else []
        age = max(0.0, (self.ended or time.monotonic()) - self.unready.taken)
        return [f"  not ready while helm waited (seen {age:.0f}s before it returned):",
                *(f"    {line}" for line in self.unready.lines)]


def sample_interval(timeout: float) -> float:
    """Often enough to catch pods before a rollback removes them, rarely enough for a shared
    API server: a twentieth of helm's timeout, between 1 and 5 seconds."""
    return min(5.0, max(1.0, timeout / 20))


def first_sample(timeout: float) -> float:
    """When sampling starts: after a quarter of helm's timeout. What the samples are for is a
    wait that runs out, which takes the whole timeout; a release ready before then (most of them)
    costs the API server and the deploying machine no sample at all."""
    return max(sample_interval(timeout), timeout / 4)


def after_failure(api: client.ApiClient, namespace: str, release: str) -> str:
    """What Helm has now, after a failed attempt (and helm's own rollback, with atomic)."""
    try:
        record = releases.latest(api, release, namespace)
    except Exception as err:  # noqa: BLE001 - diagnostics must not hide the real failure
        return f"(could not read Helm's record of {release}: {err})"
    if record is None or not record.live:
        return f"Helm now has no release {release} in namespace {namespace}"
    return (f"Helm now has revision {record.revision} of {release} ({record.status}, chart {record.chart_version}); "
            "the next `pulumi up` tries the declared state again")


def cluster_view(api: client.ApiClient, namespace: str, release: str, since: datetime | None,
                 watch: ReadinessWatch | None = None) -> list[str]:
    """What was not ready while helm waited, what is not ready now, and the namespace's
    events since the attempt started; best effort."""
    lines = watch.report() if watch else []
    try:
        now = sample(api, namespace, release).lines
        if now and not (watch and watch.unready and watch.unready.lines == now):
            lines += ["  not ready now:", *(f"    {line}" for line in now)]
        lines += [f"  event: {e}" for e in kube.recent_events(api, namespace, since=since)]
    except Exception as err:  # noqa: BLE001 - diagnostics must not hide the real failure
        lines.append(f"  (could not read workloads/events: {err})")
    return lines
