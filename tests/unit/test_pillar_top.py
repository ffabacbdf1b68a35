"""
pillar.example/top.sls serves secrets by what the master controls: a minion sets its own grains
(and through them a pillar target of ``I@``/compound grain matches), so a secrets file is given by
minion id only, one file per site, holding the credentials that site's own targets name.
"""

import fnmatch

import pytest
import yaml

from support import REPO

PILLAR = REPO / "pillar.example"
BY_ID = {"glob", "list", "pcre", "nodegroup"}


def served():
    """[(target, match, [sls, ...])] of the example's top, base environment."""
    top = yaml.safe_load((PILLAR / "top.sls").read_text())["base"]
    entries = []
    for target, items in top.items():
        match = next((i["match"] for i in items if isinstance(i, dict) and "match" in i), "glob")
        entries.append((target, match, [i for i in items if isinstance(i, str)]))
    return entries


def secrets_served():
    return [(target, match, sls) for target, match, names in served() for sls in names
            if sls.startswith("secrets.")]  # fmt: skip


def test_secrets_are_served_by_minion_id_only():
    assert secrets_served(), "the example serves no secrets file"
    for target, match, sls in secrets_served():
        assert match in BY_ID, f"{sls} is served by a {match} match ({target!r}): use minion ids"
        if match == "nodegroup":
            continue
        ids = target.split(",") if match == "list" else [target]
        assert all(".example.net" in minion for minion in ids), f"{target!r} names no minion id"


@pytest.mark.parametrize("site", sorted(p.stem for p in (PILLAR / "site").glob("*.sls")))
def test_one_secrets_file_per_site_with_that_sites_targets(site):
    site_pillar = yaml.safe_load((PILLAR / "site" / f"{site}.sls").read_text())
    targets = site_pillar["hostnode"]["storage_net"]["iscsi"]["targets"]
    named = {entry["chap_pillar"] for entry in targets.values() if entry.get("chap_pillar")}
    secrets = yaml.safe_load((PILLAR / "secrets" / f"{site}.sls").read_text())
    held = {f"hostnode_secrets:iscsi:{name}" for name in secrets["hostnode_secrets"]["iscsi"]}
    assert held == named
    (domain,) = [target for target, _, names in served() if f"site.{site}" in names]
    for target, match, sls in secrets_served():
        if sls == f"secrets.{site}" and match == "list":
            assert all(fnmatch.fnmatch(minion, domain) for minion in target.split(","))
