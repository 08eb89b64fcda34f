"""One module per lifecycle step, each driven by `base.StepProvider` through the same names:
`TRIGGERS` (the inputs whose change re-runs the step), `create(props)`, `update(olds, news)`,
and optionally `diff(olds, news)` (when TRIGGERS alone is not the rule), `check(news)` (runs
at preview) and `delete(props)` (runs at destroy, in reverse order)."""
