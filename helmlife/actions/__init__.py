"""What helmlife itself does to a Helm release, one action per module (as Flux's helm-controller).

Installing, upgrading and uninstalling are the `kubernetes.helm.v3.Release`'s. Around it:
`render` (what Helm would apply, for preview's diff and checks), `remediate` (unstick a release a
dead helm left pending, before the Release's helm call), `uninstall` (the refusal check while CRDs
about to go hold custom resources, and the uninstall of a stack not yet moved to the Release),
and `diagnose` (what a failed attempt looked like in the cluster, for on_deploy_failure).
"""
