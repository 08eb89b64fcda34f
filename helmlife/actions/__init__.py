"""What helmlife does to a Helm release, one action per module (as Flux's helm-controller).

The `release` step composes them: `remediate` (unstick a release a dead helm left pending),
`install` (upgrade --install, with on_deploy_failure), `uninstall`, and `diagnose` for what a
failed attempt looked like in the cluster.
"""
