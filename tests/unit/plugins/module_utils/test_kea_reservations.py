# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the reservation modules: identity, comparison, conflicts, the plan.

The API side is exercised against real Kea 3.0.4 in the ha-forky scenario
(molecule/ha/tests/test_reservations.py); these pin the decisions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_reservations import (
    ReservationError, SubnetMap, canonical, differences, normalise_identifier, plan_sync, present_host, to_kea,
)

CONFIG = {
    'subnet4': [
        {'id': 1, 'subnet': '192.0.2.0/24', 'pools': [{'pool': '192.0.2.100 - 192.0.2.200'}],
         'reservations': [{'hw-address': '0a:00:00:00:00:09', 'ip-address': '192.0.2.9'}]},
        {'id': 2, 'subnet': '198.51.100.0/24', 'pools': [{'pool': '198.51.100.0/25'}]},
    ],
}


@pytest.mark.parametrize('value', ['0A:1B:2C:3D:4E:5F', '0a-1b-2c-3d-4e-5f', '0a1b.2c3d.4e5f', '0a1b2c3d4e5f'])
def test_mac_spellings_are_one_host(value):
    assert normalise_identifier('hw-address', value) == '0a:1b:2c:3d:4e:5f'


def test_quoted_text_identifiers_become_hex():
    assert normalise_identifier('circuit-id', "'ab'") == '61:62'


@pytest.mark.parametrize('kind, value, fragment', [
    ('hw-address', '0a:1b:2c', 'not a MAC address'),
    ('hw-address', 'zz:1b:2c:3d:4e:5f', 'not hexadecimal'),
    ('client-id', 2175412455, 'quote it in YAML'),
    ('serial', '01', 'unknown identifier type'),
])
def test_bad_identifiers_are_named(kind, value, fragment):
    with pytest.raises(ReservationError) as exc:
        normalise_identifier(kind, value, 'file.yml: subnet 1 reservation 3')
    assert fragment in str(exc.value) and 'file.yml: subnet 1 reservation 3' in str(exc.value)


def test_one_identifier_only():
    with pytest.raises(ReservationError, match='exactly one identifier'):
        canonical({'hw-address': '0a:1b:2c:3d:4e:5f', 'client-id': '01:02', 'ip-address': '192.0.2.5'})


def test_unknown_keys_are_refused():
    with pytest.raises(ReservationError, match='unknown key.*hostnam'):
        canonical({'hw-address': '0a:1b:2c:3d:4e:5f', 'hostnam': 'typo'})


def test_kea_answer_equals_the_file_entry():
    # reservation-get of Kea 3.0.4 reports every key, with defaults and option details.
    answer = {'boot-file-name': '', 'client-classes': [], 'hostname': 'printer-1', 'hw-address': '0a:1b:2c:3d:4e:5f',
              'ip-address': '192.0.2.20', 'next-server': '0.0.0.0', 'server-hostname': '', 'subnet-id': 1,
              'option-data': [{'always-send': False, 'code': 6, 'csv-format': True, 'data': '192.0.2.53, 192.0.2.54',
                               'name': 'domain-name-servers', 'never-send': False, 'space': 'dhcp4'}]}
    wanted = canonical({'hw-address': '0A-1B-2C-3D-4E-5F', 'ip-address': '192.0.2.20', 'hostname': 'Printer-1',
                        'option-data': [{'name': 'domain-name-servers', 'data': '192.0.2.53,192.0.2.54'}]})
    assert differences(wanted, present_host(answer, 1)) == []
    changed = canonical({'hw-address': '0a:00:00:00:00:00', 'ip-address': '192.0.2.21', 'hostname': 'printer-1'})
    changed['identifier'] = '0a:1b:2c:3d:4e:5f'
    assert differences(changed, present_host(answer, 1)) == ['ip-address', 'option-data']


def test_to_kea_sends_only_what_is_set():
    host = canonical({'hw-address': '0a1b2c3d4e5f', 'ip-address': '192.0.2.20', 'comment': 'desk 4'})
    assert to_kea(host, 1) == {'subnet-id': 1, 'hw-address': '0a:1b:2c:3d:4e:5f', 'ip-address': '192.0.2.20',
                               'user-context': {'comment': 'desk 4'}}


def _want(mac, ip, where):
    host = canonical({'hw-address': mac, 'ip-address': ip})
    host['where'] = where
    return host


def test_plan_adds_updates_deletes_and_keeps():
    present = {1: [present_host({'hw-address': '0a:00:00:00:00:01', 'ip-address': '192.0.2.11'}, 1),
                   present_host({'hw-address': '0a:00:00:00:00:02', 'ip-address': '192.0.2.12'}, 1),
                   present_host({'hw-address': '0a:00:00:00:00:03', 'ip-address': '192.0.2.13'}, 1)]}
    desired = {1: [_want('0a:00:00:00:00:01', '192.0.2.11', 'f: 0'), _want('0a:00:00:00:00:02', '192.0.2.22', 'f: 1'),
                   _want('0a:00:00:00:00:04', '192.0.2.14', 'f: 2')]}
    plan = plan_sync(desired, present, SubnetMap(CONFIG))
    assert plan['errors'] == []
    assert plan['unchanged'] == 1
    assert [h['identifier'] for dummy, h in plan['adds']] == ['0a:00:00:00:00:04']
    assert [n['ip-address'] for dummy, o, n in plan['updates']] == ['192.0.2.22']
    assert [h['identifier'] for dummy, h in plan['deletes']] == ['0a:00:00:00:00:03']
    kept = plan_sync(desired, present, SubnetMap(CONFIG), prune=False)
    assert kept['deletes'] == []


def test_plan_names_both_sides_of_every_conflict():
    desired = {1: [_want('0a:00:00:00:00:01', '192.0.2.11', 'a.yml: subnet 1 reservation 0'),
                   _want('0a:00:00:00:00:02', '192.0.2.11', 'a.yml: subnet 1 reservation 1'),
                   _want('0a:00:00:00:00:03', '198.51.100.7', 'a.yml: subnet 1 reservation 2'),
                   _want('0a:00:00:00:00:04', '192.0.2.9', 'a.yml: subnet 1 reservation 3')],
               7: [_want('0a:00:00:00:00:05', '203.0.113.5', 'b.yml: subnet 7 reservation 0')]}
    errors = plan_sync(desired, {1: [], 7: []}, SubnetMap(CONFIG))['errors']
    text = '\n'.join(errors)
    assert 'a.yml: subnet 1 reservation 1 reserves 192.0.2.11, which a.yml: subnet 1 reservation 0 already' in text
    assert 'outside subnet 192.0.2.0/24 (id 1), inside the pool 198.51.100.0/25 of subnet 198.51.100.0/24' in text
    assert 'configuration file already reserves for hw-address 0a:00:00:00:00:09' in text
    assert 'subnet id 7 is not configured on the server' in text
    assert len(errors) == 4


def test_reservation_files_become_the_modules_subnets():
    from ansible_collections.dhcpops.kea.plugins.action.kea_reservations import subnets_from_files
    out = subnets_from_files([('a.yml', {'subnets': [{'id': 3, 'comment': 'printers',
                                                      'reservations': [{'hw-address': '0a:00:00:00:00:01'}]}],
                                         'reservations': [{'hw-address': '0a:00:00:00:00:02'}]})])
    assert out == [dict(id=3, source='a.yml', reservations=[{'hw-address': '0a:00:00:00:00:01'}]),
                   dict(id=0, source='a.yml: reservations', reservations=[{'hw-address': '0a:00:00:00:00:02'}])]


@pytest.mark.parametrize('data, fragment', [
    ({'subnet': []}, "unknown top-level key(s) subnet"),
    ({'subnets': [{'id': 1, 'reservation': []}]}, 'unknown key(s) reservation'),
    ({'subnets': [{'id': '1'}]}, "id must be the subnet id"),
])
def test_reservation_file_mistakes_are_named(data, fragment):
    from ansible_collections.dhcpops.kea.plugins.action.kea_reservations import subnets_from_files
    from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import ModelError
    with pytest.raises(ModelError) as exc:
        subnets_from_files([('site.yml', data)])
    assert fragment in str(exc.value) and 'site.yml' in str(exc.value)


def test_the_actor_is_the_awx_user_and_job_when_awx_runs_it():
    from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import actor
    who = actor({'awx_user_name': 'jdoe', 'awx_job_id': 42, 'awx_job_template_name': 'Reserve a host'})
    assert (who['user'], who['job_id'], who['job_template']) == ('jdoe', 42, 'Reserve a host')
    assert actor({})['user']


def test_the_audit_log_is_appended_one_json_line_per_change(tmp_path):
    import json
    from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import append, check_writable
    log = tmp_path / 'audit.jsonl'
    check_writable(str(log))
    append(str(log), {'n': 1})
    append(str(log), {'n': 2})
    assert [json.loads(line)['n'] for line in log.read_text().splitlines()] == [1, 2]
    assert oct(log.stat().st_mode & 0o777) == '0o640'


def test_an_audit_log_in_a_missing_directory_fails_first(tmp_path):
    from ansible.errors import AnsibleActionFail
    from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import check_writable
    with pytest.raises(AnsibleActionFail, match='does not exist'):
        check_writable(str(tmp_path / 'nope' / 'audit.jsonl'))


@pytest.mark.parametrize('value', ['F2-DB-2A-2D-92-F2', 'f2db.2a2d.92f2', 'F2:DB:2A:2D:92:F2', 'f2db2a2d92f2'])
def test_file_macs_are_written_as_every_kea_reads_them(value):
    # Kea 2.2.0 refuses 'F2-DB-2A-2D-92-F2' in kea-dhcp4.conf ("invalid host identifier value"): seen in the ha
    # scenario, so the config path writes the colon form the API path uses too.
    from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import merge_reservation_sets
    subnets, dummy, dummy2 = merge_reservation_sets(
        [{'id': 1, 'subnet': '192.0.2.0/24'}],
        [('f.yml', {'subnets': [{'id': 1, 'reservations': [{'hw-address': value, 'ip-address': '192.0.2.5'}]}]})])
    assert subnets[0]['reservations'] == [{'hw-address': 'f2:db:2a:2d:92:f2', 'ip-address': '192.0.2.5'}]
