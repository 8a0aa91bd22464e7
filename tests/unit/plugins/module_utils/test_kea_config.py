# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_lint import lint_dhcp4
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import (
    SECRET_MASK, ModelError, build_dhcp4, mask_secrets, mask_secrets_in_text, parse_kea_json, redacted_view,
    render, strip_comments,
)

HOOKS = '/usr/lib/x86_64-linux-gnu/kea/hooks'


def subnet(sid, prefix, pool=None, **extra):
    out = {'id': sid, 'subnet': prefix}
    if pool:
        out['pools'] = [{'pool': pool}]
    out.update(extra)
    return out


def build(**spec):
    spec.setdefault('subnets', [subnet(10, '192.0.2.0/24', '192.0.2.100 - 192.0.2.199')])
    return build_dhcp4(spec)


def test_render_is_deterministic_and_valid_json():
    a_subnets = [subnet(10, '192.0.2.0/24', option_data=None)]
    a_subnets[0] = {'subnet': '192.0.2.0/24', 'id': 10, 'pools': [{'pool': '192.0.2.10 - 192.0.2.20'}]}
    b_subnets = [{'pools': [{'pool': '192.0.2.10 - 192.0.2.20'}], 'id': 10, 'subnet': '192.0.2.0/24'}]
    first = render(build(subnets=a_subnets, globals={'valid-lifetime': 600, 'authoritative': True})[0])
    second = render(build(subnets=b_subnets, globals={'authoritative': True, 'valid-lifetime': 600})[0])
    assert first == second
    assert first.endswith('\n')
    assert json.loads(first)['Dhcp4']['subnet4'][0]['id'] == 10


def test_each_reservation_renders_on_one_line():
    subnets = [subnet(10, '192.0.2.0/24', reservations=[
        {'hw-address': 'aa:bb:cc:dd:ee:01', 'ip-address': '192.0.2.5'},
        {'hw-address': 'aa:bb:cc:dd:ee:02', 'ip-address': '192.0.2.6'},
    ])]
    text = render(build(subnets=subnets)[0])
    lines = [line for line in text.splitlines() if 'hw-address' in line]
    assert len(lines) == 2
    assert '"ip-address": "192.0.2.5"' in lines[0]


def test_missing_subnet_id_names_the_subnet_and_why():
    with pytest.raises(ModelError) as err:
        build(subnets=[subnet(10, '192.0.2.0/24'), {'subnet': '198.51.100.0/24'}], subnets_label='kea_dhcp4_subnets')
    message = str(err.value)
    assert 'kea_dhcp4_subnets[1]' in message
    assert '198.51.100.0/24' in message
    assert 'leases' in message


@pytest.mark.parametrize('bad_id', ['10', 0, -1, True, 4294967295])
def test_bad_subnet_id_is_rejected(bad_id):
    with pytest.raises(ModelError, match='id must be an integer'):
        build(subnets=[{'id': bad_id, 'subnet': '192.0.2.0/24'}])


def test_duplicate_subnet_id_names_both():
    with pytest.raises(ModelError) as err:
        build(subnets=[subnet(10, '192.0.2.0/24'), subnet(10, '198.51.100.0/24')])
    assert '192.0.2.0/24' in str(err.value) and '198.51.100.0/24' in str(err.value)


def test_reservation_files_merge_by_id_with_sources():
    sets = [('reservations/site-a.yaml', {'subnets': [{'id': 10, 'reservations': [
        {'hw-address': 'aa:bb:cc:dd:ee:01', 'ip-address': '192.0.2.5'}]}]})]
    inline = subnet(10, '192.0.2.0/24', reservations=[{'hw-address': 'aa:bb:cc:dd:ee:02', 'ip-address': '192.0.2.6'}])
    config, sources = build(subnets=[inline], reservation_sets=sets, subnets_label='kea_dhcp4_subnets')
    reservations = config['Dhcp4']['subnet4'][0]['reservations']
    assert [r['ip-address'] for r in reservations] == ['192.0.2.6', '192.0.2.5']
    assert sources[('reservation', 10, 0)] == 'kea_dhcp4_subnets[0].reservations[0]'
    assert sources[('reservation', 10, 1)] == 'reservations/site-a.yaml'
    assert sources[('subnet', 10)] == 'kea_dhcp4_subnets[0]'
    # The caller's data is not mutated.
    assert len(inline['reservations']) == 1


def test_reservation_file_for_unknown_subnet_is_rejected():
    sets = [('res.yaml', {'subnets': [{'id': 99, 'reservations': []}]})]
    with pytest.raises(ModelError, match=r'res.yaml: subnets\[0\] names subnet id 99'):
        build(reservation_sets=sets)


def test_reservation_file_unknown_key_is_rejected():
    with pytest.raises(ModelError, match='unknown top-level key'):
        build(reservation_sets=[('res.yaml', {'hosts': []})])


def test_unquoted_mac_read_by_yaml_as_number_is_explained():
    # Inline data is checked by the builder; file data by the linter's single pass.
    with pytest.raises(ModelError, match='quote it in YAML'):
        build(subnets=[subnet(10, '192.0.2.0/24', reservations=[{'hw-address': 2175412455, 'ip-address': '192.0.2.5'}])])
    sets = [('res.yaml', {'subnets': [{'id': 10, 'reservations': [{'hw-address': 2175412455, 'ip-address': '192.0.2.5'}]}]})]
    config, sources = build(reservation_sets=sets)
    findings = lint_dhcp4(config['Dhcp4'], sources)
    assert [f.code for f in findings] == ['bad-identifier']
    assert 'quote it in YAML' in findings[0].message and '[from res.yaml]' in findings[0].message


def test_ha_loads_lease_cmds_and_ha_with_full_paths_on_2_2():
    ha = {'this-server-name': 'kea1', 'mode': 'hot-standby', 'peers': []}
    config, dummy = build(ha=ha, kea_version='2.2.0', hooks_dir=HOOKS)
    hooks = config['Dhcp4']['hooks-libraries']
    assert [h['library'] for h in hooks] == [HOOKS + '/libdhcp_lease_cmds.so', HOOKS + '/libdhcp_ha.so']
    assert hooks[1]['parameters'] == {'high-availability': [ha]}


def test_bare_hook_name_without_hooks_dir_fails_on_old_kea():
    with pytest.raises(ModelError, match='bare file name'):
        build(hooks_libraries=['libdhcp_stat_cmds.so'], kea_version='2.2.0')
    config, dummy = build(hooks_libraries=['libdhcp_stat_cmds.so'], kea_version='2.6.3')
    assert config['Dhcp4']['hooks-libraries'] == [{'library': 'libdhcp_stat_cmds.so'}]


def test_duplicate_hooks_are_rejected():
    with pytest.raises(ModelError, match='twice'):
        build(hooks_libraries=['libdhcp_stat_cmds.so', {'library': HOOKS + '/libdhcp_stat_cmds.so'}], hooks_dir=HOOKS)


@pytest.mark.parametrize('version,key', [('2.2.0', 'output_options'), ('2.6.3', 'output-options'),
                                         ('3.0.4', 'output-options')])
def test_logger_option_spelling_follows_version(version, key):
    loggers = [{'name': 'kea-dhcp4', 'severity': 'INFO', 'output-options': [{'output': 'stdout'}]}]
    config, dummy = build(loggers=loggers, kea_version=version)
    assert key in config['Dhcp4']['loggers'][0]


def test_control_sockets_need_new_kea():
    sockets = [{'socket-type': 'http', 'socket-address': '127.0.0.1', 'socket-port': 8000}]
    with pytest.raises(ModelError, match='2.7.2'):
        build(control_sockets=sockets, kea_version='2.6.3')
    config, dummy = build(control_sockets=sockets, kea_version='3.0.4')
    assert config['Dhcp4']['control-sockets'] == sockets


def test_raw_passthrough_deep_merges():
    config, dummy = build(globals={'interfaces-config': {'dhcp-socket-type': 'raw'}}, interfaces=['eth0'],
                          raw={'interfaces-config': {'re-detect': False}, 'valid-lifetime': 30})
    dhcp4 = config['Dhcp4']
    assert dhcp4['interfaces-config'] == {'dhcp-socket-type': 'raw', 'interfaces': ['eth0'], 're-detect': False}
    assert dhcp4['valid-lifetime'] == 30


def test_masking_hides_every_password_but_not_paths():
    config = {'Dhcp4': {'lease-database': {'type': 'postgresql', 'password': 'pg-secret'},
                        'control-sockets': [{'authentication': {'clients': [
                            {'user': 'a', 'password': 'api-secret'},
                            {'user': 'b', 'password-file': '/etc/kea/b.pw'}]}}],
                        'hooks-libraries': [{'parameters': {'high-availability': [{'peers': [
                            {'basic-auth-password': 'ha-secret'}]}]}}]}}
    text = render(mask_secrets(config))
    for secret in ('pg-secret', 'api-secret', 'ha-secret'):
        assert secret not in text
    assert '/etc/kea/b.pw' in text
    assert text.count(SECRET_MASK) == 3


def test_text_masking_for_unparseable_files():
    text = '{ "password": "x1", "password-file": "/etc/kea/p", <?include "/etc/kea/a.json"?> }'
    masked = mask_secrets_in_text(text)
    assert 'x1' not in masked and '/etc/kea/p' in masked


def test_comments_are_stripped_outside_strings():
    text = '{\n // a comment\n "a": "x # not a comment", # trailing\n /* block\n */ "b": 1 }'
    assert json.loads(strip_comments(text)) == {'a': 'x # not a comment', 'b': 1}
    assert parse_kea_json(text) == {'a': 'x # not a comment', 'b': 1}
    assert parse_kea_json('{ <?include "x"?> }') is None


def test_redacted_view_is_canonical_and_masked():
    view = redacted_view('{"Dhcp4": {"lease-database": {"password": "pg", "type": "postgresql"}}}')
    assert 'pg"' not in view and SECRET_MASK in view
    assert view == render(mask_secrets({'Dhcp4': {'lease-database': {'type': 'postgresql', 'password': 'pg'}}}))


@pytest.mark.parametrize('version,expected', [('2.6.3', []), ('3.0.4', [HOOKS + '/libdhcp_pgsql.so'])])
def test_database_backend_hook_is_loaded_from_kea_3(version, expected):
    config, dummy = build(lease_database={'type': 'postgresql', 'name': 'kea'}, hosts_database={'type': 'postgresql'},
                          kea_version=version, hooks_dir=HOOKS)
    assert [h['library'] for h in config['Dhcp4'].get('hooks-libraries', [])] == expected


def test_database_backend_hook_given_by_user_is_not_doubled():
    config, dummy = build(lease_database={'type': 'postgresql'}, hooks_libraries=['libdhcp_pgsql.so'],
                          kea_version='3.0.4', hooks_dir=HOOKS)
    assert [h['library'] for h in config['Dhcp4']['hooks-libraries']] == [HOOKS + '/libdhcp_pgsql.so']
