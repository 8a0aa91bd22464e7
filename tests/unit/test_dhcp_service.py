# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""benchmarks/dhcp_service.py: the variants of a configuration and the load generator's command line."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'benchmarks'))

import dhcp_service as ds  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture
def configs(monkeypatch):
    monkeypatch.setattr(ds, 'CONFIGS', dict((k, dict(v)) for k, v in ds.CONFIGS.items()))
    return ds.CONFIGS


def bench(config, nice):
    out = ds.Bench(lab=None, api=None, db=None, opts=argparse.Namespace(perfdhcp_nice=nice))
    out.config = config
    return out


def test_a_variant_adds_role_variables_to_its_base(configs):
    name, spec = ds.parse_variant('mt8=pg-tuned:{"kea_dhcp4_multi_threading": {"thread-pool-size": 8}}')
    assert name == 'mt8' and spec['base'] == 'pg-tuned' and spec['pg'] and not spec['ha']
    assert spec['vars']['kea_dhcp4_multi_threading'] == {'thread-pool-size': 8}
    assert 'perfdhcp_nice' not in spec
    # The base is left as it was.
    assert 'kea_dhcp4_multi_threading' not in configs['pg-tuned']['vars']


def test_perfdhcp_nice_in_a_variant_is_no_role_variable(configs):
    name, spec = ds.parse_variant('tuned-eq=pg-tuned:{"perfdhcp_nice": 0}')
    assert spec['perfdhcp_nice'] == 0 and 'perfdhcp_nice' not in spec['vars']
    configs[name] = spec
    # The variant's niceness wins over the option's; 0 runs perfdhcp as it is.
    argv = bench(name, 19).perfdhcp_argv(500, 10)
    assert argv[:4] == ['podman', 'exec', ds.CLIENT, 'perfdhcp']
    argv = bench('pg-tuned', 19).perfdhcp_argv(500, 10)
    assert argv[3:7] == ['nice', '-n', '19', 'perfdhcp'] and argv[argv.index('-r') + 1] == '500'


def test_an_unknown_base_is_refused(configs):
    with pytest.raises(SystemExit, match='unknown base nosuch'):
        ds.parse_variant('x=nosuch:{}')


def test_a_twin_that_differs_only_in_niceness_shares_the_deployment(configs):
    name, spec = ds.parse_variant('tuned-eq=pg-tuned:{"perfdhcp_nice": 0}')
    configs[name] = spec
    assert ds.same_deployment('tuned-eq', 'pg-tuned')
    assert not ds.same_deployment('pg-untuned', 'pg-tuned')
    assert not ds.same_deployment('pg-tuned', 'ha')
