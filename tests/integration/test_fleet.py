"""
The fleet as users run it: `salt '*' state.highstate test=True` from the session's master,
whose file_roots are formulas/ (with the state top of formulas/top) and whose pillar is
pillar.example, over two sites times two roles (ams1 with a second hypervisor).

Two kinds of golden files, reviewed and committed under tests/golden/, show how the pillar
makes the minions differ; a change of defaults or pillar that alters a node shows up as a diff:

- ``mapdata/<minion>.yaml``: each formula's merged data (its map.jinja: defaults + pillar);
- ``highstate/<minion>.yaml``: per state, the predicted result and changes (and the comment
  of a state that would fail), with the minion's config root written ``<config_root>`` and
  every ``old`` value (what this machine has now) left out.

The minions run on this machine, which has no bond0 and no repl0: the bonding and bridge
states, and fra1's replication NIC, predict a failure that names what is missing, as they would
on a node whose NICs are not up yet.

``HOSTNODE_UPDATE_GOLDEN=1 make test`` rewrites them; review the diff before committing.
"""

import json
import os
import re

import pytest
import yaml

from support import MINIONS, REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOLDEN = REPO / "tests/golden"
FORMULAS = ("node", "anyip", "bonding", "storage_net", "ceph_osd", "openvz")
BRIDGES = "hostnode-node-bridges"
UPDATE = os.environ.get("HOSTNODE_UPDATE_GOLDEN") == "1"


def check_golden(path, data):
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=True)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: HOSTNODE_UPDATE_GOLDEN=1 writes it"
    assert text == path.read_text(), f"{path.relative_to(REPO)} differs from the fleet's answer"


@pytest.fixture(scope="module")
def highstate(salt_cli):
    result = salt_cli.run("state.highstate", "test=True", minion_tgt="*", _timeout=300)
    assert set(result.data) == set(MINIONS), result.stderr
    return result.data


@pytest.mark.parametrize("minion_id", MINIONS)
def test_each_formulas_merged_data_per_site_and_role(salt_cli, minion_id):
    merged = {}
    for formula in FORMULAS:
        template = f"{{% from '{formula}/map.jinja' import {formula} with context %}}"
        template += f"{{{{ {formula} | json }}}}"
        result = salt_cli.run("slsutil.renderer", f"string={template}",
                              "default_renderer=jinja", f"tpldir={formula}",
                              minion_tgt=minion_id)  # fmt: skip
        assert result.returncode == 0, result.stderr
        merged[formula] = json.loads(result.data)
    check_golden(GOLDEN / "mapdata" / f"{minion_id}.yaml", merged)


@pytest.mark.parametrize("minion_id", MINIONS)
def test_highstate_predictions_per_minion(highstate, minions, minion_id):
    (factory,) = [f for f in minions if f.id == minion_id]
    root = factory.config["hostnode"]["config_root"]
    returned = highstate[minion_id]
    assert isinstance(returned, dict), f"{minion_id}: the highstate did not render: {returned}"
    predicted = {state["__id__"]: prediction(key, state, root) for key, state in returned.items()}
    check_golden(GOLDEN / "highstate" / f"{minion_id}.yaml", predicted)


def prediction(key, state, root):
    changes = normal(state["changes"], root)
    if key.startswith("pkg_|-"):
        # the names only: the versions are whatever Debian's archive serves today
        changes = {"packages": sorted(changes)}
    predicted = {"result": state["result"], "changes": changes}
    if state["result"] is False:
        predicted["comment"] = normal(state["comment"], root)
    return predicted


def test_the_fleet_differs_as_the_pillar_says(highstate):
    bridges = {
        minion_id: sorted(set(re.findall(r"\bbr\d{4}\b", str(by_id(returned)[BRIDGES]))))
        for minion_id, returned in highstate.items()
        if BRIDGES in by_id(returned)
    }
    assert bridges == {
        "hv1.ams1.example.net": ["br0100", "br0200"],
        "hv2.ams1.example.net": ["br0100", "br0200"],
        "hv1.fra1.example.net": ["br0300"],
    }
    storage = {m for m, r in highstate.items() if "hostnode-ceph-osd-devices" in by_id(r)}
    assert storage == {"stor1.ams1.example.net", "stor1.fra1.example.net"}
    logins = {m: sorted(s for s in by_id(r) if s.startswith("hostnode-storage-net-iscsi"))
              for m, r in highstate.items() if m.startswith("hv")}  # fmt: skip
    assert logins == {
        "hv1.ams1.example.net": ["hostnode-storage-net-iscsi-ams1-san"],
        "hv2.ams1.example.net": ["hostnode-storage-net-iscsi-ams1-san"],
        "hv1.fra1.example.net": ["hostnode-storage-net-iscsi-fra1-eql"],
    }
    prefixes = {m: by_id(r)["hostnode-anyip-routes"]["changes"]["routes"]["added"]
                for m, r in highstate.items() if "hostnode-anyip-routes" in by_id(r)}  # fmt: skip
    assert prefixes == {
        "hv1.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
        "hv2.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
        "hv1.fra1.example.net": ["198.51.100.0/24", "2001:db8:100::/64"],
    }
    sysctl = {m: by_id(r)["hostnode-node-sysctl"]["changes"] for m, r in highstate.items()}
    swappiness = {m for m, changes in sysctl.items() if "vm.swappiness" in str(changes)}
    assert swappiness == {"stor1.ams1.example.net", "stor1.fra1.example.net"}


def by_id(returned):
    return {state["__id__"]: state for state in returned.values()}


def normal(value, root):
    """value with the config root replaced and "old" values (the host's own) left out."""
    if isinstance(value, dict):
        return {normal(k, root): normal(v, root) for k, v in value.items() if k != "old"}
    if isinstance(value, list):
        return [normal(item, root) for item in value]
    if isinstance(value, str):
        return value.replace(str(root), "<config_root>")
    return value
