"""
The gitfs remotes of docs/install.md, served by a real salt-master from a local clone of this
checkout's files (the docs' URL replaced by a file:// one): the formulas, the state top and the
extension dirs at their mountpoints, and nothing of .git or pillar.example.
"""

import shutil
import subprocess

import pytest

from support import EXTENSION_DIRS, REPO, documented_master_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DOCUMENTED_URL = "https://git.example.net/hostnode.git"


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    """A git repository holding what a clone of hostnode holds (pillar.example included)."""
    repo = tmp_path_factory.mktemp("hostnode-git")
    for name in (*EXTENSION_DIRS, "formulas", "pillar.example"):
        shutil.copytree(REPO / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.net"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "hostnode"], check=True)
    return repo


@pytest.fixture(scope="module")
def file_list(salt_factories, repository):
    config = documented_master_config("hostnode-gitfs.conf")
    url = f"file://{repository}"
    remotes = [{url: options} for remote in config["gitfs_remotes"] for options in remote.values()]
    assert [next(iter(r)) for r in config["gitfs_remotes"]] == [DOCUMENTED_URL] * len(remotes)
    overrides = {
        **config,
        "gitfs_remotes": remotes,
        "gitfs_provider": "gitpython",
        "gitfs_base": "main",
        "file_roots": {"base": []},
    }
    master = salt_factories.salt_master_daemon("gitfs-master", overrides=overrides)
    with master.started(start_timeout=120):
        run = master.salt_run_cli(timeout=120)
        updated = run.run("fileserver.update", "backend=gitfs")
        assert updated.returncode == 0, updated.stderr
        listed = run.run("fileserver.file_list", "backend=gitfs")
        assert listed.returncode == 0, listed.stderr
        yield set(listed.data)


def test_the_formulas_the_top_and_the_extension_dirs_are_served(file_list):
    shared = "_utils/saltext/hostnode"
    served = ("anyip/init.sls", "node/init.sls", "top.sls", "_modules/anyip.py", "_states/anyip.py",
              "_grains/hostnode_net.py", "_beacons/multipath.py", f"{shared}/__init__.py",
              f"{shared}/utils/anyip.py")  # fmt: skip
    assert [path for path in served if path not in file_list] == []


def test_nothing_of_the_repository_itself_or_its_examples_is_served(file_list):
    assert not [p for p in file_list if p.startswith((".git", "pillar.example", "formulas/"))]
    assert not [p for p in file_list if "secrets" in p]
