# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_lint import (
    Finding,
    lint_dhcp4,
    lint_ha_pair,
)

HOOKS_DIR = '/usr/lib/x86_64-linux-gnu/kea/hooks'
PATHS = {'lib': '/var/lib/kea', 'log': '/var/log/kea', 'run': '/run/kea', 'hooks': HOOKS_DIR}


def subnet(sid, prefix, pools=(), reservations=(), **extra):
    data = {'id': sid, 'subnet': prefix, 'pools': [{'pool': p} for p in pools]}
    if reservations:
        data['reservations'] = list(reservations)
    data.update(extra)
    return data


def res(ip, mac=None, **extra):
    data = {}
    if ip is not None:
        data['ip-address'] = ip
    if mac is not None:
        data['hw-address'] = mac
    data.update(extra)
    return data


def clean_site():
    return {
        'subnet4': [
            subnet(10, '10.0.0.0/24', ['10.0.0.100 - 10.0.0.199'],
                   [res('10.0.0.10', '00:11:22:33:44:01', hostname='printer')]),
            subnet(20, '10.0.1.0/24', ['10.0.1.100-10.0.1.199'],
                   [res('10.0.1.10', '00:11:22:33:44:02')]),
        ],
        'shared-networks': [{
            'name': 'lab',
            'subnet4': [subnet(30, '10.0.30.0/24', ['10.0.30.0/25'])],
        }],
    }


def codes(findings):
    return [f.code for f in findings]


def only(findings, code):
    found = [f for f in findings if f.code == code]
    assert found, 'expected %s in %r' % (code, findings)
    return found


def ha_hooks(mode='hot-standby', me='kea1', peers=None, **rel):
    if peers is None:
        second = {'hot-standby': 'standby', 'load-balancing': 'secondary',
                  'passive-backup': 'backup'}[mode]
        peers = [
            {'name': 'kea1', 'url': 'http://192.0.2.1:8000/', 'role': 'primary'},
            {'name': 'kea2', 'url': 'http://192.0.2.2:8000/', 'role': second},
        ]
    relationship = {'this-server-name': me, 'mode': mode, 'peers': peers}
    relationship.update(rel)
    return [
        {'library': HOOKS_DIR + '/libdhcp_lease_cmds.so'},
        {'library': HOOKS_DIR + '/libdhcp_ha.so',
         'parameters': {'high-availability': [relationship]}},
    ]


# ---------------------------------------------------------------- basics

def test_clean_site_has_no_findings():
    assert lint_dhcp4(clean_site()) == []


def test_finding_to_dict_and_sorting():
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.150', '00:11:22:33:44:99'))  # warning
    del cfg['subnet4'][1]['id']  # error
    findings = lint_dhcp4(cfg)
    assert findings[0].severity == 'error'
    assert findings[-1].severity == 'warning'
    d = findings[0].to_dict()
    assert set(d) == set(['severity', 'code', 'message', 'entries'])
    assert isinstance(d['entries'], list)
    assert all('\n' not in f.message for f in findings)
    assert isinstance(findings[0], Finding)


def test_whole_file_is_unwrapped():
    cfg = clean_site()
    cfg['subnet4'][1]['id'] = 10
    assert codes(lint_dhcp4({'Dhcp4': cfg})) == ['subnet-duplicate-id']


def test_empty_and_odd_input_does_not_raise():
    assert lint_dhcp4({}) == []
    assert lint_dhcp4(None) == []
    findings = lint_dhcp4({'subnet4': ['nonsense', {'id': 1, 'subnet': '10.0.0.0/24', 'pools': ['x']}]})
    assert 'bad-prefix' in codes(findings) and 'bad-pool' in codes(findings)


# ---------------------------------------------------------------- subnets

def test_subnet_missing_id():
    cfg = clean_site()
    del cfg['subnet4'][1]['id']
    f = only(lint_dhcp4(cfg), 'subnet-missing-id')[0]
    assert f.severity == 'error'
    assert '10.0.1.0/24' in f.message and 'subnet4[1]' in f.message
    assert 'stable' in f.message and 'leases' in f.message


def test_subnet_duplicate_id():
    cfg = clean_site()
    cfg['subnet4'][1]['id'] = 10
    f = only(lint_dhcp4(cfg), 'subnet-duplicate-id')[0]
    assert '10.0.0.0/24' in f.message and '10.0.1.0/24' in f.message
    assert 'subnet id 10 ' in f.message
    assert 'subnet-duplicate-id' not in codes(lint_dhcp4(clean_site()))


@pytest.mark.parametrize('prefix', ['10.0.0.0', '10.0.0/24', '10.0.0.0/33', '10.0.0.256/24', 'x/24', 42])
def test_bad_prefix(prefix):
    cfg = clean_site()
    cfg['subnet4'][1]['subnet'] = prefix
    cfg['subnet4'][1]['pools'] = []
    cfg['subnet4'][1]['reservations'] = []
    f = only(lint_dhcp4(cfg), 'bad-prefix')[0]
    assert f.severity == 'error' and 'subnet 20 ' in f.message


def test_subnet_overlap_different_prefix_names_both_with_sources():
    cfg = clean_site()
    cfg['subnet4'].append(subnet(40, '10.0.0.0/16'))
    sources = {('subnet', 40): 'kea_dhcp4_subnets[2]', ('subnet', 20): 'kea_dhcp4_subnets[1]'}
    found = only(lint_dhcp4(cfg, sources=sources), 'subnet-overlap')
    # the /16 contains subnets 10, 20 and 30
    assert len(found) == 3
    for f in found:
        assert f.severity == 'error'
        assert 'subnet 40 (10.0.0.0/16) [from kea_dhcp4_subnets[2]]' in f.message
    f20 = [f for f in found if 'subnet 20 ' in f.message][0]
    assert 'subnet 20 (10.0.1.0/24) [from kea_dhcp4_subnets[1]]' in f20.message
    assert '10.0.1.0/24 lies inside 10.0.0.0/16' in f20.message
    assert len(f20.entries) == 2


def test_subnet_overlap_equal_prefix_and_shared_network():
    cfg = clean_site()
    cfg['shared-networks'][0]['subnet4'].append(subnet(31, '10.0.1.0/24'))
    f = only(lint_dhcp4(cfg), 'subnet-overlap')[0]
    assert 'subnet 20 (10.0.1.0/24)' in f.message and 'subnet 31 (10.0.1.0/24)' in f.message
    assert 'same range' in f.message


def test_adjacent_subnets_do_not_overlap():
    cfg = {'subnet4': [subnet(1, '10.0.0.0/25'), subnet(2, '10.0.0.128/25'), subnet(3, '10.0.1.0/24')]}
    assert lint_dhcp4(cfg) == []


def test_subnet_host_bits_warning():
    cfg = {'subnet4': [subnet(1, '10.0.0.5/24')]}
    f = only(lint_dhcp4(cfg), 'subnet-host-bits')[0]
    assert f.severity == 'warning' and '10.0.0.0/24' in f.message


# ---------------------------------------------------------------- pools

def test_pool_outside_subnet():
    cfg = clean_site()
    cfg['subnet4'][0]['pools'].append({'pool': '10.0.0.250 - 10.0.1.5'})
    f = only(lint_dhcp4(cfg), 'pool-outside-subnet')[0]
    assert f.severity == 'error'
    assert '10.0.0.250 - 10.0.1.5' in f.message and 'subnet 10 (10.0.0.0/24)' in f.message


def test_pool_overlap_across_subnets_names_both():
    cfg = clean_site()
    cfg['subnet4'][1]['pools'].append({'pool': '10.0.0.150-10.0.0.160'})
    found = only(lint_dhcp4(cfg), 'pool-overlap')
    assert len(found) == 1
    f = found[0]
    assert 'pool 10.0.0.150-10.0.0.160 of subnet 20 (10.0.1.0/24)' in f.message
    assert 'pool 10.0.0.100 - 10.0.0.199 of subnet 10 (10.0.0.0/24)' in f.message


def test_pool_overlap_within_subnet_cidr_vs_range():
    cfg = {'subnet4': [subnet(1, '10.0.0.0/24', ['10.0.0.0/25', '10.0.0.120 - 10.0.0.130'])]}
    f = only(lint_dhcp4(cfg), 'pool-overlap')[0]
    assert '10.0.0.0/25' in f.message and '10.0.0.120 - 10.0.0.130' in f.message


def test_adjacent_pools_pass():
    cfg = {'subnet4': [subnet(1, '10.0.0.0/24', ['10.0.0.0/25', '10.0.0.128 - 10.0.0.255'])]}
    assert lint_dhcp4(cfg) == []


@pytest.mark.parametrize('pool', ['10.0.0.20 - 10.0.0.10', '10.0.0.1', '10.0.0.1 - 10.0.0.300',
                                  '10.0.0.0/40', '1-2-3'])
def test_bad_pool(pool):
    cfg = {'subnet4': [subnet(1, '10.0.0.0/24', [pool])]}
    f = only(lint_dhcp4(cfg), 'bad-pool')[0]
    assert pool in f.message and 'subnet 1 ' in f.message


# ---------------------------------------------------------------- reservations

def test_incident_reservation_in_other_subnets_pool():
    """The incident: a reservation added to subnet 30 with an address that
    subnet 10 hands out dynamically."""
    cfg = clean_site()
    cfg['shared-networks'][0]['subnet4'][0]['reservations'] = [
        res('10.0.0.150', '0a:1b:2c:3d:4e:5f', hostname='san-ctrl-2')]
    sources = {('subnet', 10): 'kea_dhcp4_subnets[0]',
               ('subnet', 30): 'kea_dhcp4_shared_networks[0]',
               ('reservation', 30, 0): 'reservations/site-a.yaml'}
    findings = lint_dhcp4(cfg, sources=sources)
    f = only(findings, 'reservation-in-foreign-subnet')[0]
    assert f.severity == 'error'
    # our side
    for part in ('10.0.0.150', 'hw-address 0a:1b:2c:3d:4e:5f', 'san-ctrl-2',
                 'subnet 30 (10.0.30.0/24)', '[from reservations/site-a.yaml]'):
        assert part in f.message
    # their side
    assert 'subnet 10 (10.0.0.0/24) [from kea_dhcp4_subnets[0]]' in f.message
    assert 'pool 10.0.0.100 - 10.0.0.199' in f.message
    assert len(f.entries) == 3
    assert 'reservation-outside-subnet' not in codes(findings)


def test_reservation_in_foreign_subnet_outside_pool():
    cfg = clean_site()
    cfg['subnet4'][1]['reservations'].append(res('10.0.0.20', '00:11:22:33:44:55'))
    f = only(lint_dhcp4(cfg), 'reservation-in-foreign-subnet')[0]
    assert 'subnet 20 (10.0.1.0/24)' in f.message and 'subnet 10 (10.0.0.0/24)' in f.message
    assert 'pool' not in f.message


def test_reservation_in_overlapping_subnets_pool_reported():
    cfg = {'subnet4': [subnet(1, '10.0.0.0/16', reservations=[res('10.0.5.7', 'aa:aa:aa:aa:aa:aa')]),
                       subnet(2, '10.0.5.0/24', ['10.0.5.0/25'])]}
    findings = lint_dhcp4(cfg)
    assert 'subnet-overlap' in codes(findings)
    f = only(findings, 'reservation-in-foreign-subnet')[0]
    assert 'subnet 2 (10.0.5.0/24)' in f.message and '10.0.5.0/25' in f.message


def test_reservation_outside_subnet():
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('192.168.9.9', '00:11:22:33:44:66'))
    findings = lint_dhcp4(cfg)
    f = only(findings, 'reservation-outside-subnet')[0]
    assert f.severity == 'error'
    assert '192.168.9.9' in f.message and 'subnet 10 (10.0.0.0/24)' in f.message
    assert 'reservation-in-foreign-subnet' not in codes(findings)


def test_global_reservation_outside_every_subnet_is_warning():
    cfg = clean_site()
    cfg['reservations'] = [res('192.168.9.9', '00:11:22:33:44:66')]
    f = only(lint_dhcp4(cfg, sources={('reservation', None, 0): 'globals.yaml'}),
             'reservation-outside-subnet')[0]
    assert f.severity == 'warning' and 'global reservation 192.168.9.9' in f.message
    assert '[from globals.yaml]' in f.message
    cfg['reservations'] = [res('10.0.0.20', '00:11:22:33:44:66')]
    assert lint_dhcp4(cfg) == []


def test_reservation_in_own_pool_default_warning():
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.150', '00:11:22:33:44:66'))
    f = only(lint_dhcp4(cfg), 'reservation-in-pool')[0]
    assert f.severity == 'warning'
    assert '10.0.0.150' in f.message and '10.0.0.100 - 10.0.0.199' in f.message
    assert 'subnet 10 (10.0.0.0/24)' in f.message


@pytest.mark.parametrize('setting,expected', [('error', ['error']), ('warning', ['warning']), ('ignore', [])])
def test_reservation_in_pool_option(setting, expected):
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.150', '00:11:22:33:44:66'))
    findings = lint_dhcp4(cfg, options={'reservation_in_pool': setting})
    assert [f.severity for f in findings if f.code == 'reservation-in-pool'] == expected


def test_global_reservation_in_any_pool():
    cfg = clean_site()
    cfg['reservations'] = [res('10.0.1.150', '00:11:22:33:44:66')]
    f = only(lint_dhcp4(cfg), 'reservation-in-pool')[0]
    assert 'global reservation 10.0.1.150' in f.message and 'subnet 20 (10.0.1.0/24)' in f.message


def test_reservation_duplicate_ip_across_subnets_and_globals():
    cfg = clean_site()
    cfg['reservations'] = [res('10.0.0.10', '00:11:22:33:44:66')]
    sources = {('reservation', 10, 0): 'reservations/a.yaml', ('reservation', None, 0): 'globals.yaml'}
    f = only(lint_dhcp4(cfg, sources=sources), 'reservation-duplicate-ip')[0]
    assert f.severity == 'error'
    assert '10.0.0.10 is reserved 2 times' in f.message
    assert 'printer' in f.message and '00:11:22:33:44:66' in f.message
    assert 'reservations/a.yaml' in f.message and 'globals.yaml' in f.message


def test_reservation_duplicate_ip_warning_when_not_unique():
    cfg = clean_site()
    cfg['ip-reservations-unique'] = False
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.10', '00:11:22:33:44:66'))
    f = only(lint_dhcp4(cfg), 'reservation-duplicate-ip')[0]
    assert f.severity == 'warning'


@pytest.mark.parametrize('other', ['00-11-22-33-44-01', '00:11:22:33:44:01'.upper(), '0011.2233.4401',
                                   '0:11:22:33:44:1'])
def test_reservation_duplicate_hw_address_normalised(other):
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.11', other))
    f = only(lint_dhcp4(cfg), 'reservation-duplicate-identifier')[0]
    assert f.severity == 'error'
    assert '10.0.0.10' in f.message and '10.0.0.11' in f.message and 'subnet 10 ' in f.message


def test_same_identifier_in_different_subnets_passes():
    cfg = clean_site()
    cfg['subnet4'][1]['reservations'].append(res('10.0.1.11', '00:11:22:33:44:01'))
    assert lint_dhcp4(cfg) == []


def test_reservation_duplicate_client_id_in_globals():
    cfg = {'reservations': [{'client-id': '01:AA:bb:cc', 'hostname': 'a'},
                            {'client-id': '01aabbcc', 'hostname': 'b'}]}
    f = only(lint_dhcp4(cfg), 'reservation-duplicate-identifier')[0]
    assert 'client-id' in f.message and 'global reservations' in f.message
    assert 'hostname a' in f.message and 'hostname b' in f.message


def test_reservation_no_identifier():
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.12', hostname='orphan'))
    f = only(lint_dhcp4(cfg), 'reservation-no-identifier')[0]
    assert 'orphan' in f.message and '10.0.0.12' in f.message and 'subnet 10 ' in f.message


def test_reservation_bad_address():
    cfg = clean_site()
    cfg['subnet4'][0]['reservations'].append(res('10.0.0.300', '00:11:22:33:44:77'))
    cfg['subnet4'][0]['reservations'].append(res('010.0.0.1', '00:11:22:33:44:78'))
    found = only(lint_dhcp4(cfg), 'bad-address')
    assert len(found) == 2
    assert any('10.0.0.300' in f.message and 'subnet 10 ' in f.message for f in found)


# ---------------------------------------------------------------- unknown keys

def test_unknown_subnet_key_with_suggestion():
    cfg = clean_site()
    cfg['subnet4'][0]['valid-lifetme'] = 3600
    f = only(lint_dhcp4(cfg), 'unknown-key')[0]
    assert "'valid-lifetme'" in f.message and 'subnet 10 (10.0.0.0/24)' in f.message
    assert "did you mean 'valid-lifetime'" in f.message


def test_known_subnet_keys_pass():
    cfg = clean_site()
    cfg['subnet4'][0].update({'valid-lifetime': 1, 'ddns-qualifying-suffix': 'x.', 'relay': {},
                              'reservations-out-of-pool': True, 'user-context': {}, 'offer-lifetime': 5})
    assert lint_dhcp4(cfg) == []
    cfg['subnet4'][0]['site-code'] = 'x'
    assert 'unknown-key' in codes(lint_dhcp4(cfg))
    assert lint_dhcp4(cfg, options={'extra_subnet_keys': ['site-code']}) == []


def test_unknown_keys_in_pool_reservation_and_option_data():
    cfg = clean_site()
    cfg['subnet4'][0]['pools'][0]['client_class'] = 'x'
    cfg['subnet4'][0]['reservations'][0]['hwaddress'] = 'x'
    cfg['subnet4'][0]['option-data'] = [{'name': 'routers', 'dat': '10.0.0.1'}]
    found = only(lint_dhcp4(cfg), 'unknown-key')
    text = ' | '.join(f.message for f in found)
    assert len(found) == 3
    assert "'client_class'" in text and "did you mean 'client-class'" in text
    assert "'hwaddress'" in text and "did you mean 'hw-address'" in text
    assert "'dat'" in text and "did you mean 'data'" in text
    assert all('subnet 10 ' in f.message for f in found)


# ---------------------------------------------------------------- HA

def ha_site(**kw):
    cfg = clean_site()
    cfg['hooks-libraries'] = ha_hooks(**kw)
    return cfg


@pytest.mark.parametrize('mode', ['hot-standby', 'load-balancing', 'passive-backup'])
def test_ha_valid_modes_pass(mode):
    assert lint_dhcp4(ha_site(mode=mode)) == []


def test_ha_this_server_unknown():
    f = only(lint_dhcp4(ha_site(me='kea3')), 'ha-this-server-unknown')[0]
    assert 'kea3' in f.message and 'kea1' in f.message and 'kea2' in f.message


@pytest.mark.parametrize('mode,roles,expect', [
    ('load-balancing', ['primary', 'standby'], 'secondary'),
    ('hot-standby', ['primary', 'primary'], 'exactly one primary'),
    ('passive-backup', ['primary', 'secondary'], 'secondary is not valid'),
    ('hot-standbye', ['primary', 'standby'], 'unknown mode'),
    ('hot-standby', ['primary', 'tertiary'], 'tertiary'),
])
def test_ha_roles(mode, roles, expect):
    peers = [{'name': 'kea%d' % i, 'url': 'http://192.0.2.%d:8000/' % i, 'role': r}
             for i, r in enumerate(roles, 1)]
    f = only(lint_dhcp4(ha_site(mode=mode, peers=peers)), 'ha-roles')[0]
    assert expect in f.message and 'kea1=' in f.message and 'kea2=' in f.message


def test_ha_backups_allowed():
    peers = [{'name': 'a', 'url': 'http://a/', 'role': 'primary'},
             {'name': 'b', 'url': 'http://b/', 'role': 'secondary'},
             {'name': 'c', 'url': 'http://c/', 'role': 'backup'}]
    assert lint_dhcp4(ha_site(mode='load-balancing', me='a', peers=peers)) == []


def test_ha_duplicate_peer_url_and_name():
    peers = [{'name': 'kea1', 'url': 'http://192.0.2.1:8000/', 'role': 'primary'},
             {'name': 'kea1', 'url': 'HTTP://192.0.2.1:8000', 'role': 'standby'}]
    found = only(lint_dhcp4(ha_site(peers=peers)), 'ha-duplicate-peer')
    assert len(found) == 2
    assert all('peers[0]' in f.message and 'peers[1]' in f.message for f in found)


def test_ha_lease_cmds_missing():
    cfg = ha_site()
    cfg['hooks-libraries'] = cfg['hooks-libraries'][1:]
    f = only(lint_dhcp4(cfg), 'ha-lease-cmds-missing')[0]
    assert 'libdhcp_lease_cmds.so' in f.message


def test_no_ha_checks_without_ha_hook():
    cfg = clean_site()
    cfg['hooks-libraries'] = [{'library': HOOKS_DIR + '/libdhcp_stat_cmds.so'}]
    cfg['lease-database'] = {'type': 'postgresql'}
    assert lint_dhcp4(cfg) == []


def test_ha_shared_db_updates():
    cfg = ha_site(**{'send-lease-updates': False})
    cfg['lease-database'] = {'type': 'postgresql', 'name': 'kea'}
    f = only(lint_dhcp4(cfg), 'ha-shared-db-updates')[0]
    assert 'sync-leases' in f.message and 'send-lease-updates' not in f.message
    assert 'same database' in f.message and 'postgresql' in f.message
    ok = ha_site(**{'send-lease-updates': False, 'sync-leases': False})
    ok['lease-database'] = {'type': 'postgresql', 'name': 'kea'}
    assert lint_dhcp4(ok) == []
    memfile = ha_site()
    memfile['lease-database'] = {'type': 'memfile'}
    assert lint_dhcp4(memfile) == []


# ---------------------------------------------------------------- paths

def path_site():
    cfg = clean_site()
    cfg['lease-database'] = {'type': 'memfile', 'name': '/var/lib/kea/kea-leases4.csv'}
    cfg['loggers'] = [{'name': 'kea-dhcp4', 'output-options': [
        {'output': '/var/log/kea/kea-dhcp4.log'}, {'output': 'stdout'}, {'output': 'syslog:local0'}]}]
    cfg['control-socket'] = {'socket-type': 'unix', 'socket-name': 'kea4-ctrl-socket'}
    cfg['hooks-libraries'] = [{'library': HOOKS_DIR + '/libdhcp_stat_cmds.so'}, {'library': 'libdhcp_lease_cmds.so'}]
    return cfg


def test_paths_inside_kea_dirs_pass():
    assert lint_dhcp4(path_site(), options={'paths': PATHS, 'kea_version': '2.6.3'}) == []


def test_paths_outside_kea_dirs():
    cfg = path_site()
    cfg['lease-database']['name'] = '/srv/leases4.csv'
    cfg['loggers'][0]['output_options'] = cfg['loggers'][0].pop('output-options')
    cfg['loggers'][0]['output_options'][0]['output'] = '/var/log/kea-dhcp4.log'
    cfg['control-socket']['socket-name'] = '/tmp/kea4-ctrl-socket'
    cfg['control-sockets'] = [{'socket-type': 'unix', 'socket-name': '/var/run/x.sock'},
                              {'socket-type': 'http', 'socket-address': '127.0.0.1'}]
    cfg['hooks-libraries'].append({'library': '/opt/hooks/libcustom.so'})
    found = only(lint_dhcp4(cfg, options={'paths': PATHS, 'kea_version': '3.0.4'}), 'path-restricted')
    text = ' | '.join(f.message for f in found)
    assert len(found) == 5
    for part in ('/srv/leases4.csv', '/var/log/kea-dhcp4.log', '/tmp/kea4-ctrl-socket',
                 '/var/run/x.sock', '/opt/hooks/libcustom.so'):
        assert part in text
    assert all(f.severity == 'error' for f in found)


@pytest.mark.parametrize('version,severity', [
    ('2.2.0', 'warning'), (None, 'warning'), ('2.4.1', 'warning'), ('2.4.2', 'error'),
    ('2.5.8', 'warning'), ('2.6.2', 'warning'), ('2.6.3', 'error'), ('3.0.0', 'error')])
def test_path_severity_by_version(version, severity):
    cfg = path_site()
    cfg['lease-database']['name'] = '/srv/leases4.csv'
    f = only(lint_dhcp4(cfg, options={'paths': PATHS, 'kea_version': version}), 'path-restricted')[0]
    assert f.severity == severity
    if severity == 'warning':
        assert '2.6.3+ refuses' in f.message


def test_no_path_checks_without_paths():
    cfg = path_site()
    cfg['lease-database']['name'] = '/srv/leases4.csv'
    assert lint_dhcp4(cfg, options={'kea_version': '3.0.0'}) == []


# ---------------------------------------------------------------- HA pair

def pair():
    kea1 = ha_site(me='kea1')
    kea1['interfaces-config'] = {'interfaces': ['eth0']}
    kea1['server-tag'] = 'kea1'
    kea2 = copy.deepcopy(kea1)
    kea2['hooks-libraries'][1]['parameters']['high-availability'][0]['this-server-name'] = 'kea2'
    kea2['interfaces-config'] = {'interfaces': ['ens3']}
    kea2['server-tag'] = 'kea2'
    kea2['loggers'] = [{'name': 'kea-dhcp4'}]
    return {'kea1': kea1, 'kea2': kea2}


def test_ha_pair_identical_passes():
    assert lint_ha_pair(pair()) == []


def test_ha_pair_mismatch_names_hosts_and_paths():
    configs = pair()
    configs['kea2']['subnet4'][0]['pools'][0]['pool'] = '10.0.0.100 - 10.0.0.150'
    configs['kea2']['valid-lifetime'] = 600
    f = only(lint_ha_pair(configs), 'ha-pair-mismatch')[0]
    assert 'kea1' in f.message and 'kea2' in f.message
    assert 'subnet4[id=10].pools[0].pool' in f.message
    assert 'valid-lifetime' in f.message
    assert 'subnet4[id=10].pools[0].pool' in f.entries


def test_ha_pair_mismatch_redacts_secrets():
    configs = pair()
    configs['kea1']['lease-database'] = {'type': 'memfile', 'password': 'hunter2'}
    configs['kea2']['lease-database'] = {'type': 'memfile', 'password': 'hunter3'}
    f = only(lint_ha_pair(configs), 'ha-pair-mismatch')[0]
    assert 'lease-database.password' in f.message and 'hunter' not in f.message


def test_ha_pair_this_server():
    configs = pair()
    configs['kea2']['hooks-libraries'][1]['parameters']['high-availability'][0]['this-server-name'] = 'kea1'
    f = only(lint_ha_pair(configs), 'ha-pair-this-server')[0]
    assert 'kea1' in f.message and 'kea2' in f.message and 'own name' in f.message

    configs = pair()
    rel2 = configs['kea2']['hooks-libraries'][1]['parameters']['high-availability'][0]
    rel2['this-server-name'] = 'kea9'
    found = only(lint_ha_pair(configs), 'ha-pair-this-server')
    assert any('kea2 calls itself "kea9"' in f.message and 'peers list of kea1' in f.message for f in found)


# ---------------------------------------------------------------- property and scale

def _ranges_overlap(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


def _cidr_range(net, length):
    size = 1 << (32 - length)
    first = net & ~(size - 1)
    return first, first + size - 1


def _to_prefix(net, length):
    first, _last = _cidr_range(net, length)
    return '%d.%d.%d.%d/%d' % ((first >> 24) & 255, (first >> 16) & 255, (first >> 8) & 255, first & 255, length)


def test_property_overlap_detection():
    hypothesis = pytest.importorskip('hypothesis')
    st = pytest.importorskip('hypothesis.strategies')

    # Stay inside 10.0.0.0/16 so random blocks collide often enough.
    block = st.tuples(st.integers(0x0A000000, 0x0A00FFFF), st.integers(16, 30))

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.lists(block, max_size=25), block)
    def check(candidates, extra):
        chosen = []
        for net, length in candidates:
            rng = _cidr_range(net, length)
            if not any(_ranges_overlap(rng, other) for other, _p in chosen):
                chosen.append((rng, _to_prefix(net, length)))
        cfg = {'subnet4': [subnet(i + 1, p) for i, (_rng, p) in enumerate(chosen)]}
        assert 'subnet-overlap' not in codes(lint_dhcp4(cfg))

        new_id = 1000
        new_rng = _cidr_range(*extra)
        cfg['subnet4'].insert(len(chosen) // 2, subnet(new_id, _to_prefix(*extra)))
        expected = set(i + 1 for i, (rng, _p) in enumerate(chosen) if _ranges_overlap(rng, new_rng))
        found = [f for f in lint_dhcp4(cfg) if f.code == 'subnet-overlap']
        assert len(found) == len(expected)
        named = set()
        for f in found:
            assert 'subnet %d (' % new_id in f.message
            other = [e for e in f.entries if not e.startswith('subnet %d (' % new_id)]
            assert len(other) == 1
            named.add(int(other[0].split()[1]))
        assert named == expected

    check()


def test_scale_2000_subnets_50000_reservations():
    cfg = build_large_site()
    assert lint_dhcp4(cfg) == []

    # one hand-added reservation in subnet 1999 with an address from subnet 7's pool
    cfg['subnet4'][1998]['reservations'].append(res('10.0.7.150', '02:ff:ff:ff:ff:01'))
    findings = lint_dhcp4(cfg)
    assert codes(findings) == ['reservation-in-foreign-subnet']
    assert 'subnet 1999 ' in findings[0].message and 'subnet 8 (10.0.7.0/24)' in findings[0].message


def build_large_site(n_subnets=2000, n_reservations=50000):
    subnets = []
    per = n_reservations // n_subnets
    for i in range(n_subnets):
        base = '10.%d.%d' % (i // 256, i % 256)
        reservations = []
        for j in range(per):
            serial = i * per + j
            octets = ((serial >> 24) & 255, (serial >> 16) & 255, (serial >> 8) & 255, serial & 255)
            mac = '02:00:%02x:%02x:%02x:%02x' % octets
            reservations.append({'ip-address': '%s.%d' % (base, 10 + j), 'hw-address': mac,
                                 'hostname': 'h%d' % serial})
        subnets.append({'id': i + 1, 'subnet': base + '.0/24',
                        'pools': [{'pool': '%s.100 - %s.199' % (base, base)}],
                        'option-data': [{'name': 'routers', 'data': base + '.1'}],
                        'reservations': reservations})
    return {'subnet4': subnets}
