"""
Guards over the whole tree, read with ``ast`` (what the code says) and by calling every public
execution function with a value no field accepts (what the code does):

- commands: only the one ``_run`` of a module reaches ``__salt__["cmd.*"]``; nothing else
  starts a process (subprocess, os.system, os.popen, os.exec*); the shared runner passes a list
  and ``python_shell=False``; no call anywhere says ``python_shell=True``;
- files: nothing but the atomic writer opens a file for writing (``open``/``fopen`` in a
  writing mode, ``os.open`` with write flags, ``write_text``, ``shutil.copy*``, ``os.rename``);
- validation: a public function given a bad value in every parameter raises
  SaltInvocationError before any command has run.
"""

import ast
import inspect
import pathlib

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from support import REPO, CommandTable, load_module

SOURCES = sorted(
    path
    for kind in ("_modules", "_states", "_utils", "_beacons", "_grains")
    for path in (REPO / kind).rglob("*.py")
)
MODULES = sorted((REPO / "_modules").glob("*.py"))
WRITER = REPO / "_utils/saltext/hostnode/utils/files.py"
RUNNER = REPO / "_utils/saltext/hostnode/utils/command.py"
PROCESS_CALLS = {("subprocess", None), ("os", "system"), ("os", "popen"), ("os", "spawn"),
                 ("os", "exec"), ("os", "fork"), ("pty", "spawn")}  # fmt: skip
WRITE_CALLS = {"write_text", "write_bytes", "copy", "copy2", "copyfile", "move", "rename"}


def tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def nodes(path, kind):
    """(node, name of the function it is in) for every node of a kind in the file."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, kind):
                found.append((child, function))
            visit(child, inner)

    visit(tree(path), None)
    return found


def calls(path):
    return nodes(path, ast.Call)


def command_uses(path):
    """``__salt__["cmd.*"]`` wherever it is used (called, or passed on), with its function."""
    return [
        (n, f) for n, f in nodes(path, ast.Subscript) if (salt_function(n) or "").startswith("cmd.")
    ]


def dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def salt_function(node):
    """X of ``__salt__["X"]``, or None."""
    if isinstance(node, ast.Subscript) and dotted(node.value) == "__salt__":
        key = node.slice
        return key.value if isinstance(key, ast.Constant) else "<computed>"
    return None


def keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def where(path, node):
    return f"{path.relative_to(REPO)}:{node.lineno}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_shell_and_commands_only_through_the_one_run(path):
    bad = []
    for call, _ in calls(path):
        shell = keyword(call, "python_shell")
        if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
            bad.append(f"{where(path, call)}: python_shell is not False")
        module, _, attr = dotted(call.func).partition(".")
        if (module, None) in PROCESS_CALLS or any(
            (module, prefix) in PROCESS_CALLS for prefix in (attr, attr[:4], attr[:5])
        ):
            bad.append(f"{where(path, call)}: {dotted(call.func)} starts a process")
    for use, function in command_uses(path):
        if function != "_run":
            bad.append(f"{where(path, use)}: __salt__[{salt_function(use)!r}] outside _run")
    assert not bad, bad


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_each_module_has_one_run_and_passes_the_argv_as_a_list(path):
    runs = [n for n in tree(path).body if isinstance(n, ast.FunctionDef) and n.name == "_run"]
    assert len(runs) == (1 if command_uses(path) else 0), f"{path.name}: {len(runs)} _run functions"
    for call, _ in calls(path):
        if dotted(call.func) == "_run" and call.args:
            argv = call.args[0]
            assert not isinstance(argv, (ast.Constant, ast.JoinedStr, ast.BinOp)), (
                f"{where(path, call)}: _run given a string, not an argv list"
            )


def test_the_shared_runner_passes_the_argv_to_cmd_run_all_without_a_shell():
    (call,) = [c for c, _ in calls(RUNNER) if dotted(c.func) == "cmd_run_all"]
    shell = keyword(call, "python_shell")
    assert isinstance(shell, ast.Constant) and shell.value is False
    assert dotted(call.args[0]) == "argv"
    table = CommandTable()
    with pytest.raises(TypeError):
        load_runner().run(table, "ip route show")  # a string is refused, not split by a shell
    assert table.calls == []


def load_runner():
    from saltext.hostnode.utils import command as hostnode_command  # noqa: PLC0415

    return hostnode_command


def writing(call):
    """Why call writes a file, or None."""
    name = dotted(call.func)
    last = name.rpartition(".")[2]
    if last in ("open", "fopen") and name != "os.open":
        mode = call.args[1] if len(call.args) > 1 else keyword(call, "mode")
        if mode is not None and not (
            isinstance(mode, ast.Constant) and isinstance(mode.value, str)
        ):
            return f"{name} with a mode computed at run time"
        if mode is not None and set(mode.value) & set("wax+"):
            return f"{name}(..., {mode.value!r})"
    if name == "os.open":
        return "os.open"
    if last.startswith("write_") or (
        last in WRITE_CALLS and name.split(".")[0] in ("shutil", "os")
    ):
        return name
    return None


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if p != WRITER], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_only_the_atomic_writer_writes_files(path):
    bad = [f"{where(path, c)}: {why}" for c, _ in calls(path) if (why := writing(c))]
    assert not bad, bad


BAD_SOURCE = """
import subprocess

def _run(argv):
    return __salt__["cmd.run_all"](argv, python_shell=True)

def leak(path):
    __salt__["cmd.run"]("ip route show")
    subprocess.run(["true"])
    with open(path, "w") as handle:
        handle.write("x")
    _run("ip link")
"""


def test_the_guards_see_what_they_look_for(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(BAD_SOURCE)
    assert [why for c, _ in calls(path) if (why := writing(c))] == ["open(..., 'w')"]
    assert [f for _, f in command_uses(path)] == ["_run", "leak"]
    assert [keyword(c, "python_shell").value for c, _ in calls(path) if keyword(c, "python_shell")]
    assert [dotted(c.func) for c, _ in calls(path) if dotted(c.func).startswith("subprocess")]
    assert any(
        isinstance(c.args[0], ast.Constant) for c, _ in calls(path) if dotted(c.func) == "_run"
    )


# A value no parameter accepts: not an interface, prefix, IQN, device, path, number or mode,
# with a newline and a shell metacharacter in case something passes it on unchecked.
POISON = "bad value\n;|$("


def public(module):
    aliases = getattr(module, "__func_alias__", {})
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ == module.__name__ and not name.startswith("_"):
            yield aliases.get(name, name), function


def loaded(stem, table, tmp_path):
    module = load_module("modules", stem)
    config = {"hostnode:config_root": str(tmp_path)}
    module.__salt__ = {
        "cmd.run_all": table,
        "config.get": lambda key, default=None: config.get(key, default),
    }
    module.__opts__ = {"test": False, "cachedir": str(tmp_path / "cache"), "id": "node1"}
    module.__pillar__ = {}
    module.__grains__ = {"id": "node1", "kernel": "Linux"}
    module.__context__ = {}
    return module


def every_function():
    for path in MODULES:
        for name, function in public(load_module("modules", path.stem)):
            if inspect.signature(function).parameters:
                yield pytest.param(path.stem, function.__name__, id=f"{path.stem}.{name}")


@pytest.mark.parametrize(("stem", "function"), list(every_function()))
def test_a_bad_value_everywhere_is_refused_before_any_command(stem, function, tmp_path):
    table = CommandTable()
    module = loaded(stem, table, tmp_path)
    parameters = inspect.signature(getattr(module, function)).parameters
    with pytest.raises((SaltInvocationError, CommandExecutionError)) as raised:
        getattr(module, function)(**dict.fromkeys(parameters, POISON))
    assert table.calls == [], f"ran {table.argvs()} before refusing ({raised.value})"
    assert raised.type is SaltInvocationError, f"not refused as invalid input: {raised.value}"
    assert pathlib.Path(tmp_path).exists()
