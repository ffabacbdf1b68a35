"""
Parsing /proc/user_beancounters of a busy hardware node: 1,000 containers of 24 resources each
(a published container's block repeated under new ids), against reading the same text split
into words (the floor: no parser can do less). Prints times and the ratio; `make bench`.
"""

import pytest
from benchlib import median_time

import hostnode_beancounters
from support import fixture_text

pytestmark = pytest.mark.bench


def node_file(containers):
    lines = fixture_text("beancounters", "scout-container-9833.txt").splitlines()
    header, block = lines[:2], lines[2:]
    rows = []
    for ctid in range(101, 101 + containers):
        rows.append(block[0].replace("9833:", f"{ctid}:"))
        rows += block[1:]
    return "\n".join(header + rows) + "\n"


def test_parse_1000_containers():
    text = node_file(1000)
    parsed = hostnode_beancounters.parse(text)
    assert len(parsed) == 1000 and all(len(r) == 20 for r in parsed.values())
    ours = median_time(lambda: hostnode_beancounters.parse(text))
    floor = median_time(lambda: [line.split() for line in text.splitlines()])
    print(f"\nbeancounters.parse 1000 containers x 24 rows: {ours * 1000:.1f} ms "
          f"(split only: {floor * 1000:.1f} ms, {ours / floor:.1f}x)")  # fmt: skip
