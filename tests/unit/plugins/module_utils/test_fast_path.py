# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast path's fingerprints and digests, on real files (tests/integration/test_fast_path.py runs the plugin)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.dhcpops.kea.plugins.action.fast_path import (
    collection_digest, controller_file_fingerprint, without_gathered_facts)
from ansible_collections.dhcpops.kea.plugins.module_utils.fast_path import (
    canonical, compare_entries, compare_items, dpkg_versions, fingerprint_listing, fingerprint_path, keyed_digest)

SALT = '00112233445566778899aabbccddeeff'


class Text(str):
    """A str subclass, as templated and unsafe values are."""


def test_canonical_makes_equal_inputs_equal():
    assert canonical({'b': [1, Text('x')], 'a': {'z': None}}) == {'a': {'z': None}, 'b': [1, 'x']}
    assert canonical(Text('x')).__class__ is str
    assert canonical(('a', 'b')) == ['a', 'b']
    assert canonical({3, 1, 2}) == [1, 2, 3]
    # Ansible's omit placeholder carries a random suffix per run.
    assert canonical('__omit_place_holder__5e1f') == canonical('__omit_place_holder__a9c0') == '__omit__'
    assert canonical({1: 'a'}) == {'1': 'a'}


def test_keyed_digest_depends_on_value_and_salt_and_never_shows_the_value():
    one = keyed_digest(SALT, {'password': 'hunter2', 'x': 1})
    assert one == keyed_digest(SALT, {'x': 1, 'password': Text('hunter2')})
    assert one != keyed_digest(SALT, {'password': 'hunter3', 'x': 1})
    assert one != keyed_digest('ff' * 16, {'password': 'hunter2', 'x': 1})
    assert 'hunter2' not in one and len(one) == 64
    # 1 and True, '1' and 1 are different inputs.
    assert len(set([keyed_digest(SALT, 1), keyed_digest(SALT, True), keyed_digest(SALT, '1')])) == 3


def test_fingerprint_path_sees_content_mode_and_links(tmp_path):
    conf = tmp_path / 'etc'
    conf.mkdir()
    (conf / 'a.conf').write_text('one')
    (conf / 'sub').mkdir()
    (conf / 'sub' / 'b.conf').write_text('two')
    os.symlink('a.conf', str(conf / 'link'))
    before = fingerprint_path(str(conf))
    expected = (conf, conf / 'a.conf', conf / 'sub', conf / 'sub' / 'b.conf', conf / 'link')
    assert sorted(before) == sorted(str(p) for p in expected)
    assert before[str(conf / 'link')].startswith('link a.conf ')
    assert fingerprint_path(str(conf)) == before

    (conf / 'sub' / 'b.conf').write_text('TWO')
    changed = fingerprint_path(str(conf))
    assert compare_entries('file', before, changed) == ['file %s changed since the last run' % (conf / 'sub' / 'b.conf')]

    (conf / 'sub' / 'b.conf').write_text('two')
    mode = stat.S_IMODE(os.stat(str(conf / 'a.conf')).st_mode)
    os.chmod(str(conf / 'a.conf'), 0o600 if mode != 0o600 else 0o640)
    assert compare_entries('file', before, fingerprint_path(str(conf))) == [
        'file %s changed since the last run' % (conf / 'a.conf')]

    os.chmod(str(conf / 'a.conf'), mode)
    assert fingerprint_path(str(conf)) == before
    (conf / 'new.conf').write_text('')
    assert 'file %s changed since the last run' % (conf / 'new.conf') in compare_entries(
        'file', before, fingerprint_path(str(conf)))
    assert fingerprint_path(str(tmp_path / 'missing')) == {str(tmp_path / 'missing'): 'absent'}


def test_fingerprint_listing_is_names_only(tmp_path):
    (tmp_path / 'pkg-1.0.dist-info').mkdir()
    listing = fingerprint_listing(str(tmp_path))
    (tmp_path / 'pkg-1.0.dist-info' / 'RECORD').write_text('anything')
    assert fingerprint_listing(str(tmp_path)) == listing
    os.rename(str(tmp_path / 'pkg-1.0.dist-info'), str(tmp_path / 'pkg-1.1.dist-info'))
    assert fingerprint_listing(str(tmp_path)) != listing


def test_dpkg_versions_reads_installed_packages_only(tmp_path):
    status = tmp_path / 'status'
    status.write_text(
        'Package: kea-dhcp4-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.2.0-6\n'
        'Description: x\n multi-line\n\n'
        'Package: kea-admin\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 2.2.0-6\n\n'
        'Package: python3-packaging\nStatus: install ok installed\nArchitecture: all\nVersion: 23.0-1\n')
    assert dpkg_versions(['kea-dhcp4-server', 'kea-admin', 'python3-packaging', 'absent'], str(status)) == {
        'kea-dhcp4-server': '2.2.0-6 amd64', 'kea-admin': None, 'python3-packaging': '23.0-1', 'absent': None}
    assert dpkg_versions(['x'], str(tmp_path / 'none')) == {'x': None}


def test_compare_items_names_what_differs():
    assert compare_items({'var:a': '1', 'var:b': '2'}, {'var:a': '1', 'var:b': '3', 'var:c': '4'}) == ['var:b', 'var:c']
    assert compare_items({'var:a': '1'}, {'var:a': '1'}) == []


def test_collection_digest_covers_roles_and_plugins_not_caches(tmp_path):
    for rel in ('roles/r/tasks/main.yml', 'plugins/modules/m.py', 'docs/x.md'):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    first = collection_digest(str(tmp_path))
    (tmp_path / 'docs' / 'x.md').write_text('docs are not code')
    (tmp_path / 'plugins' / 'modules' / '__pycache__').mkdir()
    (tmp_path / 'plugins' / 'modules' / '__pycache__' / 'm.cpython-311.pyc').write_text('cache')
    assert collection_digest(str(tmp_path)) == first
    (tmp_path / 'roles' / 'r' / 'tasks' / 'main.yml').write_text('changed')
    assert collection_digest(str(tmp_path)) != first


def test_controller_file_fingerprint_of_files_and_wheelhouses(tmp_path):
    data = tmp_path / 'reservations.yml'
    data.write_text('subnets: []\n')
    first = controller_file_fingerprint(str(data))
    data.write_text('subnets: [] \n')
    assert controller_file_fingerprint(str(data)) != first
    wheels = tmp_path / 'wheels'
    wheels.mkdir()
    (wheels / 'kea_exporter-0.7.0-py3-none-any.whl').write_text('w')
    listing = controller_file_fingerprint(str(wheels))
    (wheels / 'kea_exporter-0.7.0-py3-none-any.whl').rename(wheels / 'kea_exporter-0.8.0-py3-none-any.whl')
    assert controller_file_fingerprint(str(wheels)) != listing


def test_without_gathered_facts_replaces_every_fact():
    gathered = {'ansible_facts': {'default_ipv4': {'address': '10.0.0.5'}, 'date_time': {'epoch': '1'}},
                'ansible_default_ipv4': {'address': '10.0.0.5'}, 'ansible_date_time': {'epoch': '1'},
                'kea_dhcp4_x': 1}
    probed = {'default_ipv4': {'address': '10.0.0.5'}, 'distribution': 'Debian'}
    out = without_gathered_facts(gathered, probed)
    assert out['ansible_facts'] == probed
    assert 'ansible_date_time' not in out
    assert out['ansible_distribution'] == 'Debian' and out['kea_dhcp4_x'] == 1
    # The same variables whether the run has gathered facts or not.
    assert out == without_gathered_facts({'kea_dhcp4_x': 1}, probed)
