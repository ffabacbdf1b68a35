"""House rules that every module of the tree keeps, checked for all of them at once."""

import ast
import configparser
import importlib.util
import pathlib
import re

import pytest
import salt

from support import REPO

SALT_DIR = pathlib.Path(salt.__file__).parent
MODULE_FILES = sorted((REPO / "_modules").glob("*.py"))
STATE_FILES = sorted((REPO / "_states").glob("*.py"))


def public_functions(path):
    tree = ast.parse(path.read_text())
    aliases = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "__func_alias__":
            aliases = ast.literal_eval(node.value)
    return [
        (aliases.get(node.name, node.name), ast.get_docstring(node) or "")
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    ]


def virtualname(path):
    match = re.search(r'^__virtualname__ = "([^"]+)"', path.read_text(), re.MULTILINE)
    return match.group(1) if match else path.stem


def core_names(kind):
    """Every name under which Salt's own modules of a kind load: file stems and virtualnames."""
    names = set()
    for path in (SALT_DIR / kind).glob("*.py"):
        names.add(path.stem)
        names.update(
            re.findall(r'^__virtualname__ = "([^"]+)"', path.read_text(errors="replace"), re.M)
        )
    return names


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.stem)
def test_every_public_execution_function_has_a_cli_example(path):
    missing = [name for name, doc in public_functions(path) if "CLI Example:" not in doc]
    assert not missing, f"{path.name}: no 'CLI Example:' in the docstring of {missing}"


@pytest.mark.parametrize("path", STATE_FILES, ids=lambda p: p.stem)
def test_every_public_state_function_has_an_sls_example(path):
    missing = [name for name, doc in public_functions(path) if ".. code-block:: yaml" not in doc]
    assert not missing, f"{path.name}: no SLS example in the docstring of {missing}"


@pytest.mark.parametrize(
    ("kind", "paths"),
    [("modules", MODULE_FILES), ("states", STATE_FILES)],
    ids=["modules", "states"],
)
def test_no_virtualname_shadows_a_salt_core_module(kind, paths):
    clashes = {virtualname(p) for p in paths} & core_names(kind)
    assert not clashes, f"these {kind} would shadow Salt's own: {sorted(clashes)}"


def test_state_modules_pair_with_an_execution_module():
    assert {virtualname(p) for p in STATE_FILES} <= {virtualname(p) for p in MODULE_FILES}


def setup_cfg():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return config


def test_the_shared_code_is_one_package_beside_the_loader_dirs():
    assert [p.name for p in (REPO / "_utils").iterdir() if p.name != "__pycache__"] == ["saltext"]
    packages = set(setup_cfg()["options"]["packages"].split())
    assert packages == {"saltext.hostnode", "saltext.hostnode.utils"} | {
        f"saltext.hostnode.{kind}" for kind in ("modules", "states", "grains", "beacons")
    }


def test_install_requires_admits_every_locked_salt_and_pins_nothing():
    requires = setup_cfg()["options"]["install_requires"].split()
    assert "salt>=3006" in requires and not [r for r in requires if "==" in r]
    for lock in ("requirements.lock", "requirements-3006.lock"):
        (salt,) = [line for line in (REPO / lock).read_text().splitlines()
                   if line.startswith("salt==")]  # fmt: skip
        assert int(salt.split("==")[1].split(".")[0]) >= 3006, lock


def test_pins_of_setup_cfg_are_the_versions_in_requirements_lock():
    lock = dict(
        line.lower().split("==")
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    config = setup_cfg()["options"]
    pins = (
        config["install_requires"].split() + setup_cfg()["options.extras_require"]["test"].split()
    )
    for pin in (p for p in pins if "==" in p):
        name, version = pin.lower().split("==")
        assert lock.get(name) == version, (
            f"setup.cfg pins {pin}, requirements.lock has {lock.get(name)}"
        )


def docs_reference_modules():
    """What docs/conf.py puts in the generated reference (loaded by path: no Sphinx needed)."""
    spec = importlib.util.spec_from_file_location("hostnode_docs_conf", REPO / "docs/conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf.reference_modules()


@pytest.mark.parametrize("kind", ["_modules", "_states", "_grains", "_beacons"])
def test_every_public_function_has_a_docs_reference_entry(kind):
    """autodoc documents a module's public functions that have a docstring: all of them must."""
    documented = docs_reference_modules()[kind]
    for path in sorted((REPO / kind).glob("*.py")):
        assert path.stem in documented, f"{kind}/{path.name} is not in the docs reference"
        undocumented = [name for name, doc in public_functions(path) if not doc.strip()]
        assert not undocumented, f"{kind}/{path.name}: no docstring, no docs entry: {undocumented}"
