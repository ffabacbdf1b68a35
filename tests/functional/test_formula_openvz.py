"""The openvz formula rendered by Salt's own state compiler from its defaults and pillar."""


def states_of(high):
    return {
        sid: {k: v for k, v in body.items() if not k.startswith("__")} for sid, body in high.items()
    }


def test_the_formula_renders_limits_beacon_and_schedule_from_pillar(loaders):
    pillar = {
        "hostnode": {"openvz": {"limits": {101: {"numproc": 400}}, "metrics": {"interval": 30}}}
    }
    high = states_of(loaders.modules.state.show_sls("openvz", pillar=pillar))
    limits = high["hostnode-openvz-limits"]["beancounters"]
    assert "limits" in limits and {"containers": {"101": {"numproc": 400}}} in limits
    beacon = high["hostnode-openvz-beacon"]["beacon"]
    assert "present" in beacon and {"threshold": 0.9} in beacon and {"save": True} in beacon
    schedule = high["hostnode-openvz-metrics"]["schedule"]
    assert {"function": "beancounters.write_metrics"} in schedule and {"seconds": 30} in schedule
    assert {
        "job_args": ["/var/lib/prometheus/node-exporter/hostnode_beancounters.prom"]
    } in schedule


def test_disabled_monitoring_renders_the_absent_states(loaders):
    pillar = {"hostnode": {"openvz": {"beacon": {"enabled": False}, "metrics": {"enabled": False}}}}
    high = states_of(loaders.modules.state.show_sls("openvz.monitoring", pillar=pillar))
    assert "absent" in high["hostnode-openvz-beacon"]["beacon"]
    assert "absent" in high["hostnode-openvz-metrics"]["schedule"]
