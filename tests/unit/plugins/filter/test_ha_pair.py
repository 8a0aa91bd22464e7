# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcpops.kea.ha_pair_findings: the role's pair check on rendered files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.dhcpops.kea.plugins.filter.ha_pair import FilterModule, ha_pair_findings


def _peer(me, lifetime=3600):
    return {'Dhcp4': {
        'valid-lifetime': lifetime,
        'lease-database': {'type': 'postgresql', 'name': 'kea', 'password': 'secret-db-password'},
        'subnet4': [{'id': 1, 'subnet': '192.0.2.0/24'}],
        'hooks-libraries': [
            {'library': '/usr/lib/kea/hooks/libdhcp_lease_cmds.so'},
            {'library': '/usr/lib/kea/hooks/libdhcp_ha.so', 'parameters': {'high-availability': [{
                'this-server-name': me, 'mode': 'hot-standby',
                'send-lease-updates': False, 'sync-leases': False,
                'peers': [{'name': 'kea1', 'url': 'http://192.0.2.11:8000/', 'role': 'primary'},
                          {'name': 'kea2', 'url': 'http://192.0.2.12:8000/', 'role': 'standby'}]}]}}],
        # Host-local: may differ.
        'interfaces-config': {'interfaces': ['eth0/192.0.2.%d' % (11 if me == 'kea1' else 12)]},
    }}


def test_registered():
    assert FilterModule().filters()['ha_pair_findings'] is ha_pair_findings


def test_consistent_pair_has_no_findings():
    assert ha_pair_findings({'kea1': _peer('kea1'), 'kea2': _peer('kea2')}) == []


def test_json_text_is_accepted():
    assert ha_pair_findings({'kea1': json.dumps(_peer('kea1')), 'kea2': json.dumps(_peer('kea2'))}) == []


def test_difference_names_both_hosts_and_the_key():
    findings = ha_pair_findings({'kea1': _peer('kea1'), 'kea2': _peer('kea2', lifetime=7200)})
    assert [f['code'] for f in findings] == ['ha-pair-mismatch']
    assert 'valid-lifetime (kea1: 3600, kea2: 7200)' in findings[0]['message']


def test_secrets_never_shown():
    other = _peer('kea2')
    other['Dhcp4']['lease-database']['password'] = 'another-db-password'
    findings = ha_pair_findings({'kea1': _peer('kea1'), 'kea2': other})
    text = json.dumps(findings)
    assert 'lease-database.password' in text
    assert 'secret-db-password' not in text and 'another-db-password' not in text


def test_same_this_server_name_on_both_hosts():
    findings = ha_pair_findings({'kea1': _peer('kea1'), 'kea2': copy.deepcopy(_peer('kea1'))})
    assert 'ha-pair-this-server' in [f['code'] for f in findings]


def test_one_peer_alone_is_not_compared():
    assert ha_pair_findings({'kea1': _peer('kea1')}) == []


@pytest.mark.parametrize('value', [[], 'x', {'kea1': 'not json'}, {'kea1': [1]}])
def test_bad_input_is_an_error(value):
    with pytest.raises(AnsibleFilterError):
        ha_pair_findings(value)
