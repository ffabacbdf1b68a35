"""
CHAP secrets on a real fleet: pillar.example's top serves each site's secrets file by minion id
(the master accepted that id's key), never by grain, which a minion sets itself. A minion that
claims the hypervisor role in its own grains, with an id in ams1's domain, is started beside
the session's fleet: it gets ams1's configuration (site by id, role by grain) but no secret.
Only the targets' names are compared: Salt 3008 masks pillar values in pillar.get.
"""

import pytest

from support import MINIONS, fleet_minion_root

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLAIMANT = "hv3.ams1.example.net"
SECRETS = {
    "hv1.ams1.example.net": ["ams1-san"],
    "hv2.ams1.example.net": ["ams1-san"],
    "hv1.fra1.example.net": ["fra1-eql"],
    "stor1.ams1.example.net": [],
    "stor1.fra1.example.net": [],
    CLAIMANT: [],
}


@pytest.fixture(scope="module")
def claimant(master, salt_cli, tmp_path_factory):
    """A minion with the hypervisor role in its own grains and an id the top does not list;
    stopped and its key deleted afterwards, so the session's other tests see the fleet alone."""
    root = fleet_minion_root(tmp_path_factory.mktemp(CLAIMANT), CLAIMANT)
    overrides = {"hostnode": {"config_root": str(root)}, "grains": {"roles": ["hypervisor"]}}
    factory = master.salt_minion_daemon(CLAIMANT, overrides=overrides)
    factory.start(start_timeout=180)
    try:
        synced = salt_cli.run("saltutil.sync_all", minion_tgt=CLAIMANT)
        assert synced.returncode == 0, synced.stderr
        yield factory
    finally:
        factory.terminate()
        master.salt_key_cli().run("-d", CLAIMANT, "-y")


def test_secrets_go_by_minion_id_never_by_grain(salt_cli, claimant):
    result = salt_cli.run("pillar.get", "hostnode_secrets:iscsi", minion_tgt="*")
    assert set(result.data) == {*MINIONS, CLAIMANT}, result.stderr
    served = {minion: sorted(value or {}) for minion, value in result.data.items()}
    assert served == SECRETS
    roles = salt_cli.run("grains.get", "roles", minion_tgt=CLAIMANT)
    assert roles.data == ["hypervisor"]


def test_a_claimed_role_logs_in_nowhere_without_the_secret(salt_cli, claimant):
    result = salt_cli.run("state.apply", "storage_net", "test=True", minion_tgt=CLAIMANT)
    states = {key.split("_|-")[1]: state for key, state in result.data.items()}
    login = states["hostnode-storage-net-iscsi-ams1-san"]
    assert login["result"] is False
    assert "chap_pillar: pillar has no 'hostnode_secrets:iscsi:ams1-san'" in login["comment"]
    assert login["changes"] == {}
