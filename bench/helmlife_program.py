"""B: helmlife's program for the benchmark (copied as the `__main__.py` of its project).

The same `deploy_stack` as the project's own `__main__.py`, with the demo hooks in both
styles: operators (`op-*`) get `DemoOperatorChart` (a check_prerequisites hook, a validate hook
that waits for its CRDs), apps named `hk-*` get `app_hooks` (pre_exec, post_exec). Every step
is on, with its defaults.
"""
import pulumi

from helmlife.program import deploy_stack
from chart_hooks.demo import DemoOperatorChart, app_hooks

names = [c["name"] for c in pulumi.Config("helmlife").get_object("charts") or []]
deploy_stack(
    components={n: DemoOperatorChart for n in names if n.startswith("op-")},
    hooks={n: app_hooks for n in names if n.startswith("hk-")},
)
