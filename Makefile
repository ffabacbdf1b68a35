# hostnode: `make demo` and `make test` set up everything they need on a Debian 12 machine (root).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := iproute2 procps iputils-arping netplan.io ifupdown python3-venv \
	qemu-system-x86 qemu-utils mmdebstrap e2fsprogs prometheus-node-exporter \
	open-iscsi multipath-tools fdisk lvm2 udev ceph-mon ceph-mgr ceph-osd ceph-common \
	ceph-mds ceph-fuse
PYTEST := $(VENV)/bin/pytest

.PHONY: demo test lint bench setup apt clean

setup: apt $(VENV)/.installed

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

demo: setup
	@bin/hostnode-demo

# pytest exits 5 when a selection holds no test: that is not a failure, anything else non-zero is.
test: setup
	@$(PYTEST) -m "not bench" tests || [ $$? -eq 5 ]

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/yamllint -s .

bench: setup
	@$(PYTEST) -m bench -s tests/bench

clean:
	rm -rf $(VENV) .hostnode .pytest_cache .ruff_cache
