"""
bin/hostnode-call prints none of the warnings of Salt's own import machinery, even when the
caller asks Python for every warning (PYTHONWARNINGS=default), while plain salt-call does.
"""

import os
import subprocess
import sys

from support import REPO


def run(argv, tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="default", HOSTNODE_HOME=str(tmp_path / "salt"),
               HOSTNODE_VENV=sys.prefix)  # fmt: skip
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def test_no_interpreter_warning_of_salts_own(tmp_path):
    ours = run([str(REPO / "bin/hostnode-call"), "--out=json", "test.ping"], tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert "Warning" not in ours.stderr, ours.stderr
    plain = run([f"{sys.prefix}/bin/salt-call", "--local", "-c", str(tmp_path / "salt"),
                 "--out=json", "test.ping"], tmp_path)  # fmt: skip
    assert "Warning" in plain.stderr  # the same call without the filter: Salt's warnings show
