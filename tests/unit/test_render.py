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
