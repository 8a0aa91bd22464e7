# dhcpops.kea — one entry point for the lab, the tests and the benchmarks.
# `make lab` deploys into local podman containers and proves DHCP works;
# `make test` runs every quality gate and scenario CI runs.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
RELEASES ?= bookworm trixie forky

.PHONY: help setup host venv collection-link images lint sanity units integration molecule test lab lab-destroy bench clean

help:
	@echo "make lab         deploy Kea into local containers and prove a real client gets a lease"
	@echo "make lab-destroy remove the lab's containers and networks"
	@echo "make test        every quality gate and molecule scenario CI runs"
	@echo "make units       pytest units only;  make lint / sanity / integration / molecule: one gate"
	@echo "make bench       benchmarks (not part of CI; see docs/benchmarks.md)"

setup: host venv collection-link

host:
	bash scripts/lab/setup-host.sh

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

# Playbooks run from the checkout resolve dhcpops.kea.* to the checkout itself.
collection-link:
	mkdir -p .cache/collections/ansible_collections/dhcpops
	ln -sfn ../../../.. .cache/collections/ansible_collections/dhcpops/kea

images: host
	bash scripts/lab/build-images.sh $(RELEASES)

lint: venv collection-link
	bash scripts/ci/lint.sh

sanity: venv
	bash scripts/ci/sanity.sh

units: venv collection-link
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

# The config pipeline against the real kea-dhcp4 of every release (check images).
integration: venv collection-link images
	source scripts/lab/env.sh
	$(PY) -m pytest tests/integration -q -p no:cacheprovider

# Scenarios CI runs; each shares one create/destroy across its checks.
SCENARIOS ?= default postgresql ha monitoring

molecule: venv collection-link images
	source scripts/lab/env.sh
	for scenario in $(SCENARIOS); do
		start=$$(date +%s)
		$(BIN)/molecule test -s $$scenario
		echo "molecule $$scenario: $$(( $$(date +%s) - start )) s"
	done

test: setup images lint sanity units integration molecule

lab: setup images
	source scripts/lab/env.sh
	$(BIN)/molecule converge -s default
	$(BIN)/molecule verify -s default

lab-destroy: venv
	source scripts/lab/env.sh
	$(BIN)/molecule destroy -s default

bench: setup images
	$(PY) benchmarks/config_pipeline.py

clean:
	rm -rf .cache tests/output
