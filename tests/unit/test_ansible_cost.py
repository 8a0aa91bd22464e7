# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""benchmarks/ansible_cost.py: what it reads from ansible-playbook and perfdhcp, and the lab it lays out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'benchmarks'))

import ansible_cost as cost  # noqa: E402 pylint: disable=wrong-import-position


# The shape of ansible-core 2.19's default callback with ansible.posix.profile_tasks.
PLAYBOOK_OUTPUT = '''
PLAY [Site | Kea DHCPv4 servers and HA pairs] **********************************

TASK [dhcpops.kea.kea_dhcp4 : Install | Kea packages] **************************
Saturday 28 November 2026  18:22:34 +0000 (0:00:00.012)       0:00:00.012 *****
ok: [cost-p1-kea1]
changed: [cost-p1-kea2]

TASK [dhcpops.kea.kea_dhcp4 : Configure | Install kea-dhcp4.conf] **************
Saturday 28 November 2026  18:22:35 +0000 (0:00:00.840)       0:00:00.852 *****
changed: [cost-p1-kea2] => (item=kea-dhcp4.conf)
changed: [cost-p1-kea2] => (item=kea-ctrl-agent.conf)
ok: [cost-p1-kea1]

RUNNING HANDLER [dhcpops.kea.kea_dhcp4 : kea_dhcp4 reload] *********************
Saturday 28 November 2026  18:22:36 +0000 (0:00:00.966)       0:00:01.819 *****
changed: [cost-p1-kea2]

PLAY RECAP *********************************************************************
cost-p1-kea1               : ok=50   changed=0    unreachable=0    failed=0    skipped=12   rescued=0    ignored=0
cost-p1-kea2               : ok=51   changed=3    unreachable=0    failed=0    skipped=12   rescued=0    ignored=0
cost-pg                    : ok=30   changed=0    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0


TASKS RECAP ********************************************************************
Saturday 28 November 2026  18:22:36 +0000 (0:00:00.066)       0:00:01.885 *****
===============================================================================
dhcpops.kea.kea_dhcp4 : Install | Kea packages ------------------------- 123.45s
Role | a task whose name is rather long, long enough to run past the width of the summary line itself --- 2.84s
dhcpops.kea.kea_dhcp4 : Configure | Install kea-dhcp4.conf --------------- 0.97s
Gathering Facts --------------------------------------------------------- 0.07s
'''


def test_recap_per_host_and_totals():
    recap = cost.parse_recap(PLAYBOOK_OUTPUT)
    assert sorted(recap) == ['cost-p1-kea1', 'cost-p1-kea2', 'cost-pg']
    assert recap['cost-p1-kea2'] == dict(ok=51, changed=3, unreachable=0, failed=0, skipped=12, rescued=0, ignored=0)
    totals = cost.recap_totals(recap)
    assert totals['ok'] == 131 and totals['changed'] == 3 and totals['skipped'] == 28


def test_recap_takes_the_last_one_and_nothing_without():
    twice = PLAYBOOK_OUTPUT.replace('ok=50', 'ok=1') + '\nPLAY RECAP ***\nother : ok=2 changed=1\n'
    assert cost.parse_recap(twice) == {'other': {'ok': 2, 'changed': 1}}
    assert cost.parse_recap('ERROR! the playbook could not be found') == {}


def test_profile_tasks_summary():
    tasks = cost.parse_profile_tasks(PLAYBOOK_OUTPUT)
    assert tasks == [
        ('dhcpops.kea.kea_dhcp4 : Install | Kea packages', 123.45),
        ('Role | a task whose name is rather long, long enough to run past the width of the summary line itself', 2.84),
        ('dhcpops.kea.kea_dhcp4 : Configure | Install kea-dhcp4.conf', 0.97),
        ('Gathering Facts', 0.07),
    ]
    assert cost.parse_profile_tasks(PLAYBOOK_OUTPUT.split('TASKS RECAP', maxsplit=1)[0]) == []


def test_changed_tasks_once_per_task_and_host():
    assert cost.changed_tasks(PLAYBOOK_OUTPUT) == [
        ('dhcpops.kea.kea_dhcp4 : Install | Kea packages', 'cost-p1-kea2'),
        ('dhcpops.kea.kea_dhcp4 : Configure | Install kea-dhcp4.conf', 'cost-p1-kea2'),
        ('dhcpops.kea.kea_dhcp4 : kea_dhcp4 reload', 'cost-p1-kea2'),
    ]


PLAYS_OUTPUT = '''
PLAY [Site | Lease database] ***************************************************

TASK [dhcpops.kea.kea_postgresql : Preflight | Check the variables] ************
Saturday 28 November 2026  19:06:25 +0000 (0:00:00.031)       0:00:00.031 *****
ok: [cost-pg]

TASK [dhcpops.kea.kea_postgresql : Install | Install the PostgreSQL server] ****
Saturday 28 November 2026  19:06:26 +0000 (0:00:01.000)       0:00:01.031 *****
ok: [cost-pg]

PLAY [Site | Stork agents] *****************************************************
skipping: no hosts matched

PLAY [Site | Kea DHCPv4 servers and HA pairs] **********************************

TASK [dhcpops.kea.kea_dhcp4 : Preflight | Check the variables] *****************
Saturday 28 November 2026  19:07:00 +0000 (0:00:33.500)       0:00:34.531 *****
ok: [cost-p1-kea1]

TASK [dhcpops.kea.kea_dhcp4 : Install | Kea packages] **************************
Saturday 28 November 2026  19:08:00 +0000 (0:01:00.000)       0:01:34.531 *****
ok: [cost-p1-kea1]

PLAY RECAP *********************************************************************
cost-p1-kea1               : ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0

TASKS RECAP ********************************************************************
Saturday 28 November 2026  20:08:05 +0000 (0:00:05.000)       1:01:39.531 *****
===============================================================================
'''


def test_play_times():
    assert cost.parse_play_times(PLAYS_OUTPUT) == [
        ('Site | Lease database', 34.5), ('Site | Stork agents', 0.0),
        ('Site | Kea DHCPv4 servers and HA pairs', 3665.0)]
    assert cost.parse_play_times('ERROR! no playbook') == []


# The peers' reports as the yaml result format wraps them.
ROLLING_OUTPUT = '''
TASK [Peer | Report] ***********************************************************
ok: [cost-p1-kea2] =>
    msg: 'pair cost_pair1: cost-p1-kea2 (standby) reloaded in 12.3 s; cost-p1-kea1 served
        meanwhile (states: hot-standby → partner-in-maintenance → hot-standby; it kept
        serving this peer''s clients for 1.2 s after the maintenance, until this peer
        served them).'
ok: [cost-p2-kea2] =>
    msg: 'pair cost_pair2: cost-p2-kea2 (standby) reloaded in 10.0 s; cost-p2-kea1 served
        meanwhile (states: unchanged).'

TASK [Peer | Report] ***********************************************************
ok: [cost-p1-kea1] =>
    msg: 'pair cost_pair1: cost-p1-kea1 (primary) reloaded in 14.2
        s; cost-p1-kea2 served meanwhile (states: unchanged).'
ok: [cost-p2-kea1] =>
    msg: 'pair cost_pair2: cost-p2-kea1 (primary) unchanged, not reloaded in 0.4 s; cost-p2-kea2 served
        meanwhile (states: unchanged).'
'''


def test_rolling_reports_and_pair_durations():
    peers = cost.rolling_peers(ROLLING_OUTPUT)
    assert peers['cost-p1-kea2'] == dict(pair='cost_pair1', role='standby', outcome='reloaded', seconds=12.3)
    assert peers['cost-p1-kea1']['seconds'] == 14.2
    assert peers['cost-p2-kea1']['outcome'] == 'unchanged, not reloaded'
    assert cost.pair_durations(peers) == {'cost_pair1': 26.5, 'cost_pair2': 10.4}


PERFDHCP_OUTPUT = '''
Running: perfdhcp -4 -l eth0 -r 100 -R 100
***Rate statistics***
Rate: 99.9 4-way exchanges/second, expected rate: 100

***Statistics for: DISCOVER-OFFER***
sent packets: 2000
received packets: 1990
drops: 10
drops ratio: 0.5 %
avg delay: 1.234 ms

***Statistics for: REQUEST-ACK***
sent packets: 1990
received packets: 1985
drops: 5
'''


def test_perfdhcp_figures():
    stats = cost.perfdhcp_stats(PERFDHCP_OUTPUT)
    assert stats['DISCOVER-OFFER']['sent packets'] == 2000
    assert stats['DISCOVER-OFFER']['avg delay'] == 1.234
    assert stats['REQUEST-ACK']['received packets'] == 1985
    assert cost.drop_figures(stats) == dict(started=2000, completed=1985, drop_pct=0.75)
    assert cost.drop_figures({}) == dict(started=0, completed=0, drop_pct=None)


def run(seconds, changed=0):
    return dict(seconds=seconds, totals=dict(changed=changed), tasks=100)


def test_summary_takes_ratios_per_repeat():
    size = dict(pairs=2, fresh=dict(seconds=300.0, totals=dict(changed=40)),
                reruns=[run(60.0), run(90.0), run(66.0, changed=1)],
                floor_ping=[run(6.0), run(10.0), run(6.0)], floor_raw=[run(3.0), run(3.0), run(3.0)],
                rolling=[dict(rc=0, seconds=80.0, pair_seconds={'a': 30.0, 'b': 34.0}, load=dict(drop_pct=0.1)),
                         dict(rc=2, seconds=20.0, pair_seconds={}, load=dict(drop_pct=50.0))])
    summ = cost.summarize(size)
    # 60/6, 90/10, 66/6: the median ratio (10), not the ratio of the medians (66/6 = 11).
    assert summ['ratio_rerun_to_ping'] == 10.0
    assert summ['rerun_s'] == 66.0 and summ['floor_ping_s'] == 6.0 and summ['ratio_rerun_to_raw'] == 22.0
    assert summ['rerun_changed'] == 1 and summ['fresh_s'] == 300.0 and summ['fresh_changed'] == 40
    # A failed rollout does not count in the figures, and is counted apart.
    assert summ['rolling_s'] == 80.0 and summ['rolling_pair_s'] == 32.0 and summ['rolling_drop_pct'] == 0.1
    assert summ['rolling_failed'] == 1
    # No run with the fast path off in it (--no-full, --smoke): no figure for it.
    assert summ['rerun_full_s'] is None and summ['ratio_full_to_ping'] is None
    size['rerun_full'] = run(120.0)
    summ = cost.summarize(size)
    assert summ['rerun_full_s'] == 120.0 and summ['ratio_full_to_ping'] == 20.0
    size['rerun_full'] = None
    assert cost.summarize(size)['rerun_full_s'] is None


def test_overall_growth():
    sizes = [dict(pairs=1, summary=dict(ratio_rerun_to_ping=10.0, rolling_s=60.0)),
             dict(pairs=4, summary=dict(ratio_rerun_to_ping=12.0, rolling_s=90.0))]
    over = cost.overall(sizes)
    assert over['ratio_growth'] == 1.2 and not over['ratio_within_target']
    assert over['rolling_growth'] == 1.5 and over['rolling_serial_would_be'] == 240.0
    assert cost.overall([]) == {}


def test_addresses():
    assert cost.address(cost.PG) == '10.92.60.2'
    assert cost.pair_hosts(3) == ('cost-p3-kea1', 'cost-p3-kea2')
    assert cost.address('cost-p3-kea2') == '10.92.60.32'
    with pytest.raises(ValueError):
        cost.address('lab-kea1')
    with pytest.raises(ValueError):
        cost.address('cost-p9-kea1')


@pytest.mark.parametrize('pairs', [1, 2, 4, cost.MAX_PAIRS])
def test_inventory_layout(pairs):
    inv = cost.inventory(pairs, 'x.lab.example', exporter=True, wheelhouse='wheels')['all']
    groups = inv['children']
    pair_groups = groups['kea_servers']['children']
    assert sorted(pair_groups) == sorted(cost.pair_group(p) for p in range(1, pairs + 1))
    kea = [h for g in pair_groups.values() for h in g['hosts']]
    assert len(kea) == 2 * pairs
    # Every container its own address, inside the network, none in a pool.
    addresses = [cost.address(h) for h in kea + [cost.PG, cost.CLIENT]]
    assert len(set(addresses)) == len(addresses)
    network = ipaddress.ip_network(cost.SUBNET)
    assert all(ipaddress.ip_address(a) in network for a in addresses)
    subnets = []
    for name, group in pair_groups.items():
        assert group['vars']['kea_dhcp4_ha_group'] == name
        assert sorted(h['kea_dhcp4_ha_role'] for h in group['hosts'].values()) == ['primary', 'standby']
        subnets += group['vars']['kea_dhcp4_subnets']
    assert len(set(s['id'] for s in subnets)) == pairs
    for subnet in subnets:
        first, last = (ipaddress.ip_address(x.strip()) for x in subnet['pools'][0]['pool'].split('-'))
        assert ipaddress.ip_address(first) in ipaddress.ip_network(subnet['subnet'])
        assert not [a for a in addresses if first <= ipaddress.ip_address(a) <= last]
    # Only pair 1 serves the lab network (the load's broadcasts).
    assert [s['subnet'] for s in subnets if 'relay' not in s] == [cost.SUBNET]
    common = inv['vars']
    assert common['kea_postgresql_kea_peers'] == [cost.address(h) for h in sorted(kea)] + [cost.GATEWAY]
    assert common['kea_dhcp4_option_data'] == [{'name': 'domain-name', 'data': 'x.lab.example'}]
    # No secret in the inventory: templates of variables passed with -e.
    assert common['kea_dhcp4_lease_database']['password'] == '{{ kea_postgresql_db_password }}'
    assert 'kea_dhcp4_api_password' not in common
    assert groups['kea_exporters'] == {'children': {'kea_servers': {}}}


def test_inventory_without_exporter():
    inv = cost.inventory(1, 'x.lab.example', exporter=False)['all']
    assert inv['children']['kea_exporters'] == {'hosts': {}}
    assert not [k for k in inv['vars'] if k.startswith('kea_exporter')]


@pytest.mark.parametrize('connection', sorted(cost.CONNECTIONS))
def test_inventory_connection(connection):
    common = cost.inventory(1, 'x.lab.example', exporter=False, connection=connection)['all']['vars']
    plugin = cost.CONNECTIONS[connection][0]
    assert common['ansible_connection'] == plugin
    # The lab's pipelined connection is a plugin file of its own that ansible_cost.py puts on the path.
    if '.' not in plugin:
        assert os.path.isfile(os.path.join(REPO, 'benchmarks', 'connection_plugins', plugin + '.py'))


@pytest.mark.parametrize('full, smoke, name', [
    (True, False, 'ansible_cost.json'),
    # A rollout-only run keeps the full run's results.
    (False, False, 'ansible_cost_rolling.json'),
    # --smoke turns --no-full on by itself; it keeps the plain default (CI passes --out).
    (False, True, 'ansible_cost.json'),
])
def test_default_results_file(full, smoke, name):
    class Opts(object):
        pass
    opts = Opts()
    opts.full, opts.smoke = full, smoke
    assert cost.default_out(opts) == os.path.join(REPO, 'benchmarks', 'results', name)
