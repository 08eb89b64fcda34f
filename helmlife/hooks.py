"""The hook API: what user code receives and how it reports failure.

Hooks run inside the step's dynamic provider, on the deploying machine, at `pulumi up` and
`pulumi destroy` time. The engine only keeps a *reference* to each hook ("module:qualname"),
never a pickled copy, so the hook that runs at destroy time is the one in today's code, and a
fixed hook really fixes a stuck destroy. That is why hooks must live in an importable module
(for example `hooks/` beside `__main__.py`), not in `__main__.py` itself.

Two styles register the same hooks:

* subclass `LifecycleChart` and override `check_prerequisites`, `pre_exec`,
  `on_deploy_failure`, `post_exec` or `validate` (the Qovery `HelmChart` trait); or
* build a `Hooks` set and decorate plain functions (`@hooks.pre_exec`), kopf-style.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from kubernetes import client

STEPS = ("check_prerequisites", "pre_exec", "on_deploy_failure", "post_exec", "validate")
HookFn = Callable[["HookContext"], "dict[str, Any] | None"]


class HookError(Exception):
    """Base of the two ways a hook can fail."""


class TemporaryError(HookError):
    """Retry this hook after `delay` seconds, at most `max_attempts` times in all."""

    def __init__(self, message: str, *, delay: float = 5.0, max_attempts: int = 3) -> None:
        super().__init__(message)
        self.delay = delay
        self.max_attempts = max_attempts


class PermanentError(HookError):
    """Stop now: retrying cannot help. The step fails and `pulumi up` fails with this message."""


@dataclass
class HookContext:
    """Everything a hook may use. Hooks return a dict to add to the payload, or None."""

    step: str
    spec: Any  # helmlife.spec.ChartSpec (kept loose to avoid an import cycle for users' type hints)
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


class _StderrToEngine(logging.Handler):
    """Provider stderr is streamed by the Pulumi engine into the `pulumi up` output."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - logging must never fail a step
            pass


def step_logger(release: str, step: str) -> logging.Logger:
    logger = logging.getLogger(f"helmlife.{release}.{step}")
    if not logger.handlers:
        handler = _StderrToEngine()
        handler.setFormatter(logging.Formatter(f"[helmlife {release} {step}] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class Hooks:
    """A set of hook functions, registered with decorators (one list per lifecycle step)."""

    def __init__(self) -> None:
        self._by_step: dict[str, list[Callable[..., Any]]] = {s: [] for s in STEPS}

    def _register(self, step: str) -> Callable[[HookFn], HookFn]:
        def deco(fn: HookFn) -> HookFn:
            hook_ref(fn)  # fail at definition time if the engine could not import it later
            self._by_step[step].append(fn)
            return fn

        return deco

    def check_prerequisites(self, fn: HookFn) -> HookFn:
        return self._register("check_prerequisites")(fn)

    def pre_exec(self, fn: HookFn) -> HookFn:
        return self._register("pre_exec")(fn)

    def on_deploy_failure(self, fn: HookFn) -> HookFn:
        return self._register("on_deploy_failure")(fn)

    def post_exec(self, fn: HookFn) -> HookFn:
        return self._register("post_exec")(fn)

    def validate(self, fn: HookFn) -> HookFn:
        return self._register("validate")(fn)

    def refs(self, step: str) -> list[str]:
        return [hook_ref(fn) for fn in self._by_step[step]]


def hook_ref(fn: Callable[..., Any]) -> str:
    """'module:qualname' for an importable function or method, with a clear error otherwise."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    importable = module not in (None, "__main__") and importlib.util.find_spec(module) is not None
    if not importable or "<locals>" in qualname or "<lambda>" in qualname:
        raise ValueError(
            f"hook {qualname or fn!r} must be a top-level function or method in an importable module "
            f"(defined in {module or 'an unknown module'}); move it to a module such as hooks/my_chart.py, "
            "because the step imports it again at `pulumi up` and `pulumi destroy` time"
        )
    return f"{module}:{qualname}"


def load_hook(ref: str, spec: Any) -> Callable[[HookContext], Any]:
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


def run_hooks(refs: Iterable[str], ctx: HookContext) -> dict[str, Any]:
    """Run each hook in order, threading the payload; TemporaryError retries within its bound."""
    for ref in refs:
        fn = load_hook(ref, ctx.spec)
        ctx.attempt = 1
        while True:
            try:
                result = fn(ctx)
                break
            except TemporaryError as err:
                if ctx.attempt >= err.max_attempts:
                    raise PermanentError(
                        f"{ctx.step} hook {ref} still failing after {ctx.attempt} attempts: {err}"
                    ) from None
                ctx.log.info("hook %s asked to retry in %.0fs (attempt %d/%d): %s",
                             ref, err.delay, ctx.attempt, err.max_attempts, err)
                time.sleep(err.delay)
                ctx.attempt += 1
            except PermanentError as err:
                raise PermanentError(f"{ctx.step} hook {ref} failed: {err}") from None
            except Exception as err:  # a plain bug in a hook is permanent, but says where it was
                raise PermanentError(f"{ctx.step} hook {ref} raised {type(err).__name__}: {err}") from None
        if result:
            if not isinstance(result, dict):
                raise PermanentError(f"{ctx.step} hook {ref} returned {type(result).__name__}; return a dict or None")
            ctx.payload.update(result)
    return ctx.payload
