# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dhcpops.kea.fast_path through ansible-playbook: the decision a role's main.yml takes, on two local hosts.

Two inventory hosts (a, b: an HA pair) on the local connection, each with
a stamp directory and a managed directory of its own under tmp_path. The
playbook is the roles' pattern: probe, compare, and at the end of a full
run, facts gathered as the roles gather them, record. The roles themselves
run it in molecule (default: drift on real Kea servers; ha: a whole site).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
SECRET = 'fast-path-site-secret-1'

INVENTORY = """
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    site_secret: %(secret)s
    kea_dhcp4_subnets: [{id: 1, subnet: 192.0.2.0/24}]
    kea_dhcp4_reservations_files: [reservations.yml]
    # Facts in a variable: templated against the probe's facts, gathered or not.
    kea_dhcp4_api_address: "{{ ansible_facts['default_ipv4']['address'] | default('127.0.0.1') }}"
  hosts:
    a:
      # Indirection, as a vault variable is used.
      kea_dhcp4_api_password: "{{ site_secret }}"
      kea_dhcp4_ha_role: primary
    b:
      kea_dhcp4_api_password: "{{ site_secret }}"
      kea_dhcp4_ha_role: standby
"""

PLAYBOOK = """
- name: The fast path of a role
  hosts: all
  gather_facts: false
  vars:
    stamp_dir: "%(tmp)s/stamps/{{ inventory_hostname }}"
    managed: "%(tmp)s/managed/{{ inventory_hostname }}"
  tasks:
    - name: Probe
      dhcpops.kea.fast_path:
        role: kea_dhcp4
        state: probe
        stamp_dir: "{{ stamp_dir }}"
        invalidate: "{{ probe_invalidates | default(false) | bool }}"
      register: probe
    - name: Compare
      dhcpops.kea.fast_path:
        role: kea_dhcp4
        state: compare
        probe: "{{ probe }}"
        peers: [a, b]
        files: "{{ kea_dhcp4_reservations_files }}"
        max_age: "{{ max_age | default(86400) | int }}"
    - name: Gather facts as the roles do
      ansible.builtin.setup: {gather_subset: [min, network]}
      when: full | default(false) | bool
    - name: Invalidate
      dhcpops.kea.fast_path: {role: kea_dhcp4, state: invalidate, stamp_dir: "{{ stamp_dir }}"}
      when: invalidate | default(false) | bool
    - name: Record
      dhcpops.kea.fast_path:
        role: kea_dhcp4
        state: record
        stamp_dir: "{{ stamp_dir }}"
        peers: [a, b]
        files: "{{ kea_dhcp4_reservations_files }}"
        paths: ["{{ managed }}"]
        packages: [dpkg, no-such-package]
      when: full | default(false) | bool
"""


@pytest.fixture
def site(tmp_path):
    for host in ('a', 'b'):
        managed = tmp_path / 'managed' / host
        managed.mkdir(parents=True)
        (managed / 'kea-dhcp4.conf').write_text('{"Dhcp4": {}}\n')
    (tmp_path / 'files').mkdir()
    (tmp_path / 'files' / 'reservations.yml').write_text('subnets: []\n')
    (tmp_path / 'inventory.yml').write_text(INVENTORY % dict(secret=SECRET))
    (tmp_path / 'site.yml').write_text(PLAYBOOK % dict(tmp=str(tmp_path)))
    return tmp_path


def play(site, *extra, **kwargs):
    """{host: {task name: result}} of one ansible-playbook run (JSON callback)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_NOCOLOR='1')
    argv = [PLAYBOOK_BIN, '-i', str(site / 'inventory.yml')] + list(extra) + [str(site / 'site.yml')]
    proc = subprocess.run(argv, cwd=str(site), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert SECRET not in proc.stdout + proc.stderr, 'the secret reached the output'
    assert proc.returncode == kwargs.get('rc', 0), proc.stdout[-3000:] + proc.stderr[-3000:]
    out = {}
    for task in json.loads(proc.stdout)['plays'][0]['tasks']:
        for host, result in task['hosts'].items():
            out.setdefault(host, {})[task['task']['name']] = result
    return out


def decision(result, host):
    compare = result[host]['Compare']
    return compare['current'], compare['reasons']


def full_run(site, *extra):
    result = play(site, '-e', 'full=true', '-e', 'invalidate=true', *extra)
    for host in ('a', 'b'):
        assert result[host]['Record'].get('recorded') is True, result[host]['Record']
    return result


def test_first_run_has_no_stamp_then_a_full_run_makes_both_hosts_current(site):
    result = play(site)
    for host in ('a', 'b'):
        current, reasons = decision(result, host)
        assert not current
        assert reasons == ['no stamp: this role has not finished a full run here since the last change']
        # The probe's facts, for templating the inputs the same way at every run.
        assert result[host]['Probe']['ansible_facts']['dhcpops_kea_host']['distribution']
    full_run(site)
    stamp = site / 'stamps' / 'a' / 'kea_dhcp4.json'
    assert oct(os.stat(str(stamp)).st_mode & 0o777) == '0o600'
    assert SECRET not in stamp.read_text()
    # The record run gathered facts, this one does not: the same inputs.
    result = play(site)
    assert decision(result, 'a') == (True, [])
    assert decision(result, 'b') == (True, [])
    # Turning the fast path's own switches does not look like a change.
    result = play(site, '-e', 'kea_fast_path=false', '-e', 'kea_dhcp4_fast_path_max_age=60')
    assert decision(result, 'a') == (True, [])


def test_each_kind_of_input_is_named_when_it_changes(site):
    full_run(site)
    # A value behind an indirection (a vault variable) changes: both hosts,
    # and each sees its partner's too. Never the value.
    result = play(site, '-e', 'site_secret=another-secret-2')
    assert decision(result, 'a') == (False, ['inputs changed: peer:b:kea_dhcp4_api_password, var:kea_dhcp4_api_password'])
    # Extra vars reach every host, and so every partner.
    result = play(site, '-e', '{"kea_dhcp4_subnets": [{"id": 1, "subnet": "192.0.2.0/25"}]}')
    assert decision(result, 'b')[1] == ['inputs changed: peer:a:kea_dhcp4_subnets, var:kea_dhcp4_subnets']
    # A partner's own variable.
    inventory = site / 'inventory.yml'
    text = inventory.read_text()
    inventory.write_text(text.replace('kea_dhcp4_ha_role: standby', 'kea_dhcp4_ha_role: secondary'))
    result = play(site)
    assert decision(result, 'a') == (False, ['inputs changed: peer:b:kea_dhcp4_ha_role'])
    assert decision(result, 'b') == (False, ['inputs changed: var:kea_dhcp4_ha_role'])
    inventory.write_text(text)
    # A reservations file on the controller.
    (site / 'files' / 'reservations.yml').write_text('subnets: [{id: 1, reservations: []}]\n')
    result = play(site)
    assert decision(result, 'a') == (False, ['inputs changed: file:reservations.yml'])
    (site / 'files' / 'reservations.yml').unlink()
    result = play(site)
    assert decision(result, 'a') == (False, ['controller file reservations.yml not found'])


def test_drift_on_the_host_is_named(site):
    full_run(site)
    conf = site / 'managed' / 'a' / 'kea-dhcp4.conf'
    conf.write_text('{"Dhcp4": {"valid-lifetime": 1}}\n')
    (site / 'managed' / 'b' / 'extra.conf').write_text('')
    result = play(site)
    assert decision(result, 'a') == (False, ['file %s changed since the last run' % conf])
    assert decision(result, 'b') == (False, ['file %s changed since the last run' % (site / 'managed' / 'b' / 'extra.conf')])
    conf.write_text('{"Dhcp4": {}}\n')
    os.chmod(str(conf), 0o666)
    assert decision(play(site), 'a')[0] is False
    os.chmod(str(conf), 0o644)
    os.unlink(str(site / 'managed' / 'b' / 'extra.conf'))
    result = play(site)
    assert decision(result, 'b') == (True, [])
    # The stamp records the installed version of each package it names.
    stamp = json.loads((site / 'stamps' / 'a' / 'kea_dhcp4.json').read_text())
    assert stamp['host']['package_versions']['dpkg'] and stamp['host']['package_versions']['no-such-package'] is None


def test_max_age_and_invalidate_and_check_mode(site):
    full_run(site)
    time.sleep(2)
    result = play(site, '-e', 'max_age=1')
    assert decision(result, 'a')[0] is False
    assert 'older than max_age (1s)' in decision(result, 'a')[1][0]
    assert decision(play(site, '-e', 'max_age=0'), 'a') == (True, [])
    # Check mode neither removes nor writes a stamp.
    before = (site / 'stamps' / 'a' / 'kea_dhcp4.json').read_text()
    play(site, '--check', '-e', 'invalidate=true', '-e', 'full=true', '-e', 'site_secret=x')
    assert (site / 'stamps' / 'a' / 'kea_dhcp4.json').read_text() == before
    # A full run removes the stamp first: interrupted after that, no stamp.
    play(site, '-e', 'invalidate=true')
    result = play(site)
    assert decision(result, 'a')[1] == ['no stamp: this role has not finished a full run here since the last change']
    # The probe removes it itself when told to (a role whose fast path is
    # off), after reading it; never in check mode.
    full_run(site)
    result = play(site, '--check', '-e', 'probe_invalidates=true')
    assert result['a']['Probe']['invalidated'] is False
    assert (site / 'stamps' / 'a' / 'kea_dhcp4.json').read_text()
    result = play(site, '-e', 'probe_invalidates=true')
    assert result['a']['Probe']['invalidated'] is True and result['a']['Probe']['stamp']['found'] is True
    assert decision(result, 'a') == (False, ['stamp removed (invalidate): a full run follows'])
    assert not (site / 'stamps' / 'a' / 'kea_dhcp4.json').exists()
    assert result['b']['Probe']['invalidated'] is True
    assert decision(play(site), 'b')[0] is False
