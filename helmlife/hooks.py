"""The hook API: what user code receives, how it is registered, and how it fails.

Hooks run inside the step's dynamic provider, on the deploying machine, at `pulumi up` and
`pulumi destroy` time. The engine keeps only a *reference* to each hook ("module:qualname"),
never a pickled copy, so the hook that runs at destroy time is the one in today's code, and a
fixed hook really fixes a stuck destroy. That is why hooks must live in an importable module
(for example `chart_hooks/` beside `__main__.py`), not in `__main__.py` itself. Retry and timeout
options travel the same way: they are attributes of the function, read when it runs.

Two styles register the same hooks:

* subclass `LifecycleChart` and override a hook method (the Qovery `HelmChart` trait),
  optionally decorated with `@hook_options(retries=..., delay=..., timeout=...)`; or
* build a `Hooks` set and decorate plain functions, kopf-style:
  `@hooks.validate` or `@hooks.validate(retries=3, delay="5s", timeout="2m")`.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .k8s import client
from .spec import parse_duration

if TYPE_CHECKING:
    from .spec import ChartSpec

HookFn = Callable[["HookContext"], "dict[str, Any] | None"]
F = TypeVar("F", bound=Callable[..., Any])
OPTIONS_ATTR = "__helmlife_hook_options__"


# --- errors ---------------------------------------------------------------------------------

class HookError(Exception):
    """Base of every hook failure."""


class TemporaryError(HookError):
    """Raised by a hook: try again after `delay` seconds (default: the hook's `delay` option).

    How many times is the hook's `retries` option, given at registration, not the error's.
    """

    def __init__(self, message: str, *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(HookError):
    """Raised by a hook: stop now, retrying cannot help. The step and `pulumi up` fail."""


class HookFailedError(PermanentError):
    """The runner's report of a hook that raised: names the hook and the step."""

    def __init__(self, hook: str, step: str, message: str) -> None:
        super().__init__(f"{step} hook {hook} {message}")
        self.hook = hook
        self.step = step


class HookRetriesError(HookFailedError):
    """A hook kept raising TemporaryError past its `retries` budget."""

    def __init__(self, hook: str, step: str, attempts: int, last: TemporaryError) -> None:
        super().__init__(hook, step, f"gave up after {attempts} attempts: {last}")
        self.attempts = attempts


class HookTimeoutError(HookFailedError):
    """A hook ran past its `timeout` (all attempts together). Python cannot stop a running
    thread, so the attempt is abandoned, not killed; the step fails at once either way."""

    def __init__(self, hook: str, step: str, timeout: float) -> None:
        super().__init__(hook, step, f"timed out after {timeout:g}s")
        self.timeout = timeout


# --- options and registration ---------------------------------------------------------------

class HookOptions(BaseModel):
    """Per-hook policy, kopf-style: set where the hook is registered, not where it fails.
    `retries` counts attempts after the first; `timeout` bounds all attempts together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retries: int = Field(default=2, ge=0)
    delay: float = Field(default=5.0, ge=0)
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("delay", "timeout", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str) else v


def options_of(fn: Callable[..., Any]) -> HookOptions:
    return getattr(fn, OPTIONS_ATTR, None) or HookOptions()


def _with_options(fn: F, options: dict[str, Any]) -> F:
    if not options:
        return fn
    opts, current = HookOptions(**options), getattr(fn, OPTIONS_ATTR, None)
    if current is not None and current != opts:
        raise ValueError(f"hook {fn.__qualname__} is already registered with {current!r}; "
                         "register it once, or give both registrations the same options")
    setattr(fn, OPTIONS_ATTR, opts)
    return fn


def hook_options(**options: Any) -> Callable[[F], F]:
    """`retries`, `delay` and `timeout` for a hook method of a `LifecycleChart` subclass."""
    HookOptions(**options)  # fail at class definition, not at `pulumi up`
    return lambda fn: _with_options(fn, options)


class Hooks:
    """A set of hook functions registered with decorators, in order, per hook event. Each
    decorator works bare (`@hooks.validate`) or with options (`@hooks.validate(retries=3)`)."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[Callable[..., Any]]] = {}

    def _register(self, event: str, fn: HookFn | None, options: dict[str, Any]) -> Any:
        HookOptions(**options)

        def deco(f: HookFn) -> HookFn:
            hook_ref(f)  # fail at definition time if the engine could not import it later
            self._by_event.setdefault(event, []).append(_with_options(f, options))
            return f

        return deco(fn) if fn is not None else deco

    def check_prerequisites(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("check_prerequisites", fn, options)

    def pre_exec(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("pre_exec", fn, options)

    def on_deploy_failure(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("on_deploy_failure", fn, options)

    def post_exec(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("post_exec", fn, options)

    def validate(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("validate", fn, options)

    def teardown(self, fn: HookFn | None = None, /, **options: Any) -> Any:
        return self._register("teardown", fn, options)

    def refs(self, event: str) -> list[str]:
        return [hook_ref(fn) for fn in self._by_event.get(event, [])]


def hook_ref(fn: Callable[..., Any]) -> str:
    """'module:qualname' for an importable function or method, with a clear error otherwise."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    importable = module not in (None, "__main__") and importlib.util.find_spec(module) is not None
    if not importable or "<locals>" in qualname or "<lambda>" in qualname:
        raise ValueError(
            f"hook {qualname or fn!r} must be a top-level function or method in an importable module "
            f"(defined in {module or 'an unknown module'}); move it to a module such as chart_hooks/my_chart.py, "
            "because the step imports it again at `pulumi up` and `pulumi destroy` time"
        )
    return f"{module}:{qualname}"


def load_hook(ref: str, spec: "ChartSpec | None") -> Callable[["HookContext"], Any]:
    """Import a hook by reference; a method of a LifecycleChart subclass is bound to a bare
    instance that carries the spec, since the component itself lives only in the program."""
    module_name, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    owner: Any = None
    for part in qualname.split("."):
        owner, obj = obj, getattr(obj, part)
    if inspect.isclass(owner):
        instance = owner.__new__(owner)
        instance.__dict__["spec"] = spec
        return getattr(instance, qualname.rsplit(".", 1)[-1])
    return obj


# --- the context hooks receive ----------------------------------------------------------------

@dataclass
class HookContext:
    """Everything a hook may use. Hooks return a dict to add to the payload, or None."""

    step: str  # the hook event: a step name, or on_deploy_failure / teardown
    spec: "ChartSpec"
    release: str
    namespace: str
    previous_version: str | None
    target_version: str | None
    kube: client.ApiClient
    log: logging.Logger
    payload: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    failure: str | None = None  # on_deploy_failure only: helm's error
    diagnostics: list[str] = field(default_factory=list)  # on_deploy_failure: lines to add to the output


DEBUG_ENV = "HELMLIFE_DEBUG"  # set (non-empty): failures also print the Python tracebacks behind them


def debugging() -> bool:
    return bool(os.environ.get(DEBUG_ENV))


def step_logger(release: str, step: str) -> logging.Logger:
    """A step's log: provider stderr is streamed by the Pulumi engine into the CLI output."""
    logger = logging.getLogger(f"helmlife.{release}.{step}")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"[helmlife {release} {step}] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


# --- the one runner ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Retry:
    """An attempt asked to be tried again after `delay` seconds."""

    delay: float


@dataclass(frozen=True)
class LoadedHook:
    """A hook imported for one run: its reference, the callable and its options."""

    ref: str
    fn: Callable[[HookContext], Any]
    options: HookOptions

    @classmethod
    def load(cls, ref: str, spec: "ChartSpec | None") -> "LoadedHook":
        fn = load_hook(ref, spec)
        return cls(ref, fn, options_of(fn))

    def deadline(self) -> float | None:
        return None if self.options.timeout is None else time.monotonic() + self.options.timeout

    def attempt(self, ctx: HookContext, deadline: float | None) -> Any:
        """One call under the common rules; returns the hook's result or a `Retry`.

        Raises `HookTimeoutError` past `deadline`, `HookRetriesError` when a TemporaryError
        exceeds `retries`, and `HookFailedError` (naming the hook) for anything else.
        """
        try:
            return self._call(ctx, deadline)
        except HookFailedError:
            raise
        except TemporaryError as err:
            if ctx.attempt > self.options.retries:
                raise HookRetriesError(self.ref, ctx.step, ctx.attempt, err) from None
            delay = self.options.delay if err.delay is None else err.delay
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise HookTimeoutError(self.ref, ctx.step, self.options.timeout or 0.0) from None
            return Retry(delay)
        except PermanentError as err:
            raise HookFailedError(self.ref, ctx.step, f"failed: {err}") from None
        except Exception as err:  # a plain bug in a hook is permanent, but says where it was
            raise HookFailedError(self.ref, ctx.step, f"raised {type(err).__name__}: {err}") from None

    def _call(self, ctx: HookContext, deadline: float | None) -> Any:
        if deadline is None:
            return self.fn(ctx)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = self.fn(ctx)
            except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = err

        worker = threading.Thread(target=target, name=f"hook {self.ref}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            raise HookTimeoutError(self.ref, ctx.step, self.options.timeout or 0.0)
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def retry_note(self, ctx: HookContext, delay: float, what: str) -> None:
        ctx.log.info("hook %s asked to retry %s in %gs (attempt %d/%d)", self.ref, what, delay,
                     ctx.attempt, self.options.retries + 1)


def run_hooks(refs: Iterable[str], ctx: HookContext) -> dict[str, Any]:
    """Run each hook in order, threading the payload; a TemporaryError retries that hook."""
    for ref in refs:
        hook = LoadedHook.load(ref, ctx.spec)
        ctx.attempt = 1
        deadline = hook.deadline()
        while isinstance(result := hook.attempt(ctx, deadline), Retry):
            hook.retry_note(ctx, result.delay, "the hook")
            time.sleep(result.delay)
            ctx.attempt += 1
        if result:
            if not isinstance(result, dict):
                raise HookFailedError(ref, ctx.step, f"returned {type(result).__name__}; return a dict or None")
            ctx.payload.update(result)
    return ctx.payload


def run_failure_hooks(refs: Iterable[str], ctx: HookContext) -> float | None:
    """on_deploy_failure: the same rules, but a TemporaryError retries the *deploy*.

    Returns the delay before the next deploy attempt, or None to give up. Hook failures do
    not hide the deploy's own error: they become lines of `ctx.diagnostics`.
    """
    for ref in refs:
        hook = LoadedHook.load(ref, ctx.spec)
        try:
            result = hook.attempt(ctx, hook.deadline())
        except HookFailedError as err:
            ctx.diagnostics.append(f"  {err}")
            continue
        if isinstance(result, Retry):
            hook.retry_note(ctx, result.delay, "the deploy")
            return result.delay
    return None
