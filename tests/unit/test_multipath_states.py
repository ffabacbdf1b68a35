"""
multipathd's JSON and `multipath -ll` captured in the guest for the same three moments (healthy,
one path failed, both failed) give the same model and health; multipath.conf rendered from
pillar, multipath -t's complaints, and multipath.configure over a stand-in multipath.
"""

import pytest
from salt.exceptions import SaltInvocationError

from saltext.hostnode.utils import multipath as hostnode_multipath
from saltext.hostnode.utils import multipath_conf as hostnode_multipath_conf
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

multipath = load_module("modules", "multipath")
HCTLS = {"sda": "6:0:0:0", "sdb": "7:0:0:0"}
SIZES = {"dm-0": 64 * 1024 * 2}


@pytest.mark.parametrize(
    ("moment", "failed"),
    [("healthy", []), ("one-failed", ["sdb"]), ("both-failed", ["sda", "sdb"])],
)
def test_json_and_ll_give_one_model_and_health(moment, failed):
    from_ll = hostnode_multipath.parse_ll(fixture_text("multipath", f"ll-{moment}.txt"))
    from_json = hostnode_multipath.parse_maps_json(
        fixture_text("multipath", f"maps-json-{moment}.txt"), SIZES, HCTLS
    )
    assert from_json == from_ll
    report = hostnode_multipath.health(from_json, min_paths=2)["mpatha"]
    assert report["failed"] == failed and report["paths"] == 2
    assert report["active"] == 2 - len(failed) and report["healthy"] is (not failed)


def test_json_without_sysfs_facts_and_bad_json():
    (mpath,) = hostnode_multipath.parse_maps_json(
        fixture_text("multipath", "maps-json-healthy.txt")
    )
    assert mpath["size"] is None and mpath["groups"][0]["paths"][0]["hctl"] == "#:#:#:#"
    assert hostnode_multipath.parse_maps_json('{"major_version": 0, "maps": []}') == []
    with pytest.raises(ValueError, match="line 1: not JSON"):
        hostnode_multipath.parse_maps_json("{oops")
    with pytest.raises(ValueError, match="not multipathd's maps JSON: missing or wrong 'sysfs'"):
        hostnode_multipath.parse_maps_json('{"maps": [{"name": "m"}]}')


@pytest.mark.parametrize(
    ("sectors", "printed"), [(131072, "64M"), (3145728, "1.5G"), (2**31, "1.0T"), (20, "10K")]
)
def test_sizes_as_multipath_prints_them(sectors, printed):
    assert hostnode_multipath.format_size(sectors) == printed


CONFIG = {
    "defaults": {"user_friendly_names": True, "polling_interval": 5, "find_multipaths": "off"},
    "blacklist": {"devnode": ["^vd[a-z]"], "device": [{"vendor": "QEMU", "product": ".*"}]},
    "devices": [{"vendor": "EQLOGIC", "product": "100E-00", "path_grouping_policy": "multibus"}],
    "multipaths": [{"wwid": "360014055842abf2622f46ea8759caaf4", "alias": "san-lun0"}],
}


def test_render_follows_multipath_conf_5():
    text = hostnode_multipath_conf.render(CONFIG)
    assert text == (
        hostnode_multipath_conf.HEADER
        + "defaults {\n\tuser_friendly_names yes\n\tpolling_interval 5\n"
        + '\tfind_multipaths "off"\n}\n'
        + 'blacklist {\n\tdevnode "^vd[a-z]"\n\tdevice {\n\t\tvendor "QEMU"\n'
        + '\t\tproduct ".*"\n\t}\n}\n'
        + 'devices {\n\tdevice {\n\t\tvendor "EQLOGIC"\n\t\tproduct "100E-00"\n'
        + '\t\tpath_grouping_policy "multibus"\n\t}\n}\n'
        + 'multipaths {\n\tmultipath {\n\t\twwid "360014055842abf2622f46ea8759caaf4"\n'
        + '\t\talias "san-lun0"\n\t}\n}\n'
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"default": {}}, "config: unknown section"),
        ({"defaults": {"User Names": 1}}, "config:defaults:User Names: 'User Names' is not"),
        ({"defaults": {"alias_prefix": 'a"b'}}, "config:defaults:alias_prefix: 'a\"b' is not"),
        ({"defaults": {"polling_interval": 1.5}}, "is not a multipath.conf value"),
        ({"devices": [{"vendor": "X"}]}, "config:devices:0: a device entry needs product"),
        ({"multipaths": {"wwid": "x"}}, "config:multipaths: must be a list"),
        ([], "config: must be a mapping"),
    ],
)
def test_bad_config_names_the_field(config, message):
    with pytest.raises(ValueError, match=message):
        hostnode_multipath_conf.render(config)


def test_multipath_t_complaints_from_the_real_tool():
    def problems(case):
        return hostnode_multipath_conf.problems(fixture_text("multipath", case))

    assert problems("t-invalid-keyword.stderr.txt") == [
        "/etc/multipath.conf line 3, invalid keyword in the defaults section: no_such_keyword"
    ]
    assert problems("t-missing-brace.stderr.txt") == ["missing '}' at end of /etc/multipath.conf"]
    assert len(problems("t-invalid-values.stderr.txt")) == 4
    noise = "15040.819320 | can't set open fds limit to 1048576/1048576 : Operation not permitted"
    assert hostnode_multipath_conf.problems(noise) == []


VALIDATE = multipath._VALIDATE


def validation_argv(call):
    return call[:6] == ["unshare", "--mount", "--propagation", "private", "sh", "-c"]


class MultipathTable(CommandTable):
    """multipath -t (through unshare) complaining with stderr; multipathd running or not."""

    def __init__(self, stderr="", running=True):
        super().__init__({("multipathd", "show", "daemon"): (0 if running else 1, "", "")})
        self.stderr = stderr

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        if validation_argv(argv):
            self.calls.append((list(argv), stdin))
            return {"retcode": 0, "stdout": "defaults {\n}\n", "stderr": self.stderr, "pid": 1}
        return super().__call__(argv, python_shell, stdin, **options)


@pytest.fixture
def table():
    return MultipathTable()


@pytest.fixture
def configure_loader_modules(table, config_root, monkeypatch):
    monkeypatch.setattr(multipath.salt.utils.path, "which", lambda name: f"/usr/sbin/{name}")
    return {multipath: salt_dunders(table, config_root)}


def test_configure_predicts_writes_reconfigures_then_does_nothing(table, config_root):
    predicted = multipath.configure(CONFIG, test=True)
    conf = config_root / "etc/multipath.conf"
    assert not conf.exists()
    assert predicted["multipathd"] == "reconfigured"
    assert '+\t\talias "san-lun0"' in predicted["file"]["diff"]
    assert multipath.configure(CONFIG) == predicted
    assert conf.read_text() == hostnode_multipath_conf.render(CONFIG)
    assert table.argvs()[-1] == ["multipathd", "reconfigure"]
    assert sum(validation_argv(argv) for argv in table.argvs()) == 2
    before = len(table.calls)
    assert multipath.configure(CONFIG) == {}
    assert len(table.calls) == before  # an unchanged file is neither validated nor reread


def test_the_state_manages_the_file_its_name_names(table, config_root):
    state = load_module("states", "multipath")
    state.__salt__ = {"multipath.configure": multipath.configure}
    state.__opts__ = {"test": False}
    name = "/etc/multipath/conf.d/hostnode.conf"
    ret = state.configured(name, CONFIG)
    assert (ret["result"], ret["changes"]["file"]["path"]) == (True, str(config_root) + name)
    assert (config_root / name[1:]).read_text() == hostnode_multipath_conf.render(CONFIG)
    assert not (config_root / "etc/multipath.conf").exists()
    (argv, _), *_ = [call for call in table.calls if validation_argv(call[0])]
    assert argv[-1] == name  # multipath -t reads the candidate where multipathd will
    refused = state.configured("/srv/multipath.conf", CONFIG)
    assert (refused["result"], refused["changes"]) == (False, {})
    assert refused["comment"].startswith("path: '/srv/multipath.conf' is not /etc/multipath.conf")
    assert not (config_root / "srv").exists()


def test_a_config_multipath_rejects_is_not_written(table, config_root):
    table.stderr = fixture_text("multipath", "t-invalid-keyword.stderr.txt")
    with pytest.raises(SaltInvocationError, match="multipath -t rejects the configuration: "):
        multipath.configure({"defaults": {"no_such_keyword": 7}})
    assert not (config_root / "etc/multipath.conf").exists()
    assert ["multipathd", "reconfigure"] not in table.argvs()


def test_without_multipathd_the_file_is_written_for_its_next_start(config_root, monkeypatch):
    quiet = MultipathTable(running=False)
    monkeypatch.setitem(multipath.__salt__, "cmd.run_all", quiet)
    assert multipath.configure(CONFIG)["multipathd"] == "not running"
    assert ["multipathd", "reconfigure"] not in quiet.argvs()


def test_saved_json_is_read_as_json():
    source = str(FIXTURES / "multipath/maps-json-one-failed.txt")
    assert multipath.health(min_paths=2, source=source)["mpatha"]["failed"] == ["sdb"]


def test_a_kernel_without_device_mapper_has_no_maps(monkeypatch):
    """What multipath -ll printed on this host (Debian 12, no device-mapper in its kernel)."""
    stderr = (
        "/dev/mapper/control: open failed: No such device\n"
        "Failure to communicate with kernel device-mapper driver.\n"
    )
    table = MultipathTable(running=False)
    table.answers[("multipath", "-ll")] = (1, "", stderr)
    monkeypatch.setitem(multipath.__salt__, "cmd.run_all", table)
    assert multipath.maps() == [] and multipath.health() == {}
