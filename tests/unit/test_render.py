"""When the preview render may go on past helm's install-time ownership check."""
from __future__ import annotations

from helmlife.actions.render import adopted_conflict

ERR = ('Error: Unable to continue with install: Service "legacy" in namespace "ns1" exists and cannot be '
       'imported into the current release: invalid ownership metadata')


def test_only_objects_the_spec_adopts_pass() -> None:
    assert adopted_conflict(ERR, ["Service/legacy"], "ns1")
    assert adopted_conflict(ERR, ["Service/ns1/legacy"], "other")
    assert not adopted_conflict(ERR, ["Service/other"], "ns1")
    assert not adopted_conflict(ERR, ["ConfigMap/legacy"], "ns1")
    assert not adopted_conflict("Error: execution error at (x/templates/a.yaml:2:4): no", ["Service/legacy"], "ns1")


def test_helm_reason_drops_the_command_helm_names() -> None:
    """Issue 18 item 6: a preview's dry run is no failed upgrade; helm's message stays whole."""
    from helmlife.actions.render import helm_reason

    schema = "Error: UPGRADE FAILED: values don't meet the specifications of the schema(s):\n- replicaCount: Invalid"
    assert helm_reason(schema) == "values don't meet the specifications of the schema(s):\n- replicaCount: Invalid"
    assert helm_reason("Error: INSTALLATION FAILED: boom") == "boom"
    warned = "walk.go:75: found symbolic link\nError: UPGRADE FAILED: boom"
    assert helm_reason(warned) == "walk.go:75: found symbolic link\nboom"
