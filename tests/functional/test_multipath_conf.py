"""
multipath.configure against the real multipath-tools of this host: `multipath -t` reads the
candidate through an overlay on /etc in a private mount namespace, accepts a good config and
refuses a bad one; the host's /etc/multipath.conf is never written.
"""

import os
import shutil
import subprocess

import pytest
from salt.exceptions import SaltInvocationError

from support import load_module, salt_dunders

multipath = load_module("modules", "multipath")
pytestmark = pytest.mark.skipif(
    not shutil.which("multipath") or os.geteuid() != 0,
    reason="needs root and multipath-tools (package multipath-tools)",
)


def run_all(argv, python_shell=False, stdin=None, **_options):
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    return {"retcode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "pid": 1}


@pytest.fixture
def configure_loader_modules(config_root):
    return {multipath: salt_dunders(run_all, config_root)}


def test_the_real_multipath_t_accepts_and_refuses(config_root):
    live = os.path.exists("/etc/multipath.conf")
    good = {
        "defaults": {"user_friendly_names": True, "polling_interval": 5},
        "multipaths": [{"wwid": "360014055842abf2622f46ea8759caaf4", "alias": "san"}],
    }
    changes = multipath.configure(good)
    assert changes["file"]["path"] == str(config_root / "etc/multipath.conf")
    bad = {"defaults": {"user_friendly_names": True, "no_such_keyword": 7}}
    with pytest.raises(SaltInvocationError, match="invalid keyword in the defaults section"):
        multipath.configure(bad)
    bad_value = {"defaults": {"polling_interval": "soon"}}
    with pytest.raises(SaltInvocationError, match="invalid value for polling_interval"):
        multipath.configure(bad_value)
    assert multipath.configure(good) == {}
    assert os.path.exists("/etc/multipath.conf") == live


def test_a_drop_in_is_read_by_the_real_multipath_t_where_multipathd_reads_it(config_root):
    name = "/etc/multipath/conf.d/hostnode.conf"
    live = os.path.exists(name)
    bad = {"defaults": {"no_such_keyword": 7}}
    with pytest.raises(SaltInvocationError, match=r"invalid keyword in the defaults section"):
        multipath.configure(bad, name)
    changes = multipath.configure({"defaults": {"polling_interval": 5}}, name)
    assert changes["file"]["path"] == str(config_root / name[1:])
    assert os.path.exists(name) == live
