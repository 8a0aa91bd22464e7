# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""benchmarks/plots.py: the recorded results give every figure docs/benchmarks.md embeds, the same each time."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest

# matplotlib is a benchmark requirement (requirements-bench.txt), not a test one.
pytest.importorskip('matplotlib')

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, 'benchmarks', 'plots.py')
RESULTS = os.path.join(REPO, 'benchmarks', 'results')
DOC = os.path.join(REPO, 'docs', 'benchmarks.md')
FIGURES = ['config_pipeline_sizes.png', 'config_pipeline_playbook.png', 'dhcp_service_drops.png',
           'dhcp_service_throughput.png', 'dhcp_service_cpu.png', 'ansible_cost.png']
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def plots(results, out):
    return subprocess.run([sys.executable, SCRIPT, '--results', str(results), '--out', str(out)],
                          capture_output=True, text=True, check=False, timeout=300)


def png_size(path):
    with open(path, 'rb') as handle:
        head = handle.read(24)
    assert head[:8] == PNG_SIGNATURE, path
    return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')


@pytest.fixture(scope='module')
def drawn(tmp_path_factory):
    out = tmp_path_factory.mktemp('figures')
    proc = plots(RESULTS, out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize('name', FIGURES)
def test_figure_is_a_real_image(drawn, name):
    path = drawn / name
    assert path.is_file()
    # an empty or blank figure compresses to a few kB; these carry axes, text and data
    assert path.stat().st_size > 20000
    width, height = png_size(str(path))
    assert width >= 800 and height >= 400


def test_same_results_same_files(drawn, tmp_path):
    proc = plots(RESULTS, tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in FIGURES:
        assert (tmp_path / name).read_bytes() == (drawn / name).read_bytes(), name


def test_no_version_stamp(drawn):
    """matplotlib writes its version into every PNG unless told not to."""
    assert b'Matplotlib version' not in (drawn / 'dhcp_service_cpu.png').read_bytes()


def test_every_figure_is_embedded_in_the_docs():
    with open(DOC) as handle:
        embedded = re.findall(r'!\[[^\]]*\]\(images/benchmarks/([^)]+)\)', handle.read())
    assert sorted(embedded) == sorted(FIGURES)


def test_missing_keys_do_not_stop_the_rest(tmp_path):
    """A results file from an older or partial run draws what it can."""
    results = tmp_path / 'results'
    results.mkdir()
    with open(os.path.join(RESULTS, 'dhcp_service.json')) as handle:
        service = json.load(handle)
    for config in service['configs'].values():
        config['summary'].pop('cpu_us_per_exchange_at_highest', None)
    del service['machine']
    with open(str(results / 'dhcp_service.json'), 'w') as handle:
        json.dump(service, handle)
    with open(os.path.join(RESULTS, 'config_pipeline.json')) as handle:
        pipeline = json.load(handle)
    del pipeline['ansible']
    with open(str(results / 'config_pipeline.json'), 'w') as handle:
        json.dump(pipeline, handle)
    out = tmp_path / 'out'
    proc = plots(results, out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(str(out))) == sorted(['config_pipeline_sizes.png', 'dhcp_service_drops.png',
                                                   'dhcp_service_throughput.png'])


def test_no_results_is_an_error(tmp_path):
    proc = plots(tmp_path, tmp_path / 'out')
    assert proc.returncode == 1
    assert 'no results' in proc.stderr
