"""The storage_net formula rendered by Salt's own state compiler from its defaults and pillar."""

import yaml

from support import REPO

SITE_FRA1 = yaml.safe_load((REPO / "pillar.example/site/fra1.sls").read_text())
SITE_FRA1["hostnode"]["storage_net"]["iscsi"]["enabled"] = True  # as role hypervisor does


def states_of(high):
    return {
        sid: {k: v for k, v in body.items() if not k.startswith("__")} for sid, body in high.items()
    }


def args(body, module):
    """The state function and its arguments as one dict."""
    (function,) = [item for item in body[module] if isinstance(item, str)]
    merged = {}
    for argument in body[module]:
        merged.update(argument if isinstance(argument, dict) else {})
    return function, merged


def test_one_login_state_per_target_after_multipath_conf(loaders):
    high = states_of(loaders.modules.state.show_sls("storage_net", pillar=SITE_FRA1))
    function, login = args(high["hostnode-storage-net-iscsi-fra1-eql"], "iscsi")
    assert function == "logged_in"
    assert login["name"] == "iqn.2001-05.com.equallogic:0-af1ff6-fra1-vol1"
    assert [p["iface"] for p in login["portals"]] == ["ieth-a", "ieth-b"]
    assert login["chap_pillar"] == "hostnode_secrets:iscsi:fra1-eql"
    assert login["settings"] == {"node.session.timeo.replacement_timeout": 15}
    assert login["require"] == [{"sls": "storage_net.multipath"}]
    _, conf = args(high["hostnode-storage-net-multipath-conf"], "multipath")
    assert conf["config"]["devices"][0]["vendor"] == "EQLOGIC"
    assert "present" in high["hostnode-storage-net-multipath-beacon"]["beacon"]
    assert "absent" in high["hostnode-storage-net-multipath-metrics"]["schedule"]
    assert "hostnode-storage-net-multipath-healthy" not in high  # check: false by default


def test_check_metrics_and_a_beacon_left_alone(loaders):
    pillar = {"hostnode": {"storage_net": {"multipath": {
        "check": True, "min_paths": 2, "beacon": {"enabled": None},
        "metrics": {"enabled": True, "interval": 30}}}}}  # fmt: skip
    high = states_of(loaders.modules.state.show_sls("storage_net", pillar=pillar))
    _, check = args(high["hostnode-storage-net-multipath-healthy"], "multipath")
    assert check["min_paths"] == 2 and check["retry"]["attempts"] == 10
    # no targets, so no login states: a requisite on the empty iscsi SLS would fail the run
    assert check["min_maps"] == 0 and "require" not in check
    with_logins = {"hostnode": {**SITE_FRA1["hostnode"], "storage_net": {
        **SITE_FRA1["hostnode"]["storage_net"], "multipath": {"check": True}}}}  # fmt: skip
    high = states_of(loaders.modules.state.show_sls("storage_net", pillar=with_logins))
    _, check = args(high["hostnode-storage-net-multipath-healthy"], "multipath")
    assert check["min_maps"] == 1 and check["require"] == [{"sls": "storage_net.iscsi"}]
    high = states_of(loaders.modules.state.show_sls("storage_net", pillar=pillar))
    assert "hostnode-storage-net-multipath-beacon" not in high
    function, schedule = args(high["hostnode-storage-net-multipath-metrics"], "schedule")
    assert function == "present" and schedule["function"] == "multipath.write_metrics"
    assert schedule["seconds"] == 30 and schedule["job_kwargs"] == {"min_paths": 2}


def test_without_the_storage_client_role_no_login(loaders):
    site_only = yaml.safe_load((REPO / "pillar.example/site/fra1.sls").read_text())
    high = states_of(loaders.modules.state.show_sls("storage_net", pillar=site_only))
    assert not [sid for sid in high if sid.startswith("hostnode-storage-net-iscsi")]


def test_clean_logs_out_of_the_pillars_targets(loaders):
    high = states_of(loaders.modules.state.show_sls("storage_net.clean", pillar=SITE_FRA1))
    function, logout = args(high["hostnode-storage-net-iscsi-fra1-eql-clean"], "iscsi")
    assert function == "logged_out" and logout["name"].endswith("fra1-vol1")
    assert "hostnode-storage-net-multipath-conf-clean" in high
