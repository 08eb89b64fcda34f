"""One module per lifecycle step; each is driven by `base.StepProvider` through the same
functions: `diff(olds, news)`, `create(props)`, `update(olds, news)` and optionally
`check(news)` (runs at preview) and `delete(props)` (runs at destroy, in reverse order)."""
