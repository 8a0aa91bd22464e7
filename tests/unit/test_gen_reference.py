# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/docs/gen_reference.py: the reference pages match their sources, and drift is caught."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, 'scripts', 'docs', 'gen_reference.py')
# What the generator reads, and what it writes.
SOURCES = ['roles', os.path.join('plugins', 'modules'), os.path.join('plugins', 'doc_fragments'),
           os.path.join('docs', 'reference')]


def run(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True, check=False)


@pytest.fixture(scope='module')
def gen():
    spec = importlib.util.spec_from_file_location('gen_reference', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copy_root(tmp_path):
    root = tmp_path / 'checkout'
    for rel in SOURCES:
        shutil.copytree(os.path.join(REPO, rel), str(root / rel),
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    return root


def test_committed_reference_is_current():
    result = run('--check')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'up to date' in result.stdout


def test_changed_description_is_drift(copy_root):
    assert run('--check', '--root', str(copy_root)).returncode == 0
    spec = copy_root / 'roles' / 'kea_exporter' / 'meta' / 'argument_specs.yml'
    text = spec.read_text(encoding='utf-8')
    assert 'description: Start the exporter at boot.' in text
    spec.write_text(text.replace('description: Start the exporter at boot.',
                                 'description: Start the exporter when the host boots.'), encoding='utf-8')

    result = run('--check', '--root', str(copy_root))
    assert result.returncode == 1
    assert os.path.join('docs', 'reference', 'roles', 'kea_exporter.md') + ' differs from its sources' in result.stdout
    # Only the page of the changed role is stale.
    assert result.stdout.count('differs') == 1

    assert run('--root', str(copy_root)).returncode == 0
    assert 'when the host boots' in (copy_root / 'docs' / 'reference' / 'roles' / 'kea_exporter.md').read_text(encoding='utf-8')
    assert run('--check', '--root', str(copy_root)).returncode == 0


def test_fragment_change_is_drift_in_every_module_using_it(copy_root):
    fragment = copy_root / 'plugins' / 'doc_fragments' / 'kea_api.py'
    text = fragment.read_text(encoding='utf-8')
    fragment.write_text(text.replace('Private key (PEM) of', 'The private key (PEM) of'), encoding='utf-8')
    result = run('--check', '--root', str(copy_root))
    assert result.returncode == 1
    stale = sorted(line.split()[1] for line in result.stdout.splitlines() if 'differs' in line)
    users = sorted(name[:-3] + '.md' for name in os.listdir(str(copy_root / 'plugins' / 'modules'))
                   if name.endswith('.py') and '- dhcpops.kea.kea_api' in
                   (copy_root / 'plugins' / 'modules' / name).read_text(encoding='utf-8'))
    assert 'kea_command.md' in users and 'kea_ha.md' in users
    assert stale == [os.path.join('docs', 'reference', 'modules', name) for name in users]


def test_removed_module_and_missing_page_are_drift(copy_root):
    os.remove(str(copy_root / 'plugins' / 'modules' / 'dhcp4_check.py'))
    os.remove(str(copy_root / 'docs' / 'reference' / 'roles' / 'stork_agent.md'))
    result = run('--check', '--root', str(copy_root))
    assert result.returncode == 1
    assert os.path.join('docs', 'reference', 'modules', 'dhcp4_check.md') + ' has no source any more' in result.stdout
    assert os.path.join('docs', 'reference', 'roles', 'stork_agent.md') + ' missing' in result.stdout
    # The index lists modules, so it changes too.
    assert os.path.join('docs', 'reference', 'README.md') + ' differs' in result.stdout

    assert run('--root', str(copy_root)).returncode == 0
    assert not (copy_root / 'docs' / 'reference' / 'modules' / 'dhcp4_check.md').exists()
    assert run('--check', '--root', str(copy_root)).returncode == 0


def test_broken_source_is_an_error_not_drift(copy_root):
    spec = copy_root / 'roles' / 'kea_exporter' / 'meta' / 'argument_specs.yml'
    spec.write_text('argument_specs: [unclosed\n', encoding='utf-8')
    result = run('--check', '--root', str(copy_root))
    assert result.returncode == 2
    assert 'kea_exporter' in result.stderr


def test_output_is_deterministic(gen):
    assert gen.generate(REPO) == gen.generate(REPO)


def test_every_role_and_module_has_a_page(gen):
    pages = gen.generate(REPO)
    roles = sorted(r for r in os.listdir(os.path.join(REPO, 'roles'))
                   if os.path.exists(os.path.join(REPO, 'roles', r, 'meta', 'argument_specs.yml')))
    modules = sorted(m[:-3] for m in os.listdir(os.path.join(REPO, 'plugins', 'modules')) if m.endswith('.py'))
    assert roles and modules
    for role in roles:
        assert os.path.join('docs', 'reference', 'roles', role + '.md') in pages
    for module in modules:
        assert os.path.join('docs', 'reference', 'modules', module + '.md') in pages


def test_suboptions_are_flattened_and_fragments_merged(gen):
    pages = gen.generate(REPO)
    role = pages[os.path.join('docs', 'reference', 'roles', 'kea_dhcp4.md')]
    assert '| `kea_dhcp4_api_extra_clients.password` | str | yes |' in role
    assert '| `kea_dhcp4_lint.reservation_in_pool` | str |  | `warning` | `error`, `warning`, `ignore` |' in role
    ha = pages[os.path.join('docs', 'reference', 'modules', 'kea_ha.md')]
    # api_url comes from the dhcpops.kea.kea_api fragment.
    assert '| `api_url` | str |' in ha
    assert 'From the doc fragment `dhcpops.kea.kea_api`.' in ha
    # RETURN's nested keys (contains) are flattened too.
    config = pages[os.path.join('docs', 'reference', 'modules', 'dhcp4_config.md')]
    assert '| `findings.code` | str |' in config


@pytest.mark.parametrize('text, expected', [
    ('C(kea-dhcp4 -t) and V(0)', '`kea-dhcp4 -t` and `0`'),
    ('O(state=query) returns RV(would_send)', '`state=query` returns `would_send`'),
    ('B(not) I(this)', '**not** *this*'),
    ('L(the manual, https://kea.readthedocs.io/)', '[the manual](https://kea.readthedocs.io/)'),
    ('U(https://example.org/)', '<https://example.org/>'),
    ('see M(dhcpops.kea.kea_ha)', 'see [`dhcpops.kea.kea_ha`](kea_ha.md)'),
    ('see M(ansible.builtin.copy)', 'see `ansible.builtin.copy`'),
    ('a <b> with * and C(x`y)', 'a &lt;b&gt; with \\* and ``x`y``'),
    ('HA(load) and MC(x) are not markup', 'HA(load) and MC(x) are not markup'),
])
def test_markup(gen, text, expected):
    assert gen.markup(text, link_prefix='') == expected


def test_table_cells_escape_pipes_and_join_lines(gen):
    assert gen.cell('a | b\nc') == 'a \\| b<br>c'
