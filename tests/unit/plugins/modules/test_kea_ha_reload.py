# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kea_ha_reload's order of steps and what each failure leaves behind, against
two real local HTTP servers: this peer (config-test, config-reload,
statistic-get, status-get) and its partner, whose HA states follow a script
(ha-maintenance-start and -cancel move it on). The real rollout on a live
Kea pair under load is molecule/ha's test_rolling.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils import kea_ha as ha_utils
from ansible_collections.dhcpops.kea.plugins.modules import kea_ha_reload
from ansible_collections.dhcpops.kea.tests.unit.plugins.module_utils.kea_fake_server import (
    ScriptedPair,
    http_server,
    reply,
    run_module,
    status,
)

PEER_PASSWORD = 'Peer-unit-secret-7a1e'
PARTNER_PASSWORD = 'Partner-unit-secret-5b2f'
HS = 'hot-standby'
PIM = 'partner-in-maintenance'
IM = 'in-maintenance'
CHANGING = ('config-test', 'config-reload', 'ha-maintenance-start', 'ha-maintenance-cancel')
# /proc/net/udp with kea-dhcp4's socket on 0.0.0.0:67 (0043), and one on 68.
UDP_67 = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
          '  12: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000   0        0 4242 2 0\n')
UDP_68 = UDP_67.replace(':0043 ', ':0044 ')


class Lab(object):
    """This peer and its partner, with one log of every command either received, in order."""

    def __init__(self, peer_results=None, packets=(100, 100, 105), partner_phases=None):
        self.log = []
        self.lock = threading.Lock()
        self.peer_results = peer_results or {}
        self.packets = list(packets)
        self.partner = ScriptedPair(partner_phases or [[(HS, HS)], [(PIM, IM)], [(PIM, HS), (HS, HS)]])

    def note(self, who, request):
        with self.lock:
            self.log.append((who, request.command))

    def peer_answer(self, request):
        self.note('peer', request)
        if request.command == 'status-get':
            return status(HS, HS)
        if request.command == 'statistic-get':
            value = self.packets.pop(0) if len(self.packets) > 1 else self.packets[0]
            return reply(0, arguments={'pkt4-received': [[value, '2026-11-29 10:00:00.000000']]})
        return reply(self.peer_results.get(request.command, 0), '%s done' % request.command)

    def partner_answer(self, request):
        self.note('partner', request)
        return self.partner(request)

    def changing(self):
        return [(who, command) for who, command in self.log if command in CHANGING]


@pytest.fixture
def udp(tmp_path, monkeypatch):
    table = tmp_path / 'udp'
    table.write_text(UDP_67)
    monkeypatch.setattr(kea_ha_reload, 'PROC_NET_UDP', (str(table),))
    monkeypatch.setattr(ha_utils, 'MIN_CANCEL_SPACING', 0.1)
    return table


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'kea-dhcp4.conf'
    # Comments, as Kea allows them; a secret that must never be echoed.
    path.write_text('// rendered by dhcpops.kea\n{"Dhcp4": {"lease-database": {"type": "postgresql", '
                    '"password": "Db-unit-secret-0c9d"}}}\n')
    return path


def run(lab, tmp_path, capsys, check_mode=False, **extra):
    secret = tmp_path / 'partner-password'
    secret.write_text(PARTNER_PASSWORD + '\n')
    with http_server(lab.peer_answer, auth=('kea-api', PEER_PASSWORD)) as peer, \
            http_server(lab.partner_answer, auth=('kea-ha', PARTNER_PASSWORD)) as partner:
        args = dict(api_url=peer.url, api_user='kea-api', api_password=PEER_PASSWORD, api_service='',
                    api_timeout=2, partner_url=partner.url, partner_user='kea-ha',
                    partner_password_file=str(secret), timeout=5, interval=0.02, socket_wait=1, traffic_wait=1)
        args.update(extra)
        failed, result, out = run_module(kea_ha_reload.main, args, capsys, check_mode=check_mode)
        lab.peer_requests = peer.requests
    for secret_text in (PEER_PASSWORD, PARTNER_PASSWORD, 'Db-unit-secret-0c9d'):
        assert secret_text not in out
    return failed, result


def test_the_steps_run_in_order_and_the_pair_ends_normal(tmp_path, capsys, udp, config_file):
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, config_file=str(config_file))
    assert not failed, result['msg']
    assert lab.changing() == [('peer', 'config-test'), ('partner', 'ha-maintenance-start'),
                              ('peer', 'config-reload'), ('partner', 'ha-maintenance-cancel')]
    assert [s['step'] for s in result['steps']] == ['config-test', 'maintenance', 'config-reload', 'handback',
                                                    'pair-normal', 'dhcp-socket', 'traffic']
    assert result['step'] == 'done' and result['changed'] is True and result['reloaded'] is True
    assert result['partner_in_maintenance'] is False
    assert result['partner_states'] == [HS, PIM, HS]
    assert result['packets'] == dict(before=100, after=105, rose=True, seconds=result['packets']['seconds'])
    # config-test carried the file's content (comments stripped), and
    # config-reload none: Kea reloads its own file.
    sent = dict((r.command, r.body) for r in lab.peer_requests)
    assert sent['config-test']['arguments']['Dhcp4']['lease-database']['type'] == 'postgresql'
    assert 'arguments' not in sent['config-reload']
    assert not result.get('warnings')


def test_a_refused_config_test_changes_nothing(tmp_path, capsys, udp, config_file):
    lab = Lab(peer_results={'config-test': 1})
    failed, result = run(lab, tmp_path, capsys, config_file=str(config_file))
    assert failed and result['step'] == 'config-test'
    assert 'this peer refused the new configuration: result 1 (error)' in result['msg']
    assert 'Nothing was changed' in result['msg']
    assert lab.changing() == [('peer', 'config-test')]
    assert result['reloaded'] is False and result['partner_in_maintenance'] is False


def test_an_unreadable_config_file_is_named_and_changes_nothing(tmp_path, capsys, udp):
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, config_file=str(tmp_path / 'missing.conf'))
    assert failed and result['step'] == 'config-test'
    assert 'cannot read config_file %s' % (tmp_path / 'missing.conf') in result['msg']
    assert lab.log == []


def test_a_refused_reload_leaves_the_maintenance_to_the_caller(tmp_path, capsys, udp):
    lab = Lab(peer_results={'config-reload': 1})
    failed, result = run(lab, tmp_path, capsys)
    assert failed and result['step'] == 'config-reload'
    assert result['reloaded'] is True and result['partner_in_maintenance'] is True
    assert 'end it with dhcpops.kea.kea_ha state=normal against the partner' in result['msg']
    # No cancel: the caller puts the previous file back and reloads it first.
    assert lab.changing() == [('partner', 'ha-maintenance-start'), ('peer', 'config-reload')]
    assert result['partner_states'] == [HS, PIM]


def test_a_partner_that_refuses_the_credentials_stops_before_anything_changed(tmp_path, capsys, udp):
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, partner_user='somebody-else')
    assert failed and result['step'] == 'maintenance'
    assert 'the partner (the Kea API at http://127.0.0.1:' in result['msg'] and '401' in result['msg']
    assert [c for c in lab.changing() if c[1] != 'config-test'] == []
    assert result['reloaded'] is False


def test_a_bridged_handback_without_a_shared_database_is_refused_before_the_maintenance(tmp_path, capsys, udp):
    # The partner's config-get shows no SQL lease database: the refusal must
    # come before the partner serves alone, not at the handback.
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, handback='bridged')
    assert failed and result['step'] == 'maintenance'
    assert 'handback=bridged is safe only when both peers share one SQL lease database' in result['msg']
    assert 'Nothing was changed' in result['msg']
    assert ('partner', 'config-get') in lab.log
    assert lab.changing() == []
    assert result['partner_in_maintenance'] is False and result['reloaded'] is False


def test_no_dhcp_socket_after_the_reload_fails_with_the_pair_normal(tmp_path, capsys, udp):
    udp.write_text(UDP_68)
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys)
    assert failed and result['step'] == 'dhcp-socket'
    assert 'no UDP socket is bound to port 67' in result['msg']
    assert result['reloaded'] is True and result['partner_in_maintenance'] is False
    assert [s['step'] for s in result['steps']][-1] == 'pair-normal'


def test_no_traffic_warns_or_fails_as_asked(tmp_path, capsys, udp, monkeypatch):
    # ansible-core 2.19 hands a module's warnings to the controller's display
    # instead of the result once any controller code was imported in this
    # process (other unit tests do); on a target they are in the result.
    try:
        from ansible.module_utils import _internal
        monkeypatch.setattr(_internal, 'is_controller', False)
    except (ImportError, AttributeError):
        pass
    failed, result = run(Lab(packets=(100,)), tmp_path, capsys)
    assert not failed, result['msg']
    assert result['packets']['rose'] is False
    # ansible-core 2.19 returns warnings as structured events, older releases as strings.
    assert 'received no DHCP packet within 1 s' in json.dumps(result['warnings'])
    failed, result = run(Lab(packets=(100,)), tmp_path, capsys, require_traffic=True)
    assert failed and result['step'] == 'traffic'
    assert 'pkt4-received stayed at 100' in result['msg']


def test_check_mode_tests_the_file_and_sends_nothing_that_changes(tmp_path, capsys, udp, config_file):
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, check_mode=True, config_file=str(config_file))
    assert not failed, result['msg']
    assert lab.changing() == [('peer', 'config-test')]
    assert result['would_send'] == ['partner ha-maintenance-start', 'this config-reload',
                                    'partner ha-maintenance-cancel']
    assert result['changed'] is True and result['reloaded'] is False


def test_options_are_checked_before_anything_is_sent(tmp_path, capsys, udp):
    lab = Lab()
    failed, result = run(lab, tmp_path, capsys, dhcp_port=70000)
    assert failed and 'dhcp_port must be a UDP port number' in result['msg']
    empty = tmp_path / 'empty'
    empty.write_text('\n')
    failed, result = run(lab, tmp_path, capsys, partner_password_file=str(empty))
    assert failed and 'partner_password_file %s is empty' % empty in result['msg']
    assert lab.log == []


@pytest.mark.parametrize('text, port, bound', [
    (UDP_67, 67, True),
    (UDP_68, 67, False),
    (UDP_67, 68, False),
    # /proc/net/udp6: a 32-digit address.
    ('  sl  local_address\n   3: 00000000000000000000000000000000:0043 00000000000000000000000000000000:0000 07\n',
     67, True),
])
def test_udp_port_bound_reads_the_kernel_table(tmp_path, text, port, bound):
    table = tmp_path / 'table'
    table.write_text(text)
    assert kea_ha_reload.udp_port_bound(port, [str(table), str(tmp_path / 'absent')]) is bound
