"""
The host's LVM filter: its patterns (device-mapper names with the VG's dashes doubled), the
lvmlocal.conf it renders, the parser of lvmconfig's output on real captures, and
node_lvm.global_filter planning, checking with LVM's tools (stood in for here; the real ones in
tests/functional/test_node_lvm_filter.py) and writing the file, test=True exact.
"""

import re

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import lvm as hostnode_lvm
from support import CommandTable, fixture_text, load_module, salt_dunders

node_lvm = load_module("modules", "node_lvm")
node_lvm_state = load_module("states", "node_lvm")
node = load_module("modules", "node")

FILTER = '"r|^/dev/drbd|", "r|^/dev/xen-vg/|", "r|^/dev/mapper/xen--vg-[^-]|"'


def _text(case):
    """A fixture without its first line (the line naming its source)."""
    return fixture_text("lvmconfig", case).split("\n", 1)[1]


@pytest.fixture
def commands():
    return CommandTable()


@pytest.fixture
def configure_loader_modules(commands, config_root):
    salt = {**salt_dunders(commands, config_root)["__salt__"],
            "node_lvm.global_filter": node_lvm.global_filter}  # fmt: skip
    return {
        node_lvm: salt_dunders(commands, config_root),
        node_lvm_state: {"__salt__": salt, "__opts__": {"test": False}},
        node: {**salt_dunders(commands, config_root), "__pillar__": {},
               "__opts__": {"id": "hv1.ams1.example.net"}},
    }  # fmt: skip


def lvmlocal(config_root):
    return config_root / "etc/lvm/lvmlocal.conf"


def test_instance_disks_are_named_as_udev_and_device_mapper_name_them():
    assert hostnode_lvm.instance_disk_patterns("xenvg") == [
        "^/dev/xenvg/", "^/dev/mapper/xenvg-[^-]",
    ]  # fmt: skip
    # dm doubles the dashes of the VG name; an LV name never starts with a dash, so VG "xen"
    # does not match the LVs of VG "xen-vg" (/dev/mapper/xen--vg-disk0)
    assert hostnode_lvm.instance_disk_patterns("xen-vg") == [
        "^/dev/xen-vg/", "^/dev/mapper/xen--vg-[^-]",
    ]  # fmt: skip
    assert hostnode_lvm.instance_disk_patterns("vg.a+b") == [
        "^/dev/vg[.]a[+]b/", "^/dev/mapper/vg[.]a[+]b-[^-]",
    ]  # fmt: skip


def test_the_filter_rejects_drbd_the_instance_disks_then_the_pillars_own_regexes():
    patterns = hostnode_lvm.filter_patterns("xen-vg", True, True, ["^/dev/nbd", "^/dev/drbd"])
    assert patterns == ["^/dev/drbd", "^/dev/xen-vg/", "^/dev/mapper/xen--vg-[^-]", "^/dev/nbd"]
    assert hostnode_lvm.filter_patterns(None, True, False, []) == ["^/dev/drbd"]
    assert hostnode_lvm.filter_patterns("xenvg", False, False, []) == []


def test_the_rendered_lvmlocal_conf_holds_reject_patterns_only_and_no_devices_file():
    text = hostnode_lvm.render_lvmlocal(["^/dev/drbd", "^/dev/xen-vg/"], "Managed by hostnode.")
    assert text == (
        "# Managed by hostnode.\n"
        "# The node's LVM never scans nor activates the volume groups inside instance disks and\n"
        "# DRBD devices: every name of such a device is rejected (docs/node-bootstrap.md).\n"
        "devices {\n"
        "\tuse_devicesfile = 0\n"
        '\tglobal_filter = [ "r|^/dev/drbd|", "r|^/dev/xen-vg/|" ]\n'
        "}\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, True, True, []), "F:reject_instance_disks: needs the volume group"),
        (("xenvg", "yes", True, []), "F:reject_drbd: must be true or false"),
        (("xenvg", True, 1, []), "F:reject_instance_disks: must be true or false"),
        (("xenvg", True, True, "^/dev/nbd"), "F:reject: a list of regular expressions"),
        (("xenvg", True, True, ["^/dev/a|b"]), "F:reject:0: '^/dev/a|b' is not a regular"),
        (("xenvg", True, True, ["ok", 'a"b']), "F:reject:1: "),
        (("xenvg", True, True, ["\\."]), "a literal dot is [.]"),
        (("xenvg", True, True, [""]), "F:reject:0: '' is not"),
    ],
)
def test_bad_filter_input_names_the_field(args, message):
    with pytest.raises(SaltInvocationError, match=re.escape(message)):
        hostnode_lvm.filter_patterns(*args, "F:")


def test_lvmconfig_output_of_real_files():
    assert hostnode_lvm.parse_lvmconfig(_text("debian-lvmlocal-template.txt")) == {}
    assert hostnode_lvm.parse_lvmconfig(_text("admin-settings.txt")) == {
        "local/system_id": '"hv1"',
        "devices/global_filter": '"r|^/dev/nbd|"',
        "devices/scan_lvs": "0",
        "activation/volume_list": '"xenvg"',
    }
    with pytest.raises(ValueError, match="line 2: not lvmconfig output"):
        hostnode_lvm.parse_lvmconfig("devices {\n  Parse error\n}\n")
    with pytest.raises(ValueError, match="unclosed section"):
        hostnode_lvm.parse_lvmconfig("devices {\n")


def checks(text):
    return [
        ["lvmconfig", "--config", text, "--validate"],
        ["pvs", "--config", text, "--devices", "/dev/null", "--noheadings", "-o", "pv_name"],
    ]


def test_test_true_predicts_the_write_exactly_and_a_second_run_changes_nothing(
    commands, config_root
):
    path = lvmlocal(config_root)
    predicted = node_lvm.global_filter("xen-vg", test=True)
    assert not path.exists(), "test=True wrote the file"
    applied = node_lvm.global_filter("xen-vg")
    assert applied == predicted
    assert f"+\tglobal_filter = [ {FILTER} ]" in applied["files"][str(path)]
    text = path.read_text()
    assert text.startswith(f"# {node_lvm.HEADER}\n") and f"[ {FILTER} ]" in text
    assert commands.argvs() == checks(text) * 2, "the candidate is checked by LVM, twice"
    assert node_lvm.global_filter("xen-vg") == {}
    assert len(commands.argvs()) == 4, "an unchanged file runs no command"


def test_debians_template_is_taken_over_and_nothing_to_reject_removes_the_file(
    commands, config_root
):
    path = lvmlocal(config_root)
    path.parent.mkdir(parents=True)
    template = "# the template's comments\nlocal {\n}\n"
    path.write_text(template)
    commands.answers[("lvmconfig", "--config", template)] = (
        0, _text("debian-lvmlocal-template.txt"), "",
    )  # fmt: skip
    assert node_lvm.global_filter("xenvg", reject=["^/dev/nbd"])
    assert '"r|^/dev/nbd|" ]' in path.read_text()
    removed = node_lvm.global_filter("xenvg", False, False, [], test=True)
    assert list(removed["files"]) == [str(path)] and path.exists()
    assert node_lvm.global_filter("xenvg", False, False, []) == removed
    assert not path.exists()


def test_a_file_lvm_cannot_read_is_an_error_and_stays(commands, config_root):
    path = lvmlocal(config_root)
    path.parent.mkdir(parents=True)
    broken = 'devices {\n global_filter = [ "r|x|",\n}\n'
    path.write_text(broken)
    commands.answers[("lvmconfig", "--config", broken)] = (
        3, "", _text("parse-error.stderr.txt"),
    )  # fmt: skip
    for test in (True, False):
        with pytest.raises(
            CommandExecutionError,
            match=r"LVM cannot read it \(exit 3: Parse error at byte 38 \(line 3\)",
        ):
            node_lvm.global_filter("xenvg", test=test)
    assert path.read_text() == broken


def test_someone_elses_settings_are_refused_by_name(commands, config_root):
    path = lvmlocal(config_root)
    path.parent.mkdir(parents=True)
    theirs = 'local {\n system_id = "hv1"\n}\n'
    path.write_text(theirs)
    commands.answers[("lvmconfig", "--config", theirs)] = (0, _text("admin-settings.txt"), "")
    message = (
        "holds settings that are not hostnode's: activation/volume_list, devices/global_filter, "
        "devices/scan_lvs, local/system_id"
    )
    with pytest.raises(CommandExecutionError, match=message):
        node_lvm.global_filter("xenvg")
    assert path.read_text() == theirs


def test_a_candidate_lvm_rejects_changes_nothing(commands, config_root):
    text = hostnode_lvm.render_lvmlocal(
        hostnode_lvm.filter_patterns("xenvg", True, True, ["^/dev/(nbd"]), node_lvm.HEADER
    )
    commands.answers[tuple(checks(text)[1])] = (5, "", _text("pvs-bad-regex.stderr.txt"))
    with pytest.raises(
        CommandExecutionError,
        match=r"rejected by LVM \(exit 5: missing '\)' in regular expression; Parse error",
    ):
        node_lvm.global_filter("xenvg", reject=["^/dev/(nbd"])
    assert not lvmlocal(config_root).exists()


def test_the_state_predicts_what_it_then_does(config_root):
    node_lvm_state.__opts__["test"] = True
    predicted = node_lvm_state.global_filter("hostnode-node-lvm-filter", vg="xenvg")
    node_lvm_state.__opts__["test"] = False
    applied = node_lvm_state.global_filter("hostnode-node-lvm-filter", vg="xenvg")
    assert predicted["result"] is None and applied["result"] is True
    assert predicted["changes"] == applied["changes"] != {}
    again = node_lvm_state.global_filter("hostnode-node-lvm-filter", vg="xenvg")
    assert (again["result"], again["changes"]) == (True, {})


def test_the_preflight_refuses_a_bad_filter_by_its_pillar_key():
    settings = {"lvm": {"vg": "xenvg", "devices": [], "filter": {"reject": ["a|b"]}}}
    with pytest.raises(
        CommandExecutionError, match=re.escape("hostnode:node:lvm:filter:reject:0: 'a|b'")
    ):
        node.preflight(settings)
    settings = {"lvm": {"vg": "xen/vg", "devices": []}}
    with pytest.raises(CommandExecutionError, match="hostnode:node:lvm:vg: 'xen/vg' is not"):
        node.preflight(settings)
