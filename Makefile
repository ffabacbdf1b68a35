# hostnode: `make demo` and `make test` set up everything they need on a Debian 12 machine (root).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# The demo needs the first list only; the tests (guest lane, metrics, iSCSI, Ceph, the Ganeti
# join's real sshd and don't-fragment ping, chronyd checking the time formula's sources file)
# the second. chrony replaces systemd-timesyncd; its postinst starts chronyd through
# invoke-rc.d where PID 1 is not systemd, which a policy-rc.d that exits 101 (as on our
# machines) denies: the tests only run `chronyd -p`, which parses a file and exits.
# gcc, libc6-dev and python3-dev: timelib, a requirement of Salt, has no Linux wheel on PyPI,
# so pip builds it.
DEMO_PACKAGES := iproute2 procps iputils-arping netplan.io ifupdown ethtool lvm2 kmod python3-venv \
	gcc libc6-dev python3-dev
TEST_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs prometheus-node-exporter prometheus \
	open-iscsi multipath-tools fdisk lvm2 udev ceph-mon ceph-mgr ceph-osd ceph-common \
	ceph-mds ceph-fuse openssh-server iputils-ping chrony socat
PYTEST := $(VENV)/bin/pytest
# The compatibility lane: the oldest Salt line of setup.cfg's install_requires.
VENV_COMPAT := .venv-3006

.PHONY: demo test lint docs bench setup setup-test apt clean

setup: APT_PACKAGES = $(DEMO_PACKAGES)
setup: apt $(VENV)/.installed

setup-test: APT_PACKAGES = $(DEMO_PACKAGES) $(TEST_PACKAGES)
setup-test: apt $(VENV)/.installed $(VENV_COMPAT)/.installed

apt:
	@missing=""; for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements.lock
	@echo "venv: installing the pinned wheels of requirements.lock into $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@set -o pipefail; $(VENV)/bin/pip install --quiet --disable-pip-version-check \
	  -r requirements.lock 2>&1 | { grep -v "neither a file nor a directory" || true; }
	@touch $@

$(VENV_COMPAT)/.installed: requirements-3006.lock
	@echo "venv: installing the pinned wheels of requirements-3006.lock into $(VENV_COMPAT)"
	@test -x $(VENV_COMPAT)/bin/python || $(PYTHON) -m venv $(VENV_COMPAT)
	@set -o pipefail; $(VENV_COMPAT)/bin/pip install --quiet --disable-pip-version-check \
	  -r requirements-3006.lock 2>&1 | { grep -v "neither a file nor a directory" || true; }
	@touch $@

demo: setup
	@bin/hostnode-demo

# The guest lane runs beside the host lanes (tests/run-lanes); the benchmarks run too, once each at
# a tiny size and untimed (HOSTNODE_BENCH unset).
test: setup-test
	@tests/run-lanes $(VENV) $(VENV_COMPAT)

lint: setup docs
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/yamllint -s .
	@find formulas pillar.example -name '*.sls' -print0 | xargs -0 $(VENV)/bin/salt-lint -c .salt-lint

# The guides of docs/ and the reference from the docstrings; any warning fails the build.
docs: setup
	@$(VENV)/bin/sphinx-build -E -W --keep-going -n -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html ($$(du -sh docs/_build/html | cut -f1))"

# make bench BENCH=<case> runs tests/bench/test_<case>_bench.py only and rewrites only its rows.
bench: setup-test
	@HOSTNODE_BENCH=full $(PYTEST) -m bench -s \
	  $(if $(BENCH),tests/bench/test_$(BENCH)_bench.py,tests/bench)
	@echo "bench: tests/bench/RESULTS.md, tests/bench/results.json"

clean:
	rm -rf $(VENV) $(VENV_COMPAT) docs/_build docs/ref .hostnode .pytest_cache .ruff_cache
