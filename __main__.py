"""helmlife's Pulumi program: every chart in the stack's `helmlife:charts` config becomes a
LifecycleChart; charts listed here get user hooks (one in each hook style)."""
from helmlife.program import deploy_stack

from chart_hooks.demo import DemoOperatorChart, app_hooks

deploy_stack(
    components={"demo-operator": DemoOperatorChart},
    hooks={"demo-app": app_hooks},
)
