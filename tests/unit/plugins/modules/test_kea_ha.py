# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kea_ha against a real local HTTP server (and unix socket) whose HA states
follow a script: each HA command moves it to the next phase, and within a
phase each status-get returns the next (local, partner) pair, the last one
repeating. The state sequences are the ones seen on Kea 2.2.0 and 3.0.4 pairs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils import kea_ha as ha_utils
from ansible_collections.dhcpops.kea.plugins.modules import kea_ha
from ansible_collections.dhcpops.kea.tests.unit.plugins.module_utils.kea_fake_server import (
    HEARTBEAT_UNSUPPORTED,
    STATUS_2_2_0_HOT_STANDBY,
    STATUS_2_2_0_PARTNER_DOWN,
    STATUS_3_0_4_HOT_STANDBY,
    STATUS_3_0_4_PASSIVE_BACKUP,
    STATUS_NO_HA,
    Raw,
    ScriptedPair,
    http_server,
    reply,
    run_module,
    unix_server,
)

PASSWORD = 'Ha-unit-secret-3c4d'
AUTH = ('kea-api', PASSWORD)
HS = 'hot-standby'
PIM = 'partner-in-maintenance'
IM = 'in-maintenance'


def ha_args(fake, **extra):
    args = dict(api_url=fake.url, api_user='kea-api', api_password=PASSWORD, api_service='', api_timeout=2,
                timeout=5, interval=0.02)
    args.update(extra)
    return args


def seen(result):
    return [(s['local'], s['partner']) for s in result['states_seen']]


@pytest.fixture(autouse=True)
def fast_trap(monkeypatch):
    monkeypatch.setattr(ha_utils, 'MIN_CANCEL_SPACING', 0.1)


# --- reading Kea's answers ------------------------------------------------------

def test_parse_kea_2_2_0_answer():
    view = ha_utils.parse_ha_status(STATUS_2_2_0_HOT_STANDBY)
    assert view == dict(mode=HS, local_state=HS, role='primary', server_name=None, partner_state=HS,
                        partner_role='standby', partner_name=None, partner_in_touch=True)


def test_parse_kea_3_0_4_answer():
    view = ha_utils.parse_ha_status(STATUS_3_0_4_HOT_STANDBY, 'a')
    assert (view['server_name'], view['partner_name'], view['local_state'], view['partner_state']) == (
        'a', 'b', HS, HS)


def test_partner_down_in_2_2_0_is_out_of_touch_although_kea_says_in_touch():
    view = ha_utils.parse_ha_status(STATUS_2_2_0_PARTNER_DOWN)
    assert view['local_state'] == 'partner-down' and view['partner_state'] == 'unavailable'
    assert view['partner_in_touch'] is False


def test_passive_backup_has_no_partner():
    view = ha_utils.parse_ha_status(STATUS_3_0_4_PASSIVE_BACKUP)
    assert view['partner_state'] is None and view['partner_in_touch'] is False
    assert ha_utils.pair_is_normal(view)


def test_hub_relationship_is_picked_by_name():
    hub = copy.deepcopy(STATUS_3_0_4_HOT_STANDBY)
    other = copy.deepcopy(hub['high-availability'][0])
    other['ha-servers']['local'].update({'server-name': 'c', 'state': 'load-balancing'})
    other['ha-mode'] = 'load-balancing'
    hub['high-availability'].append(other)
    assert ha_utils.parse_ha_status(hub, 'c')['local_state'] == 'load-balancing'
    with pytest.raises(ha_utils.HaError) as exc:
        ha_utils.parse_ha_status(hub)
    assert 'set server_name' in str(exc.value)
    with pytest.raises(ha_utils.HaError) as exc:
        ha_utils.parse_ha_status(hub, 'zz')
    assert 'a, c' in str(exc.value)


def test_no_ha_section():
    assert ha_utils.parse_ha_status(STATUS_NO_HA) is None


# --- query ----------------------------------------------------------------------

def test_query_reads_once_and_changes_nothing(capsys):
    with http_server(lambda r: reply(0, arguments=STATUS_2_2_0_HOT_STANDBY), auth=AUTH) as fake:
        failed, result, out = run_module(kea_ha.main, ha_args(fake, api_service='dhcp4'), capsys)
    assert not failed and result['changed'] is False
    assert (result['local_state'], result['partner_state'], result['mode'], result['role'],
            result['partner_role'], result['partner_in_touch']) == (HS, HS, HS, 'primary', 'standby', True)
    assert fake.commands == ['status-get'] and result['commands_sent'] == []
    assert fake.requests[0].body == {'command': 'status-get', 'service': ['dhcp4']}
    assert PASSWORD not in out


def test_query_waits_and_records_one_entry_per_change(capsys):
    script = ScriptedPair([[('waiting', None)] * 5 + [('syncing', 'waiting')] * 3 + [('ready', 'ready')] * 4
                           + [(HS, 'ready'), (HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, wait_for=[HS], wait_for_partner=[HS]), capsys)
    assert not failed, result['msg']
    assert seen(result) == [('waiting', None), ('syncing', 'waiting'), ('ready', 'ready'), (HS, 'ready'), (HS, HS)]
    assert fake.commands.count('status-get') == 14
    elapsed = [s['elapsed'] for s in result['states_seen']]
    assert elapsed == sorted(elapsed) and result['elapsed'] >= elapsed[-1]


def test_query_timeout_lists_the_states_seen(capsys):
    script = ScriptedPair([[('waiting', None), ('syncing', 'waiting'), ('ready', 'ready')]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, wait_for=[HS], timeout=1), capsys)
    assert failed
    msg = result['msg']
    assert msg.startswith('timed out after 1 s waiting for this server in hot-standby. States seen: ')
    for fragment in ('local=waiting partner=unknown', 'local=syncing partner=waiting', 'local=ready partner=ready'):
        assert fragment in msg
    assert seen(result) == [('waiting', None), ('syncing', 'waiting'), ('ready', 'ready')]
    assert 1.0 <= result['elapsed'] < 3


def test_query_rides_out_a_restarting_server(capsys):
    offline = reply(1, 'unable to forward command to the dhcp4 service: No such file or directory. '
                       'The server is likely to be offline')
    script = ScriptedPair([[offline, offline, Raw('Service Unavailable', status=503), ('waiting', None), (HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, wait_for=[HS]), capsys)
    assert not failed, result['msg']
    assert seen(result) == [('unreachable', None), ('waiting', None), (HS, HS)]


def test_query_fails_at_once_on_wrong_credentials_even_while_waiting(capsys):
    with http_server(lambda r: reply(0, arguments=STATUS_2_2_0_HOT_STANDBY), auth=AUTH) as fake:
        failed, result, out = run_module(kea_ha.main, ha_args(fake, api_password='Wrong-ha-pass-1',
                                                              wait_for=['load-balancing'], timeout=30), capsys)
    assert failed and 'refused the credentials of user kea-api (HTTP 401)' in result['msg']
    assert result['elapsed'] < 5
    assert PASSWORD not in out and 'Wrong-ha-pass-1' not in out


def test_query_on_a_server_without_ha_says_so(capsys):
    def no_ha(request):
        return HEARTBEAT_UNSUPPORTED if request.command == 'ha-heartbeat' else reply(0, arguments=STATUS_NO_HA)

    with http_server(no_ha, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake), capsys)
    assert failed
    assert result['msg'].startswith('HA is not configured on the Kea API at %s' % fake.url)
    assert 'libdhcp_ha.so' in result['msg'] and "'ha-heartbeat' command not supported." in result['msg']
    assert fake.commands == ['status-get', 'ha-heartbeat']


def test_control_agent_with_empty_service_gets_a_hint(capsys):
    def agent(request):
        # Without "service" the Control Agent answers itself.
        if request.command == 'ha-heartbeat':
            return HEARTBEAT_UNSUPPORTED
        return reply(0, arguments={'pid': 1, 'reload': 7, 'uptime': 7})

    with http_server(agent, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, api_service=''), capsys)
    assert failed and 'set api_service to dhcp4' in result['msg']


def test_terminated_while_querying_fails_at_once_with_recovery_steps(capsys):
    script = ScriptedPair([[('waiting', None), ('terminated', 'terminated')]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, wait_for=[HS], timeout=30), capsys)
    assert failed and result['elapsed'] < 5
    assert '"terminated" state on this server and its partner' in result['msg']
    assert 'ha-reset' in result['msg'] and 'stop kea-dhcp4 on both peers' in result['msg']


def test_waiting_for_terminated_is_allowed(capsys):
    script = ScriptedPair([[('waiting', None), ('terminated', HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, wait_for=['terminated']), capsys)
    assert not failed and result['local_state'] == 'terminated'


def test_query_over_the_unix_socket(capsys):
    with unix_server(lambda r: reply(0, arguments=STATUS_3_0_4_HOT_STANDBY)) as fake:
        failed, result, dummy = run_module(kea_ha.main, dict(api_socket=fake.path, server_name='a'), capsys)
    assert not failed and result['server_name'] == 'a' and result['partner_name'] == 'b'
    assert fake.requests[0].body == {'command': 'status-get'}


def test_wait_for_only_with_query(capsys):
    failed, result, dummy = run_module(kea_ha.main, dict(api_socket='/nonexistent', state='normal',
                                                         wait_for=[HS]), capsys)
    assert failed and 'apply to state=query' in result['msg']


# --- maintenance ------------------------------------------------------------------

def test_maintenance_starts_and_waits(capsys):
    script = ScriptedPair([[(HS, HS)], [(HS, HS), (PIM, HS), (PIM, IM)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert not failed, result['msg']
    assert result['changed'] is True and result['commands_sent'] == ['ha-maintenance-start']
    assert fake.commands[:2] == ['status-get', 'ha-maintenance-start']
    assert result['local_state'] == PIM
    assert seen(result) == [(HS, HS), (PIM, HS)]


@pytest.mark.parametrize('local, partner, in_touch', [(PIM, IM, True), ('partner-down', 'unavailable', False)])
def test_maintenance_already_in_place_sends_nothing(capsys, local, partner, in_touch):
    script = ScriptedPair([[(local, partner, in_touch)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert not failed and result['changed'] is False and result['commands_sent'] == []
    assert fake.commands == ['status-get']


def test_maintenance_from_partner_down_with_the_partner_back_is_sent(capsys):
    script = ScriptedPair([[('partner-down', 'waiting', True)], [(PIM, IM)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert not failed and result['commands_sent'] == ['ha-maintenance-start']


def test_maintenance_check_mode_reports_and_sends_nothing(capsys):
    script = ScriptedPair([[(HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys, check_mode=True)
    assert not failed and result['changed'] is True
    assert result['would_send'] == ['ha-maintenance-start'] and result['commands_sent'] == []
    assert fake.commands == ['status-get']


def test_maintenance_refused_by_kea_fails_with_its_text(capsys):
    script = ScriptedPair([[('syncing', 'ready')]], command_results={'ha-maintenance-start': 1})
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert failed and 'Kea refused ha-maintenance-start in state syncing' in result['msg']
    assert 'ha-maintenance-start answered 1' in result['msg']


def test_maintenance_times_out_with_the_states(capsys):
    script = ScriptedPair([[(HS, HS)], [(HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance', timeout=1), capsys)
    assert failed and 'timed out after 1 s waiting for this server in partner-in-maintenance or partner-down' in \
        result['msg']
    assert result['changed'] is True and result['commands_sent'] == ['ha-maintenance-start']


def test_maintenance_on_the_peer_in_maintenance_is_refused(capsys):
    script = ScriptedPair([[(IM, PIM)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert failed and 'this server is in-maintenance' in result['msg'] and fake.commands == ['status-get']


def test_maintenance_in_passive_backup_is_refused_before_sending(capsys):
    with http_server(lambda r: reply(0, arguments=STATUS_3_0_4_PASSIVE_BACKUP), auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert failed and 'passive-backup' in result['msg'] and fake.commands == ['status-get']


def test_maintenance_on_terminated_fails_before_sending(capsys):
    script = ScriptedPair([[('terminated', HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='maintenance'), capsys)
    assert failed and 'terminated' in result['msg'] and fake.commands == ['status-get']


# --- normal -------------------------------------------------------------------------

def test_normal_cancels_and_waits_for_both_peers(capsys):
    # As on the 3.0.4 pair: cancel, this server is normal at once, the partner follows.
    script = ScriptedPair([[(PIM, IM)], [(HS, 'ready'), (HS, 'ready'), (HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed, result['msg']
    assert result['changed'] is True and result['commands_sent'] == ['ha-maintenance-cancel']
    assert seen(result) == [(PIM, IM), (HS, 'ready'), (HS, HS)]


def test_normal_handles_the_maintenance_trap(capsys):
    # The partner was reloaded faster than a heartbeat: after the first cancel
    # it comes back in-maintenance and this server again holds the maintenance.
    # Only a second cancel ends it.
    script = ScriptedPair([
        [(PIM, 'waiting')],
        [(PIM, 'waiting'), (PIM, IM)],
        [(HS, 'ready'), (HS, HS)],
    ])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed, result['msg']
    assert result['commands_sent'] == ['ha-maintenance-cancel', 'ha-maintenance-cancel']
    assert seen(result) == [(PIM, 'waiting'), (PIM, IM), (HS, 'ready'), (HS, HS)]
    assert fake.commands.count('ha-maintenance-cancel') == 2


def test_normal_trap_is_not_answered_faster_than_the_spacing(capsys, monkeypatch):
    monkeypatch.setattr(ha_utils, 'MIN_CANCEL_SPACING', 0.5)
    script = ScriptedPair([[(PIM, IM)], [(PIM, IM)] * 200 + [(HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal', timeout=1), capsys)
    # About 1 s of readings every 0.02 s: one cancel at the start, at most two more.
    assert 2 <= result['commands_sent'].count('ha-maintenance-cancel') <= 3
    assert failed


def test_normal_when_already_normal_sends_nothing(capsys):
    with http_server(lambda r: reply(0, arguments=STATUS_2_2_0_HOT_STANDBY), auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed and result['changed'] is False and result['commands_sent'] == []


def test_normal_waits_through_transitions(capsys):
    script = ScriptedPair([[('partner-down', 'unavailable', False), ('partner-down', 'waiting'),
                            ('partner-down', 'syncing'), (HS, 'ready'), (HS, HS)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed and result['changed'] is False and result['commands_sent'] == []
    assert len(result['states_seen']) == 5


def test_normal_fails_at_once_on_terminated(capsys):
    script = ScriptedPair([[(PIM, IM)], [('waiting', IM), ('terminated', 'waiting')]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal', timeout=30), capsys)
    assert failed and result['elapsed'] < 5
    assert '"terminated" state on this server' in result['msg']
    assert 'ha-reset' in result['msg'] and 'start both' in result['msg']
    assert result['commands_sent'] == ['ha-maintenance-cancel'] and result['changed'] is True
    assert seen(result)[-1] == ('terminated', 'waiting')


def test_normal_on_the_peer_in_maintenance_times_out_with_a_hint(capsys):
    script = ScriptedPair([[(IM, PIM)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal', timeout=1), capsys)
    assert failed and 'run state=normal against the partner' in result['msg']
    assert result['commands_sent'] == []


def test_normal_check_mode_reports_and_does_not_wait(capsys):
    script = ScriptedPair([[(PIM, IM)]])
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal', timeout=30), capsys,
                                           check_mode=True)
    assert not failed and result['changed'] is True
    assert result['would_send'] == ['ha-maintenance-cancel'] and result['commands_sent'] == []
    assert fake.commands == ['status-get'] and result['elapsed'] < 2


def test_normal_in_passive_backup_waits_for_this_server_only(capsys):
    with http_server(lambda r: reply(0, arguments=STATUS_3_0_4_PASSIVE_BACKUP), auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed and result['partner_state'] is None and result['mode'] == 'passive-backup'


def test_load_balancing_normal_state(capsys):
    script = ScriptedPair([[('load-balancing', 'ready'), ('load-balancing', 'load-balancing')]],
                          mode='load-balancing')
    with http_server(script, auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_ha.main, ha_args(fake, state='normal'), capsys)
    assert not failed and result['local_state'] == 'load-balancing' and len(result['states_seen']) == 2
