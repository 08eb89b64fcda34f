"""helmlife: a real lifecycle for Helm charts inside Pulumi."""
