"""
beancounters.no_new_failures through Salt's real state compiler: its baseline is kept per state
ID, and a state ID may hold anything Salt allows in one (spaces, slashes).
"""

import shutil

from support import FIXTURES

SLS = """
{ids[0]}:
  beancounters.no_new_failures:
    - source: {source}
{ids[1]}:
  beancounters.no_new_failures:
    - source: {source}
"""
IDS = ("openvz no new failures", "openvz/no new failures")


def test_a_state_id_with_spaces_keeps_a_baseline_of_its_own(loaders, tmp_path):
    source = tmp_path / "user_beancounters"
    shutil.copy(FIXTURES / "beancounters/forum-ct70160-failcnt.txt", source)
    sls = SLS.format(ids=IDS, source=source)
    first = loaders.modules.state.template_str(sls).raw
    again = loaders.modules.state.template_str(sls).raw
    for state in first.values():
        assert state["result"] is False, state["comment"]
        assert state["comment"] == "failcnt grew: 70160: shmpages +9569"
    for state in again.values():
        assert state["result"] is True, state["comment"]
    assert sorted(state["__id__"] for state in again.values()) == sorted(IDS)
