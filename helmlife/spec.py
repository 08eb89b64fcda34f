"""ChartSpec: what a user declares about one Helm release.

The fields mirror the Qovery engine's ChartInfo so that people who know it find the same
knobs. The model is frozen and rejects unknown fields: a typo in stack config must fail at
`pulumi preview`, with the field named, instead of being silently ignored.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, ValidationInfo,
                      field_validator, model_validator)
from pydantic_core import to_jsonable_python

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
GO_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|m|s|ms))+$")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
VALUE_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
SECRET_MARK = "[secret]"


class Action(str, Enum):
    """What `pulumi up` does with the release (ChartInfo's HelmAction)."""

    deploy = "deploy"
    destroy = "destroy"
    skip = "skip"


class NamespaceDeletion(str, Enum):
    """What destroy does with the release namespace (pre_exec's delete, after the uninstall)."""

    never = "never"
    if_created_and_empty = "if_created_and_empty"


class CrdUpgrade(str, Enum):
    """What an upgrade does with the chart's CRDs. Helm creates crds/ CRDs only when they do
    not exist yet, so neither `helm upgrade` nor a reinstall ever changes one (`skip`, Helm's
    behaviour); `apply` server-side-applies them before helm runs."""

    skip = "skip"
    apply = "apply"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalChart(_Model):
    """A chart directory in the repository (or anywhere on the deploying machine)."""

    path: str = Field(description="Chart directory holding Chart.yaml.")


class RepoChart(_Model):
    """A chart from an HTTP(S) chart repository or an OCI registry, always pinned to a version.

    Private sources take a username and a password that never sits in the spec: it comes from a
    secret stack config key (`password_secret_config`) or, in code, a secret Output
    (`password`), and travels to the steps as an encrypted input of its own. A CA bundle
    (`ca_file`, or `ca_config` naming a stack config key with the PEM) verifies TLS.
    """

    repo: str = Field(description="Repository base URL (http(s)://host/path) or registry path (oci://host/path).")
    name: str = Field(description="Chart name inside the repository.")
    version: str = Field(description="Exact chart version (semver).")
    username: str | None = Field(default=None, description="User for basic auth / registry login.")
    password_secret_config: str | None = Field(
        default=None, description="Secret stack config key holding the password (pulumi config set --secret KEY ...).")
    password: Any = Field(default=None, description="In code only: the password as a secret Output.")
    ca_file: str | None = Field(default=None, description="PEM CA bundle for TLS, relative to the project.")
    ca_config: str | None = Field(default=None, description="Stack config key holding a PEM CA bundle.")
    ca: Any = Field(default=None, description="In code only: PEM CA bundle content (a string or an Output).")

    @field_validator("repo")
    @classmethod
    def _repo_url(cls, v: str) -> str:
        if not re.match(r"^(https?|oci)://[^\s/]+", v):
            raise ValueError(f"{v!r} is not a chart repository URL; use http(s)://host/path or oci://host/path")
        return v.rstrip("/")

    @field_validator("version")
    @classmethod
    def _pinned(cls, v: str) -> str:
        if not SEMVER.match(v):
            raise ValueError(f"{v!r} is not an exact semver version (e.g. 1.2.3); ranges are not accepted so stacks stay reproducible")
        return v

    @model_validator(mode="after")
    def _access(self) -> "RepoChart":
        if self.password is not None and self.password_secret_config is not None:
            raise ValueError("set either password (in code) or password_secret_config, not both")
        if self.has_password != bool(self.username):
            raise ValueError("username and a password go together; set username and password_secret_config")
        if sum(x is not None for x in (self.ca_file, self.ca_config, self.ca)) > 1:
            raise ValueError("set one of ca_file, ca_config or ca (in code)")
        return self

    @property
    def is_oci(self) -> bool:
        return self.repo.startswith("oci://")

    @property
    def has_password(self) -> bool:
        return self.password is not None or self.password_secret_config is not None

    @property
    def private(self) -> bool:
        """Needs a private helm repository config (credentials or a CA) instead of `--repo URL`."""
        return self.has_password or any(x is not None for x in (self.ca_file, self.ca_config, self.ca))

    def public_doc(self) -> dict[str, Any]:
        """As step inputs carry it: the password and CA content given in code or resolved from
        config travel in the encrypted `repo_auth` input; here they are only marked."""
        resolved = {"password": self.password_secret_config, "ca": self.ca_config}  # from config, by the program
        return {**self.model_dump(mode="json", exclude={"password", "ca"}),
                **{k: SECRET_MARK if getattr(self, k) is not None and resolved[k] is None else None
                   for k in ("password", "ca")}}


def _chart_kind(v: Any) -> str:
    return "repo" if isinstance(v, RepoChart) or (isinstance(v, dict) and "repo" in v) else "local"


class ValueSetting(_Model):
    """One `--set`-style value: a dotted key and any YAML value."""

    key: str
    value: Any = None
    secret: bool = Field(default=False, description="Keep this value encrypted in state and out of logs.")
    secret_config: str | None = Field(
        default=None,
        description="Take the value from this secret stack config key (pulumi config set --secret KEY ...).")

    @model_validator(mode="after")
    def _secret_source(self) -> "ValueSetting":
        if self.secret_config is not None:
            if self.value is not None:
                raise ValueError(f"{self.key}: set either value or secret_config, not both")
            object.__setattr__(self, "secret", True)
        return self

    @field_validator("key")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if not VALUE_KEY.match(v):
            raise ValueError(f"{v!r} is not a dotted key; use letters, digits, '_' or '-' separated by dots, e.g. image.tag")
        return v


class HttpCheck(_Model):
    """Validate step: an HTTP GET that must answer with an expected status."""

    name: str = "http"
    url: str | None = Field(default=None, description="Absolute URL to GET.")
    service: str | None = Field(default=None, description="Service name, reached through the API server proxy.")
    port: int | str | None = Field(default=None, description="Service port name or number (with service).")
    path: str = "/"
    expect_status: int = 200
    timeout: str = "10s"

    @model_validator(mode="after")
    def _target(self) -> "HttpCheck":
        if bool(self.url) == bool(self.service):
            raise ValueError("set exactly one of url or service")
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        return self


class ChartSpec(_Model):
    """Everything helmlife needs to run one release's lifecycle."""

    name: str = Field(description="Helm release name (DNS-1123 label, at most 53 characters).")
    chart: Annotated[
        Union[Annotated[LocalChart, Tag("local")], Annotated[RepoChart, Tag("repo")]],
        Discriminator(_chart_kind),
    ] = Field(description="A local chart path, or {repo, name, version} for a repository chart.")
    namespace: str = "default"
    create_namespace: bool = False
    delete_namespace: NamespaceDeletion = Field(
        default=NamespaceDeletion.never,
        description="if_created_and_empty: destroy deletes the namespace when helmlife created it and it is empty.")
    action: Action = Action.deploy
    atomic: bool = True
    force_upgrade: bool = False
    last_breaking_version_requiring_restart: str | None = None
    timeout: str = "180s"
    dry_run: bool = False
    wait: bool = True
    values: list[ValueSetting] = Field(default_factory=list)
    values_files: list[str] = Field(default_factory=list)
    yaml_files_content: list[str] = Field(default_factory=list)
    crds: list[str] | None = Field(
        default=None, description="CRDs owned by the chart; default: those of its crds/ and its enabled sub-charts' crds/.")
    crd_upgrade: CrdUpgrade = Field(
        default=CrdUpgrade.skip,
        description="skip: leave existing CRDs as they are, as Helm does; apply: server-side-apply the chart's CRDs "
                    "whenever they change, before helm runs.")
    force_crd_deletion: bool = Field(
        default=False, description="Delete CRDs on destroy even while custom resources of them still exist.")
    adopt: list[str] = Field(
        default_factory=list,
        description="Live objects (Kind/name or Kind/namespace/name) to hand over to Helm before install.")
    http_checks: list[HttpCheck] = Field(default_factory=list)
    validate_workloads: bool = Field(default=True, description="Wait for the release's workloads to be Ready.")
    depends_on: list[str] = Field(
        default_factory=list,
        description="Charts (by name, in the same stack) whose validate step must pass before this chart's steps run.")

    @field_validator("name")
    @classmethod
    def _release_name(cls, v: str) -> str:
        if len(v) > 53 or not DNS1123_LABEL.match(v):
            raise ValueError(f"{v!r} is not a valid release name; use at most 53 lowercase letters, digits and '-', "
                             "starting and ending with a letter or digit")
        return v

    @field_validator("chart", mode="before")
    @classmethod
    def _chart_shorthand(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not v.strip():
                raise ValueError("chart is empty; give a chart directory or {repo, name, version}")
            return {"path": v}
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if len(v) > 63 or not DNS1123_LABEL.match(v):
            raise ValueError(f"{v!r} is not a valid namespace; use at most 63 lowercase letters, digits and '-'")
        return v

    @field_validator("delete_namespace")
    @classmethod
    def _only_created(cls, v: NamespaceDeletion, info: ValidationInfo) -> NamespaceDeletion:
        if v is NamespaceDeletion.if_created_and_empty and not info.data.get("create_namespace"):
            raise ValueError("if_created_and_empty needs create_namespace: true (helmlife deletes only namespaces it created)")
        return v

    @field_validator("last_breaking_version_requiring_restart")
    @classmethod
    def _semver(cls, v: str | None) -> str | None:
        if v is not None and not SEMVER.match(v):
            raise ValueError(f"{v!r} is not a semver version such as 2.0.0")
        return v

    @field_validator("timeout")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("crds")
    @classmethod
    def _crd_names(cls, v: list[str] | None) -> list[str] | None:
        for name in v or []:
            if "." not in name or not DNS1123_SUBDOMAIN.match(name):
                raise ValueError(f"{name!r} is not a CRD name; use <plural>.<group>, e.g. widgets.example.com")
        return v

    @field_validator("depends_on")
    @classmethod
    def _chart_names(cls, v: list[str], info: ValidationInfo) -> list[str]:
        for name in v:
            if not DNS1123_LABEL.match(name):
                raise ValueError(f"{name!r} is not a chart name; list the `name`s of other charts in this stack")
            if name == info.data.get("name"):
                raise ValueError(f"{name!r} is this chart itself; a chart cannot wait for its own validate step")
        return v

    @field_validator("adopt")
    @classmethod
    def _adopt_refs(cls, v: list[str]) -> list[str]:
        for ref in v:
            if not 2 <= len(ref.split("/")) <= 3 or not all(ref.split("/")):
                raise ValueError(f"{ref!r} is not an object reference; use Kind/name or Kind/namespace/name")
        return v

    @property
    def chart_label(self) -> str:
        """The chart as a person names it: its path, or repo/name@version."""
        c = self.chart
        return c.path if isinstance(c, LocalChart) else f"{c.repo}/{c.name}@{c.version}"

    def public_doc(self) -> dict[str, Any]:
        """The spec as step inputs carry it: secret values masked, since their content travels
        apart as an encrypted input and this copy is shown in previews."""
        doc = self.model_dump(mode="json", exclude={"values", "chart"})
        doc["chart"] = self.chart.public_doc() if isinstance(self.chart, RepoChart) else self.chart.model_dump(mode="json")
        doc["values"] = [{**v.model_dump(mode="json", exclude={"value", "secret_config"}), "secret_config": None,
                          "value": SECRET_MARK if v.secret else v.value} for v in self.values]
        return doc

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)

    @property
    def has_secret_values(self) -> bool:
        return any(v.secret for v in self.values)


def parse_duration(text: str) -> float:
    """Go-style duration ("90s", "5m", "1h30m") to seconds; a bare number means seconds."""
    if isinstance(text, (int, float)) or re.fullmatch(r"\d+", str(text)):
        seconds = float(text)
    elif GO_DURATION.match(text):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in DURATION_PART.findall(text))
    else:
        raise ValueError(f"{text!r} is not a duration; use Go syntax such as 90s, 5m or 1h30m")
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


def semver_key(version: str) -> tuple[int, int, int, tuple[Any, ...]]:
    """Order semver strings; a pre-release sorts before its release, as semver says."""
    m = SEMVER.match(version)
    if not m:
        raise ValueError(f"{version!r} is not semver")
    pre = m.group(4)
    pre_key: tuple[Any, ...] = (1,) if pre is None else (
        0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), pre_key


def crosses_breaking(deployed: str | None, target: str | None, breaking: str | None) -> bool:
    """True when an upgrade goes from below the breaking version to at or above it."""
    if not (deployed and target and breaking):
        return False
    return semver_key(deployed) < semver_key(breaking) <= semver_key(target)


class SpecError(ValueError):
    """A ChartSpec that cannot be used, with every problem named by field."""


def format_validation_error(err: ValidationError, where: str) -> str:
    """Turn pydantic's error list into lines that name the field, the bad value and the fix."""
    lines = [f"invalid chart spec for {where}:"]
    for e in err.errors():
        parts = [str(p) for p in e["loc"]]
        if len(parts) > 2 and parts[0] == "chart" and parts[1] in ("local", "repo"):
            del parts[1]
        loc = ".".join(parts)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field; check the spelling (fields are listed in docs/spec.md)"
        shown = e.get("input")
        value = "" if isinstance(shown, dict) or repr(shown) in msg else f" (got {shown!r})"
        lines.append(f"  - {loc}: {msg}{value}")
    return "\n".join(lines)


def parse_spec(data: dict[str, Any] | ChartSpec, where: str | None = None) -> ChartSpec:
    """Validate raw config into a ChartSpec, raising SpecError with readable messages."""
    if isinstance(data, ChartSpec):
        return data
    label = where or f"chart {data.get('name', '?')!r}"
    try:
        return ChartSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(format_validation_error(err, label)) from None


def _field_defaults() -> dict[str, Any]:
    return {name: to_jsonable_python(f.get_default(call_default_factory=True))
            for name, f in ChartSpec.model_fields.items() if not f.is_required()}


SPEC_DEFAULTS = _field_defaults()


def compact_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A spec document without the fields left at their default. Every step records the spec
    in its inputs and outputs, and Pulumi rewrites the whole state at each step operation, so
    twenty default fields twelve times per chart cost time on every `up` (docs/benchmark.md)."""
    return {k: v for k, v in doc.items() if k not in SPEC_DEFAULTS or SPEC_DEFAULTS[k] != v}


def full_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with every field: a compact one and one recorded in full compare equal."""
    return {**SPEC_DEFAULTS, **doc}
