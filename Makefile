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

.PHONY: help setup host venv collection-link images docs lint sanity units integration molecule artifact consumer test lab lab-status lab-destroy bench bench-smoke plots clean

help:
	@echo "make lab         deploy the HA pair, PostgreSQL and kea-exporter into local containers with site.yml and prove DHCP works"
	@echo "make lab-status  prove the running lab again and print its status"
	@echo "make lab-destroy remove the lab's containers, network and secrets"
	@echo "make test        every quality gate and molecule scenario CI runs"
	@echo "make units       pytest units only;  make lint / sanity / integration / molecule: one gate"
	@echo "make docs        regenerate docs/reference from the argument specs and module docs"
	@echo "make artifact / consumer: the built collection alone, and a collection that depends on it"
	@echo "make bench       every benchmark, full size (not part of CI; see docs/benchmarks.md)"
	@echo "make bench-smoke every benchmark at its smallest size, and the figures (about 9 minutes; part of make test)"
	@echo "make plots       redraw the figures of docs/benchmarks.md from benchmarks/results"

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

# The reference pages under docs/reference/ come from the argument specs and
# the modules' documentation; `lint` fails when they are stale.
docs: venv
	$(PY) scripts/docs/gen_reference.py

lint: venv collection-link
	bash scripts/ci/lint.sh
	$(PY) scripts/docs/gen_reference.py --check

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

# The built artifact alone: no test files in it, installed into an empty
# collections path, its playbooks run by FQCN from outside the checkout.
artifact: venv images
	bash scripts/ci/artifact.sh

# A collection of another team that depends on dhcpops.kea, installed from
# the artifact, with its own molecule scenario (examples/consumer).
consumer: venv images
	bash scripts/ci/consumer.sh

# Every benchmark at its smallest size, then the figures, into a temporary
# directory (scripts/ci/bench-smoke.sh, about 9 minutes), so that none of
# them rots. `make test` runs it beside the static gates.
bench-smoke: setup images $(VENV)/.bench-installed
	bash scripts/ci/bench-smoke.sh

# make test: the benchmark smokes (about 9 minutes, mostly waiting on podman
# exec) run beside the static gates (CPU-bound), the consumer collection and
# the postgresql scenario, none of which measures time; the scenarios that do
# (ha's failover and rolling reload under load) run after the smokes have
# finished. The smokes' output is in .cache/bench-smoke.log, printed when they
# fail; a failing gate beside them stops them, and they remove their
# containers on the way out.
# Beware: `make -n test` runs this recipe for real (with .ONESHELL the whole
# recipe is one line, and it holds $(MAKE)).
BESIDE_SMOKE ?= postgresql
AFTER_SMOKE ?= default ha monitoring

test: setup images $(VENV)/.bench-installed
	mkdir -p .cache
	log=.cache/bench-smoke.log
	bash scripts/ci/bench-smoke.sh > "$$log" 2>&1 &
	smoke=$$!
	trap 'kill -TERM $$smoke 2>/dev/null || true; wait $$smoke 2>/dev/null || true' EXIT
	$(MAKE) --no-print-directory lint sanity units artifact integration consumer
	$(MAKE) --no-print-directory molecule SCENARIOS="$(BESIDE_SMOKE)"
	trap - EXIT
	start=$$(date +%s)
	if ! wait $$smoke; then
		tail -n 200 "$$log"
		echo "bench-smoke failed; the whole output is in $$log"
		exit 1
	fi
	echo "bench-smoke: waited $$(( $$(date +%s) - start )) s for it after the gates beside it"
	grep '^bench-smoke.sh: ' "$$log"
	$(MAKE) --no-print-directory molecule SCENARIOS="$(AFTER_SMOKE)"

lab: setup images
	bash scripts/lab/lab.sh up

lab-status: venv collection-link
	bash scripts/lab/lab.sh status

lab-destroy: venv
	bash scripts/lab/lab.sh destroy

$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

# Every benchmark (about an hour on two cores; see docs/benchmarks.md), then
# the figures.
bench: setup images $(VENV)/.bench-installed
	source scripts/lab/env.sh
	$(PY) benchmarks/config_pipeline.py
	$(PY) benchmarks/dhcp_service.py
	$(PY) benchmarks/reservations_sync.py
	$(PY) benchmarks/ansible_cost.py
	$(PY) benchmarks/plots.py

# Only the figures, from the results already recorded.
plots: $(VENV)/.bench-installed
	$(PY) benchmarks/plots.py

clean:
	rm -rf .cache tests/output
