"""Hypothesis strategies for chart entries that must be refused, each with the field its error
must name. `schema_invalid` ones break the ChartSpec model (refused while the program parses the
stack, before any resource exists); `check_invalid` ones are well formed but name something that
is not there (refused by check_prerequisites' check, which preview runs). Names and namespaces
carry the entry's index so many fit in one stack and a leak onto the cluster is traceable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helmlife.spec import ChartSpec

SHELL = ["$(touch /tmp/helmlife-pwned)", "`touch /tmp/helmlife-pwned`", "; rm -rf / #", "| sh", "&& reboot"]
BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}  # pydantic reads these as bools
BOOL_FIELDS = ["create_namespace", "atomic", "force_upgrade", "dry_run", "wait", "force_crd_deletion", "validate_workloads"]
FIELDS = set(ChartSpec.model_fields)


@dataclass(frozen=True)
class Invalid:
    entry: dict[str, Any]
    field: str  # as the error writes it: `timeout`, `values.0.key`, `chart.version`, `values_files[0]`

    @property
    def name(self) -> str:
        return self.entry["name"]


def _mutation(field: str, **patch: Any) -> tuple[dict[str, Any], str]:
    return patch, field


# "{i}" in a name becomes the entry's index: names must be distinct within a stack.
BAD_NAMES = st.one_of(
    st.from_regex(r"[A-Z][A-Za-z0-9_]{0,12}", fullmatch=True).map(lambda s: s + "-{i}"),
    st.sampled_from(["-bad-{i}", "bad-{i}-", "bad_{i}", "bad.{i}", "bad {i}", "x" * 60 + "{i}", *(s + "-{i}" for s in SHELL)]),
)


def _not_bool() -> st.SearchStrategy[Any]:
    return st.one_of(st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10).filter(lambda s: s not in BOOL_WORDS),
                     st.integers(min_value=2, max_value=10**6), st.lists(st.booleans(), min_size=1, max_size=3))


NOT_SEMVER = st.one_of(st.sampled_from(["latest", "^1.2.0", "1.2", "~1", ">=1.0.0", "1.2.3.4", "01.2.3", ""]),
                       st.from_regex(r"[a-z]{1,8}", fullmatch=True))
NOT_DURATION = st.one_of(st.sampled_from(["forever", "5 m", "1d", "-5s", "0s", "0", "", "s5", "5sm", "1h-"]),
                         st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.integers(min_value=1, max_value=999))
BAD_NAMESPACE = st.one_of(st.from_regex(r"[A-Z][A-Za-z0-9_]{0,20}", fullmatch=True),
                          st.sampled_from(["-ns", "ns-", "n_s", "n.s", "a" * 64, *SHELL]))
UNKNOWN_KEY = st.from_regex(r"[a-z][a-z0-9_]{1,20}", fullmatch=True).filter(lambda k: k not in FIELDS)


def _schema_mutations() -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    setting = {"key": "a.b", "value": 1}
    return st.one_of(
        BAD_NAMES.map(lambda v: _mutation("name", name=v)),
        BAD_NAMESPACE.map(lambda v: _mutation("namespace", namespace=v)),
        st.tuples(st.sampled_from(BOOL_FIELDS), _not_bool()).map(lambda fv: _mutation(fv[0], **{fv[0]: fv[1]})),
        NOT_DURATION.map(lambda v: _mutation("timeout", timeout=v)),
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10).filter(
            lambda v: v not in ("deploy", "destroy", "skip")).map(lambda v: _mutation("action", action=v)),
        NOT_SEMVER.map(lambda v: _mutation("last_breaking_version_requiring_restart",
                                           last_breaking_version_requiring_restart=v)),
        st.sampled_from(["", "   "]).map(lambda v: _mutation("chart", chart=v)),
        st.sampled_from(["ftp://charts.example.com", "charts.example.com", "file:///charts"]).map(
            lambda v: _mutation("chart.repo", chart={"repo": v, "name": "app", "version": "1.0.0"})),
        NOT_SEMVER.map(lambda v: _mutation("chart.version", chart={"repo": "https://c.example.com", "name": "app", "version": v})),
        st.just(_mutation("chart.name", chart={"repo": "https://c.example.com", "version": "1.0.0"})),
        UNKNOWN_KEY.map(lambda k: _mutation(f"chart.{k}", chart={"path": "charts/demo-app", k: 1})),
        st.sampled_from(["a..b", ".a", "a.", "a b", "a;b", "", "a/b", *SHELL]).map(
            lambda k: _mutation("values.0.key", values=[{"key": k, "value": 1}])),
        st.just(_mutation("values.0", values=[{"key": "a", "value": 1, "secret_config": "token"}])),
        st.text("xyz", min_size=1, max_size=8).map(lambda v: _mutation("values.0", values=[
            {"key": "password", "value": v, "secret": True}])),  # a secret written in the stack file
        UNKNOWN_KEY.filter(lambda k: k not in ("key", "value", "secret", "secret_config")).map(
            lambda k: _mutation(f"values.0.{k}", values=[{**setting, k: 1}])),
        st.sampled_from(["a=b", 3]).map(lambda v: _mutation("values", values=v)),
        st.integers(-10**6, 10**6).map(lambda v: _mutation("values_files.0", values_files=[v])),
        st.integers(-10**6, 10**6).map(lambda v: _mutation("yaml_files_content.0", yaml_files_content=[v])),
        st.sampled_from(["widgets", "Widgets.example.com", "widgets.", "-w.example.com", "w_x.example.com"]).map(
            lambda v: _mutation("crds", crds=[v])),
        st.sampled_from(["Service", "a/b/c/d", "/x", "Service/", "//"]).map(lambda v: _mutation("adopt", adopt=[v])),
        st.sampled_from([{"name": "x"}, {"url": "ftp://x"}, {"url": "http://x", "service": "s"}]).map(
            lambda v: _mutation("http_checks.0", http_checks=[v])),
        st.sampled_from(["ok", "two hundred"]).map(
            lambda v: _mutation("http_checks.0.expect_status", http_checks=[{"url": "http://x", "expect_status": v}])),
        UNKNOWN_KEY.map(lambda k: _mutation(k, **{k: "x"})),
    )


def _base(i: int, namespace: str) -> dict[str, Any]:
    return {"name": f"bad-{i}", "chart": "charts/demo-app", "namespace": f"{namespace}-{i}",
            "create_namespace": True, "timeout": "30s"}


SCHEMA_MUTATIONS = _schema_mutations()


def schema_entry(i: int, namespace: str, mutation: tuple[dict[str, Any], str]) -> Invalid:
    patch, field = mutation
    name = patch.get("name")
    patch = {**patch, "name": name.replace("{i}", str(i))} if isinstance(name, str) else patch
    return Invalid({**_base(i, namespace), **patch}, field)


def schema_invalid(i: int, namespace: str) -> st.SearchStrategy[Invalid]:
    """An entry the ChartSpec model (or the stack's secret rule) refuses, naming one field."""
    return SCHEMA_MUTATIONS.map(lambda m: schema_entry(i, namespace, m))


def generated(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` distinct examples as Hypothesis explores them (not its minimal first example),
    for tests that run one costly check over a whole batch rather than one per example."""
    found: list[Any] = []

    @settings(max_examples=count * 3, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example: Any) -> None:
        if len(found) < count and example not in found:
            found.append(example)

    collect()
    assert len(found) == count, f"Hypothesis produced {len(found)} distinct examples, wanted {count}"
    return found


# (kind, detail): what a well-formed entry names that is not there.
CHECK_MUTATIONS = st.one_of(
    st.just(("values_files", "")), st.just(("chart", "")), st.just(("namespace", "")),
    st.tuples(st.just("yaml"), st.sampled_from(["a: [unclosed", "{", "a: b: c", "- a", "just text"])),
)


def check_entry(i: int, namespace: str, mutation: tuple[str, str]) -> Invalid:
    base, (kind, detail) = _base(i, namespace), mutation
    if kind == "values_files":
        return Invalid({**base, "values_files": [f"missing-{i}.yaml"]}, "values_files[0]")
    if kind == "chart":
        return Invalid({**base, "chart": f"charts/no-such-chart-{i}"}, "chart.path")
    if kind == "namespace":
        return Invalid({**base, "namespace": f"{namespace}-absent-{i}", "create_namespace": False}, "namespace")
    return Invalid({**base, "yaml_files_content": [detail]}, "yaml_files_content[0]")


def check_invalid(i: int, namespace: str) -> st.SearchStrategy[Invalid]:
    """A well-formed entry whose chart, files or namespace are not there."""
    return CHECK_MUTATIONS.map(lambda m: check_entry(i, namespace, m))
