"""
saltext.hostnode.refresh: the shared code is imported anew once any of its files changed (a sync),
kept while nothing changed, and two installs that shadow each other are refused naming both.
Each case runs in a Python of its own over a copy of the package, so this run's modules stay.
"""

import ast
import shutil
import subprocess
import sys
import textwrap

import pytest

from support import REPO

LOADER_MODULES = sorted(
    path
    for kind in ("_modules", "_states", "_grains", "_beacons")
    for path in (REPO / kind).glob("*.py")
)


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(REPO / "_utils/saltext", tmp_path / "one/saltext")
    return tmp_path


def python(code, *paths):
    prelude = f"import sys\nsys.path[:0] = {[str(p) for p in paths]!r}\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout.strip(), result.stderr


def test_nothing_changed_keeps_the_imported_modules(copy):
    code, out, err = python(
        """
        import saltext.hostnode
        from saltext.hostnode.utils import validate
        saltext.hostnode.refresh()
        from saltext.hostnode.utils import validate as again
        print(again is validate)
        """,
        copy / "one",
    )
    assert (code, out) == (0, "True"), err


def test_a_changed_file_brings_the_new_version_of_the_whole_package(copy):
    code, out, err = python(
        f"""
        import saltext.hostnode
        from saltext.hostnode.utils import files, validate
        old = saltext.hostnode
        path = {str(copy / "one/saltext/hostnode/utils/validate.py")!r}
        with open(path, "a") as handle:
            handle.write("\\nPROBE = 'two'\\n")
        saltext.hostnode.refresh()
        import saltext.hostnode as package
        from saltext.hostnode.utils import files as files_again, validate as validate_again
        print(validate_again.PROBE, files_again is not files, package is not old)
        """,
        copy / "one",
    )
    assert (code, out) == (0, "two True True"), err


def test_a_removed_file_drops_the_package(copy):
    code, out, err = python(
        f"""
        import os
        import sys
        import saltext.hostnode
        from saltext.hostnode.utils import prometheus
        os.remove({str(copy / "one/saltext/hostnode/utils/prometheus.py")!r})
        saltext.hostnode.refresh()
        print(sorted(name for name in sys.modules if name.startswith("saltext.hostnode")))
        """,
        copy / "one",
    )
    assert (code, out) == (0, "[]"), err


def test_two_installs_that_shadow_each_other_are_refused_naming_both(copy):
    shutil.copytree(copy / "one/saltext", copy / "two/saltext")
    code, _, err = python(
        """
        import saltext.hostnode
        saltext.hostnode.refresh()
        """,
        copy / "one",
        copy / "two",
    )
    assert code != 0
    assert "hostnode is installed twice" in err
    assert f"{copy}/one/saltext/hostnode shadows {copy}/two/saltext/hostnode" in err


@pytest.mark.parametrize("path", LOADER_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_loader_module_refreshes_before_it_imports_the_shared_code(path):
    statements = ast.parse(path.read_text()).body
    shared = [
        index
        for index, node in enumerate(statements)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("saltext.hostnode")
    ]
    if not shared:
        return  # beacons reach the shared code through __salt__
    refresh = [
        index
        for index, node in enumerate(statements)
        if isinstance(node, ast.Expr) and ast.unparse(node) == "saltext.hostnode.refresh()"
    ]
    assert refresh and refresh[0] < shared[0]
