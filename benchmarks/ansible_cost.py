#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cost of running Ansible on the lab, and the rolling reload, for 1, 2 and 4 HA pairs.

The lab of examples/lab, grown to several pairs: podman containers this
script creates on its own network (dhcpops-cost, 10.92.60.0/24, every
container and the network labelled owner=dhcpops-cost) and removes at the
end. One PostgreSQL container holds the lease database of every pair (the
roles manage one database per database host; each pair has subnets of its
own, so their leases never meet), each pair is two Kea containers
(hot-standby, kea_exporter beside Kea when the lab's wheelhouse is there),
and one client container carries perfdhcp. Growing from 1 to 2 to 4 pairs
adds the new pairs' containers to those already deployed.

For every pair count, all with the ansible.posix.profile_tasks callback:

  fresh      dhcpops.kea.site on the inventory with the new pairs (the
             first count: every host new; later counts: the new pairs new,
             the rest already deployed)
  full       dhcpops.kea.site again with the fast path off
             (kea_fast_path=false): every task of every role runs and
             nothing may change; once per pair count, to show where the
             time of a full converge goes
  rerun      dhcpops.kea.site again, as a user runs it: nothing may change
             (changed=0 in the recap on every host), and each role is
             skipped on a host after one probe (docs/fast-path.md)
  floor      Ansible's own floor: one play on the same hosts, no facts, one
             ansible.builtin.ping per host (and the same with
             ansible.builtin.raw, which sends no module)
  rolling    dhcpops.kea.rolling_reload of a harmless change (the global
             domain-name option) on every pair, while perfdhcp keeps pair 1
             busy (broadcast on the lab network: only pair 1 has a subnet
             for it, the other pairs receive the packets and drop them)

rerun, floor and rolling repeat (--repeats, medians); the ratio rerun/floor
is taken per repeat, from runs back to back, and its median reported. Each
run records its wall time, the CPU time of ansible-playbook and its
children, the recap, the time of each play and the slowest tasks as
profile_tasks reports them.

The connection is containers.podman.podman, which has no pipelining: every
module is copied into the container and run by a separate `podman exec`.
ansible.cfg turns pipelining on for SSH, where a real site would see fewer
round trips per task than here. `--connection pipe` measures that case: the
lab-only connection in benchmarks/connection_plugins hands each module to
the container's Python on standard input, one `podman exec -i` per module.

Reproduce with:

    source scripts/lab/env.sh
    .venv/bin/python benchmarks/ansible_cost.py                # full: 1, 2, 4 pairs, 3 repeats
    .venv/bin/python benchmarks/ansible_cost.py --smoke        # CI: 1 pair, 1 repeat, no fast-path-off run
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

# The log line, perfdhcp's report and the machine's description, as the
# DHCP service benchmark has them.
from dhcp_service import Containers, exit_on_sigterm, log, machine, perfdhcp_stats  # noqa: E402  pylint: disable=wrong-import-position
from dhcp_service import Api as ServiceApi  # noqa: E402  pylint: disable=wrong-import-position

NETWORK = 'dhcpops-cost'
LABEL = 'owner=dhcpops-cost'
NET = '10.92.60'
SUBNET = NET + '.0/24'
GATEWAY = NET + '.1'
PG, CLIENT = 'cost-pg', 'cost-client'
ADDRESSES = {PG: NET + '.2', CLIENT: NET + '.9'}
MAX_PAIRS = 8
WHEELHOUSE = os.path.join(REPO, '.cache', 'lab', 'kea-exporter-wheels')

# The load during a rollout, as molecule/ha's test_rolling.py drives it: a
# fixed set of clients (their leases renew), broadcast on the lab network.
LOAD_CLIENTS = 100
LOAD_MAC = '02:c0:57:00:00:00'
# The domain-name option a rollout changes.
DOMAIN = 'cost.lab.example'
TOP_TASKS = 10

PREPARE = '''---
- name: Load client
  hosts: cost_clients
  gather_facts: false
  tasks:
    - name: Install perfdhcp (Debian's kea-admin)
      ansible.builtin.apt:
        name: kea-admin
        state: present
        update_cache: true
        cache_valid_time: 3600
        install_recommends: false
'''

# Ansible's floor: the same hosts as dhcpops.kea.site, nothing done on them.
FLOOR = '''---
- name: Floor | Connect to every host of the site and return
  hosts: "kea_databases:kea_servers:kea_exporters:stork_agents"
  gather_facts: false
  tasks:
    - name: Floor | %s
      %s
'''
FLOOR_TASKS = {
    'ping': ('One module (ping)', 'ansible.builtin.ping:'),
    'raw': ('One command, no module (raw)', 'ansible.builtin.raw: "true"\n      changed_when: false'),
}


# ---------------------------------------------------------------------------
# Names and addresses

def pair_group(pair):
    return 'cost_pair%d' % pair


def pair_hosts(pair):
    """The two Kea containers of pair N (1-based): (primary, standby)."""
    return ('cost-p%d-kea1' % pair, 'cost-p%d-kea2' % pair)


def address(name):
    """Fixed addresses: the database .2, the client .9, pair N's peers .N1 and .N2."""
    if name in ADDRESSES:
        return ADDRESSES[name]
    match = re.match(r'^cost-p(\d+)-kea([12])$', name)
    if not match or not 1 <= int(match.group(1)) <= MAX_PAIRS:
        raise ValueError('not a container of this benchmark: %s' % name)
    return '%s.%d%s' % (NET, int(match.group(1)), match.group(2))


def pair_subnet(pair):
    """Pair 1 serves the lab network itself (the load's broadcasts); the others a relayed subnet each."""
    if pair == 1:
        return {'id': 101, 'subnet': SUBNET, 'pools': [{'pool': '%s.100 - %s.250' % (NET, NET)}],
                'option-data': [{'name': 'routers', 'data': GATEWAY}]}
    net = '10.201.%d' % pair
    return {'id': 100 + pair, 'subnet': net + '.0/24', 'pools': [{'pool': '%s.50 - %s.240' % (net, net)}],
            'relay': {'ip-addresses': [net + '.1']},
            'option-data': [{'name': 'routers', 'data': net + '.1'}]}


# --connection: the Ansible connection plugin, and how the results describe it.
CONNECTIONS = {
    'podman': ('containers.podman.podman', 'containers.podman.podman (no pipelining: a module is copied, then run, '
                                           'with podman exec per task and host)'),
    'pipe': ('podman_pipe', 'podman_pipe (benchmarks/connection_plugins: pipelining, one podman exec -i per module, '
                            'as SSH with pipelining)'),
}


def inventory(pairs, domain, exporter, wheelhouse=WHEELHOUSE, connection='podman'):
    """The lab's inventory (examples/lab) with N pairs, as one dict; secrets come apart (-e @secrets.json)."""
    kea_hosts = [h for p in range(1, pairs + 1) for h in pair_hosts(p)]
    common = {
        'ansible_connection': CONNECTIONS[connection][0],
        # The containers have no sudo; root becomes postgres with su.
        'ansible_become_method': 'ansible.builtin.su',
        'kea_dhcp4_interfaces': ['eth0'],
        'kea_dhcp4_globals': {'valid-lifetime': 3600, 'renew-timer': 900, 'rebind-timer': 1800},
        'kea_dhcp4_option_data': [{'name': 'domain-name', 'data': domain}],
        'kea_dhcp4_lease_database': {'type': 'postgresql', 'host': ADDRESSES[PG], 'name': 'kea', 'user': 'kea',
                                     'password': '{{ kea_postgresql_db_password }}'},
        'kea_dhcp4_firewall_enabled': True,
        'kea_dhcp4_firewall_management_addresses': [GATEWAY],
        'kea_postgresql_listen_addresses': ['localhost', ADDRESSES[PG]],
        # Every Kea peer, and this script on the host (the network's gateway).
        'kea_postgresql_kea_peers': [address(h) for h in kea_hosts] + [GATEWAY],
        'kea_postgresql_schema_host': pair_hosts(1)[0],
        'kea_postgresql_settings_overrides': {'shared_buffers': '128MB'},
    }
    if exporter:
        common.update({
            'kea_dhcp4_api_extra_clients': [{'user': 'kea-exporter', 'password': '{{ cost_exporter_password }}'}],
            'kea_exporter_api_password': '{{ cost_exporter_password }}',
            'kea_exporter_address': '{{ kea_dhcp4_api_address }}',
            'kea_exporter_pip_wheelhouse': wheelhouse,
        })
    pair_groups = {}
    for pair in range(1, pairs + 1):
        primary, standby = pair_hosts(pair)
        pair_groups[pair_group(pair)] = {
            'hosts': {primary: {'kea_dhcp4_api_address': address(primary), 'kea_dhcp4_ha_role': 'primary'},
                      standby: {'kea_dhcp4_api_address': address(standby), 'kea_dhcp4_ha_role': 'standby'}},
            'vars': {'kea_dhcp4_ha_group': pair_group(pair), 'kea_dhcp4_ha_mode': 'hot-standby',
                     'kea_dhcp4_subnets': [pair_subnet(pair)]}}
    children = {
        'kea_databases': {'hosts': {PG: {}}},
        'kea_servers': {'children': pair_groups},
        'kea_exporters': {'children': {'kea_servers': {}}} if exporter else {'hosts': {}},
        'stork_agents': {'hosts': {}},
        'cost_clients': {'hosts': {CLIENT: {}}},
    }
    return {'all': {'vars': common, 'children': children}}


# ---------------------------------------------------------------------------
# Reading ansible-playbook's output

RECAP_LINE = re.compile(r'^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$')


def parse_recap(text):
    """{host: {'ok': N, 'changed': N, ...}} from the PLAY RECAP (the last one, if several)."""
    start = text.rfind('PLAY RECAP')
    if start < 0:
        return {}
    recap = {}
    for line in text[start:].splitlines()[1:]:
        match = RECAP_LINE.match(line.rstrip())
        if not match:
            if recap:
                break
            continue
        recap[match.group(1)] = dict((k, int(v)) for k, v in (f.split('=') for f in match.group(2).split()))
    return recap


def recap_totals(recap):
    totals = {}
    for counts in recap.values():
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


PROFILE_LINE = re.compile(r'^(?P<name>.*?) ?-* ?(?P<seconds>\d+\.\d\d)s$')


def parse_profile_tasks(text):
    """[(task name, seconds)] from profile_tasks' summary, in its order (slowest first by default)."""
    start = text.rfind('TASKS RECAP')
    if start < 0:
        return []
    lines = text[start:].splitlines()
    try:
        first = next(i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {'='}) + 1
    except StopIteration:
        return []
    tasks = []
    for line in lines[first:]:
        match = PROFILE_LINE.match(line.rstrip())
        if not match:
            break
        tasks.append((match.group('name').rstrip(' -'), float(match.group('seconds'))))
    return tasks


PLAY_HEADER = re.compile(r'^PLAY \[(?P<name>.*)\] \**\s*$')
# profile_tasks at every task start: date (time of the previous task)  elapsed since the playbook began.
PROFILE_STAMP = re.compile(r'\(\d+:\d\d:\d\d\.\d+\)\s+(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d\.\d+)\s+\**\s*$')


def parse_play_times(text):
    """[(play name, seconds)] in order, from profile_tasks' elapsed time at each task start and at the end.

    A play whose hosts are all missing (an empty group) runs no task and gets 0.
    """
    marks = []  # (play index or None for the end, elapsed seconds)
    plays, current, waiting = [], None, False
    for line in text.splitlines():
        header = PLAY_HEADER.match(line)
        if header:
            plays.append(header.group('name'))
            current, waiting = len(plays) - 1, True
            continue
        if line.startswith('TASKS RECAP'):
            current, waiting = None, True
            continue
        stamp = PROFILE_STAMP.search(line)
        if stamp and waiting:
            marks.append((current, int(stamp.group('h')) * 3600 + int(stamp.group('m')) * 60 + float(stamp.group('s'))))
            waiting = False
    seconds = [0.0] * len(plays)
    for (index, start), (dummy, end) in zip(marks, marks[1:]):
        if index is not None:
            seconds[index] = round(end - start, 1)
    return list(zip(plays, seconds))


TASK_HEADER = re.compile(r'^(?:TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**\s*$')
RESULT_LINE = re.compile(r'^(?P<status>changed|ok|skipping|failed|fatal): \[(?P<host>[^\]]+)\]')


def changed_tasks(text):
    """[(task, host)] of every result reported as changed, in order, once each."""
    task, seen, out = None, set(), []
    for line in text.splitlines():
        header = TASK_HEADER.match(line)
        if header:
            task = header.group('name')
            continue
        result = RESULT_LINE.match(line)
        if result and result.group('status') == 'changed' and (task, result.group('host')) not in seen:
            seen.add((task, result.group('host')))
            out.append((task, result.group('host')))
    return out


PEER_REPORT = re.compile(r"pair (?P<pair>\S+): (?P<host>\S+) \((?P<role>\w+)\) (?P<outcome>reloaded|unchanged, not reloaded)"
                         r" in (?P<seconds>[0-9.]+) s")


def rolling_peers(text):
    """Each peer's own report from dhcpops.kea.rolling_reload: {host: {pair, role, outcome, seconds}}."""
    flat = re.sub(r'\s+', ' ', text)
    peers = {}
    for match in PEER_REPORT.finditer(flat):
        peers[match.group('host')] = dict(pair=match.group('pair'), role=match.group('role'),
                                          outcome=match.group('outcome'), seconds=float(match.group('seconds')))
    return peers


def pair_durations(peers):
    """{pair: seconds}: a pair's peers roll one after the other, so its time is the sum of theirs."""
    out = {}
    for info in peers.values():
        out[info['pair']] = round(out.get(info['pair'], 0.0) + info['seconds'], 1)
    return out


def drop_figures(stats):
    """Exchanges started (DISCOVERs sent), completed (ACKs received) and the share not completed, in %."""
    started = stats.get('DISCOVER-OFFER', {}).get('sent packets', 0)
    completed = stats.get('REQUEST-ACK', {}).get('received packets', 0)
    return dict(started=started, completed=completed,
                drop_pct=round(100.0 * (started - completed) / started, 3) if started else None)


# ---------------------------------------------------------------------------
# Figures

def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def ratios(numerators, denominators):
    """Per repeat: the rerun and the floor that ran back to back."""
    return [round(n / float(d), 2) for n, d in zip(numerators, denominators) if n is not None and d]


def summarize(size):
    """The figures of one pair count from its runs."""
    reruns = [r['seconds'] for r in size.get('reruns', [])]
    pings = [r['seconds'] for r in size.get('floor_ping', [])]
    raws = [r['seconds'] for r in size.get('floor_raw', [])]
    rollings = [r for r in size.get('rolling', []) if r.get('rc') == 0]
    pairs = [s for r in rollings for s in (r.get('pair_seconds') or {}).values()]
    full = (size.get('rerun_full') or {}).get('seconds')
    out = dict(
        fresh_s=(size.get('fresh') or {}).get('seconds'),
        fresh_changed=(size.get('fresh') or {}).get('totals', {}).get('changed'),
        rerun_s=median(reruns), floor_ping_s=median(pings), floor_raw_s=median(raws),
        ratio_rerun_to_ping=median(ratios(reruns, pings)), ratio_rerun_to_raw=median(ratios(reruns, raws)),
        rerun_changed=max([r.get('totals', {}).get('changed', 0) for r in size.get('reruns', [])] or [None]),
        rerun_tasks=median([r.get('tasks') for r in size.get('reruns', [])]),
        rerun_full_s=(size.get('rerun_full') or {}).get('seconds'),
        rerun_full_tasks=(size.get('rerun_full') or {}).get('tasks'),
        ratio_full_to_ping=round(full / median(pings), 2) if full and median(pings) else None,
        rolling_s=median([r['seconds'] for r in rollings]),
        rolling_pair_s=median(pairs),
        rolling_drop_pct=median([(r.get('load') or {}).get('drop_pct') for r in rollings]),
        rolling_failed=len(size.get('rolling', [])) - len(rollings))
    return out


def overall(sizes):
    """Flatness of the ratio and the parallelism of the rollout across pair counts."""
    summaries = [(s['pairs'], s['summary']) for s in sizes if s.get('summary')]
    if not summaries:
        return {}
    first_pairs, first = summaries[0]
    last_pairs, last = summaries[-1]
    out = dict(ratio_target=3.0)
    if first.get('ratio_rerun_to_ping') and last.get('ratio_rerun_to_ping'):
        out['ratio_growth'] = round(last['ratio_rerun_to_ping'] / first['ratio_rerun_to_ping'], 2)
    out['ratio_within_target'] = all((s.get('ratio_rerun_to_ping') or 99) <= 3.0 for dummy, s in summaries)
    if first.get('rolling_s') and last.get('rolling_s') and last_pairs > first_pairs:
        # 1.0: N pairs take as long as one; N / first: no parallelism at all.
        out['rolling_growth'] = round(last['rolling_s'] / first['rolling_s'], 2)
        out['rolling_serial_would_be'] = round(first['rolling_s'] * last_pairs / first_pairs, 1)
    return out


# ---------------------------------------------------------------------------
# Containers

class Lab(Containers):
    """The containers of the benchmark, their network, and commands inside them."""

    def ours(self):
        """Every container that carries this benchmark's label."""
        out = self.podman('ps', '-a', '--filter', 'label=' + LABEL, '--format', '{{.Names}}', check=False).stdout
        return [n for n in out.split() if n]

    def remove_all(self):
        for name in self.ours():
            self.podman('rm', '-f', '-t', '2', name, check=False)
        if self.podman('network', 'exists', NETWORK, check=False).returncode == 0:
            labels = self.podman('network', 'inspect', '-f', '{{.Labels}}', NETWORK, check=False).stdout
            if 'dhcpops-cost' in labels:
                self.podman('network', 'rm', '-f', NETWORK, check=False)
            else:
                raise RuntimeError('a network %s exists without the label %s: not ours, not touched'
                                   % (NETWORK, LABEL))

    def ensure_network(self):
        if self.podman('network', 'exists', NETWORK, check=False).returncode:
            self.podman('network', 'create', '--subnet', SUBNET, '--gateway', GATEWAY, '--label', LABEL, NETWORK)

    def ensure(self, names, reuse):
        """Start the containers not there yet (boots in parallel); returns the names made now."""
        self.ensure_network()
        existing = set(self.ours())
        made = []
        for name in names:
            if name in existing and (reuse or name in self.names):
                if name not in self.names:
                    self.names.append(name)
                continue
            if name in existing:
                self.podman('rm', '-f', '-t', '2', name, check=False)
            caps = [] if name == PG else ['--cap-add', 'NET_RAW', '--cap-add', 'NET_ADMIN']
            self.podman('run', '-d', '--name', name, '--hostname', name, '--label', LABEL,
                        '--network', '%s:ip=%s' % (NETWORK, address(name)), '--systemd=always',
                        *(caps + self.boot_flags + [self.image, self.init]))
            self.names.append(name)
            made.append(name)
        for name in made:
            state = self.podman('exec', name, 'timeout', '120', 'systemctl', 'is-system-running', '--wait',
                                check=False).stdout.strip()
            if state not in ('running', 'degraded'):
                raise RuntimeError('%s did not boot: systemd says %r' % (name, state))
        return made

    def cleanup(self):
        if self.keep:
            log('--keep: containers %s and network %s stay' % (', '.join(self.names), NETWORK))
            return
        self.remove_all()


# ---------------------------------------------------------------------------
# Running ansible-playbook

class Runner:
    def __init__(self, lab, work, logs):
        self.lab, self.work, self.logs = lab, work, logs
        playbook = os.path.join(REPO, '.venv', 'bin', 'ansible-playbook')
        if not os.path.exists(playbook):
            playbook = shutil.which('ansible-playbook') or 'ansible-playbook'
        self.playbook = playbook
        self.env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
                        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
                        ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
                        ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks',
                        PROFILE_TASKS_TASK_OUTPUT_LIMIT='all', PROFILE_TASKS_SORT_ORDER='descending',
                        ANSIBLE_CONNECTION_PLUGINS=os.path.join(HERE, 'connection_plugins'))
        self.count = 0

    def run(self, label, playbook, inventory_path, extra=(), timeout=3600):
        """One ansible-playbook: wall and CPU seconds, recap, slowest tasks."""
        self.count += 1
        argv = [self.playbook, '-i', inventory_path, '-e', '@' + os.path.join(self.work, 'secrets.json')]
        argv += list(extra) + [playbook]
        logfile = os.path.join(self.work, '%02d-%s.log' % (self.count, re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')))
        load_before = os.getloadavg()[0]
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        with open(logfile, 'w') as out:
            proc = subprocess.run(argv, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
        seconds = time.time() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(logfile) as handle:
            text = self.lab.scrub(handle.read())
        if self.logs:
            os.makedirs(self.logs, exist_ok=True)
            with open(os.path.join(self.logs, os.path.basename(logfile)), 'w') as handle:
                handle.write(text)
        recap = parse_recap(text)
        tasks = parse_profile_tasks(text)
        result = dict(seconds=round(seconds, 1), rc=proc.returncode,
                      cpu_s=round(usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime, 1),
                      load1_before=round(load_before, 2), recap=recap, totals=recap_totals(recap),
                      tasks=len(tasks), task_seconds=round(sum(t[1] for t in tasks), 1),
                      slowest=[[name, sec] for name, sec in tasks[:TOP_TASKS]])
        result['plays'] = [[name, sec] for name, sec in parse_play_times(text)]
        changed = changed_tasks(text)
        if changed:
            result['changed_tasks'] = [[task, host] for task, host in changed[:40]]
        return result, text


def print_slowest(label, run):
    log('%s: %.1f s wall, %.1f s CPU, %d tasks (%.1f s summed), recap %s' % (
        label, run['seconds'], run['cpu_s'], run['tasks'], run['task_seconds'],
        ' '.join('%s=%d' % (k, run['totals'].get(k, 0)) for k in ('ok', 'changed', 'skipped', 'failed'))))
    for name, seconds in run['slowest']:
        print('      %7.2f s  %s' % (seconds, name), flush=True)


# ---------------------------------------------------------------------------
# Kea's API from the host, and the load

class Api(ServiceApi):
    """dhcp_service's API client on this benchmark's addresses, and a wait for the pairs."""

    def __init__(self, password):
        super().__init__(password, address=address)

    def wait_normal(self, hosts, timeout=120):
        start = time.time()
        states = {}
        while time.time() - start < timeout:
            states = dict((h, self.ha_state(h)) for h in hosts)
            if all(s == 'hot-standby' for s in states.values()):
                return round(time.time() - start, 1), states
            time.sleep(1)
        return None, states


class Load:
    """perfdhcp broadcasting on the lab network at a steady rate until stopped (SIGINT: it prints its report)."""

    def __init__(self, lab, rate):
        self.lab, self.rate = lab, rate
        self.proc = None
        self.out = ''

    def __enter__(self):
        if self.rate:
            argv = ['podman', 'exec', CLIENT, 'perfdhcp', '-4', '-l', 'eth0', '-r', str(self.rate), '-p', '7200',
                    '-R', str(LOAD_CLIENTS), '-b', 'mac=%s' % LOAD_MAC, '-W', '1000000']
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         universal_newlines=True)
            time.sleep(3)
        return self

    def __exit__(self, *exc):
        if self.proc is None:
            return
        self.lab.sh(CLIENT, 'pkill -INT -x perfdhcp', check=False)
        try:
            self.out = self.proc.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out = self.proc.communicate()[0]

    def figures(self):
        if self.proc is None:
            return None
        out = drop_figures(perfdhcp_stats(self.out))
        out['rate'] = self.rate
        if not out['started']:
            out['perfdhcp_output'] = self.out[-1500:]
        return out


# ---------------------------------------------------------------------------

def write_json(path, data):
    with open(path, 'w') as handle:
        json.dump(data, handle, indent=1)


class Bench:
    def __init__(self, lab, runner, api, opts, work):
        self.lab, self.runner, self.api, self.opts, self.work = lab, runner, api, opts, work
        self.exporter = opts.exporter
        self.domain = DOMAIN
        self.rollouts = 0
        self.problems = []
        self.current = None

    def write_inventory(self, pairs):
        path = os.path.join(self.work, 'inventory-%d.json' % pairs)
        write_json(path, inventory(pairs, self.domain, self.exporter, connection=self.opts.connection))
        return path

    def prepare_client(self, inv):
        if self.lab.sh(CLIENT, 'command -v perfdhcp || true').strip():
            return
        path = os.path.join(self.work, 'prepare.yml')
        with open(path, 'w') as handle:
            handle.write(PREPARE)
        log('client: installing perfdhcp (not timed)')
        run, text = self.runner.run('prepare', path, inv, timeout=1200)
        if run['rc']:
            raise RuntimeError('preparing the client failed:\n%s' % text[-4000:])

    def site(self, label, inv, extra=()):
        run, text = self.runner.run(label, 'dhcpops.kea.site', inv, extra=extra)
        if run['rc']:
            raise RuntimeError('dhcpops.kea.site (%s) failed:\n%s' % (label, text[-6000:]))
        print_slowest(label, run)
        return run

    def floor(self, kind, inv):
        path = os.path.join(self.work, 'floor-%s.yml' % kind)
        if not os.path.exists(path):
            with open(path, 'w') as handle:
                handle.write(FLOOR % FLOOR_TASKS[kind])
        run, text = self.runner.run('floor-' + kind, path, inv, timeout=600)
        if run['rc']:
            raise RuntimeError('the %s floor failed:\n%s' % (kind, text[-4000:]))
        print_slowest('floor (%s)' % kind, run)
        return run

    def rolling(self, pairs):
        self.rollouts += 1
        self.domain = 'r%d.%s' % (self.rollouts, DOMAIN)
        # The change is the inventory's: site.yml afterwards finds nothing to do.
        inv = self.write_inventory(pairs)
        waited, states = self.api.wait_normal([h for p in range(1, pairs + 1) for h in pair_hosts(p)])
        if waited is None:
            self.problems.append('%d pairs: not every pair in hot-standby before the rollout: %s' % (pairs, states))
        with Load(self.lab, self.opts.load_rate) as load:
            run, text = self.runner.run('rolling', 'dhcpops.kea.rolling_reload', inv, timeout=3600)
        run['domain_name'] = self.domain
        run['load'] = load.figures()
        run['peers'] = rolling_peers(text)
        run['pair_seconds'] = pair_durations(run['peers'])
        print_slowest('rolling reload', run)
        if run['rc']:
            self.problems.append('%d pairs: rolling reload failed (rc %d)' % (pairs, run['rc']))
            run['output_tail'] = text[-4000:]
            log('rolling reload FAILED:\n%s' % text[-3000:])
        else:
            reloaded = [h for h, p in run['peers'].items() if p['outcome'] == 'reloaded']
            if len(reloaded) != 2 * pairs:
                self.problems.append('%d pairs: %d of %d peers reloaded' % (pairs, len(reloaded), 2 * pairs))
        load_text = ''
        if run['load']:
            load_text = '; load on pair 1 at %d/s: %d started, %d completed, %s %% not completed' % (
                run['load']['rate'], run['load']['started'], run['load']['completed'], run['load']['drop_pct'])
        log('rolling reload: %.1f s; per pair %s%s' % (run['seconds'], run['pair_seconds'], load_text))
        return run

    def size(self, pairs, first):
        """Every run at one pair count."""
        # The client only carries the load of the rollouts.
        load = bool(self.opts.rolling and self.opts.load_rate)
        names = ([PG] + ([CLIENT] if load else []) if first else []) + [h for p in range(1, pairs + 1) for h in pair_hosts(p)]
        made = self.lab.ensure(names, self.opts.reuse)
        new_pairs = len([p for p in range(1, pairs + 1) if pair_hosts(p)[0] in made])
        log('%d pairs: %s' % (pairs, 'containers made: %s' % ', '.join(made) if made else 'no new container'))
        inv = self.write_inventory(pairs)
        if first and load:
            self.prepare_client(inv)
        size = dict(pairs=pairs, kea_hosts=2 * pairs, new_pairs=new_pairs, fresh_is_fresh=bool(made))
        # Kept by main() if a run fails half-way.
        self.current = size
        size.update(reruns=[], floor_ping=[], floor_raw=[], rolling=[])
        size['fresh'] = self.site('%d pairs: fresh site.yml' % pairs if made else '%d pairs: first site.yml' % pairs,
                                  inv)
        # Once per pair count: every task of every role, as without the fast
        # path (where its time goes; it also records the stamps anew).
        size['rerun_full'] = None
        if self.opts.full:
            size['rerun_full'] = self.site('%d pairs: no-change site.yml, fast path off' % pairs, inv,
                                           extra=('-e', 'kea_fast_path=false'))
        if size['rerun_full'] and size['rerun_full']['totals'].get('changed'):
            self.problems.append('%d pairs, rerun with the fast path off: changed=%d (%s)' % (
                pairs, size['rerun_full']['totals']['changed'],
                '; '.join('%s on %s' % tuple(c) for c in size['rerun_full'].get('changed_tasks', [])[:10])))
        for rnd in range(self.opts.repeats):
            order = ['rerun', 'ping', 'raw'] if rnd % 2 == 0 else ['raw', 'ping', 'rerun']
            for what in order:
                if what == 'rerun':
                    run = self.site('%d pairs: no-change site.yml (%d)' % (pairs, rnd + 1), inv)
                    if run['totals'].get('changed'):
                        self.problems.append('%d pairs, rerun %d: changed=%d (%s)' % (
                            pairs, rnd + 1, run['totals']['changed'],
                            '; '.join('%s on %s' % tuple(c) for c in run.get('changed_tasks', [])[:10])))
                    size['reruns'].append(run)
                else:
                    size['floor_' + what].append(self.floor(what, inv))
        for rnd in range(self.opts.repeats if self.opts.rolling else 0):
            log('%d pairs: rolling reload %d of %d' % (pairs, rnd + 1, self.opts.repeats))
            size['rolling'].append(self.rolling(pairs))
        size['summary'] = summarize(size)
        summ = size['summary']
        log('%d pairs: fresh %s s, rerun %s s, floor ping %s s / raw %s s, rerun/ping %s, rolling %s s '
            '(per pair %s s, drops %s %%)' % (
                pairs, summ['fresh_s'], summ['rerun_s'], summ['floor_ping_s'], summ['floor_raw_s'],
                summ['ratio_rerun_to_ping'], summ['rolling_s'], summ['rolling_pair_s'], summ['rolling_drop_pct']))
        return size


def print_table(result):
    sizes = result['sizes']
    if not sizes:
        print('\nno pair count finished')
        return
    print('\nThe cost of running Ansible (connection %s), '
          '%d cores (%s), load %s -> %s, median of %d' % (
              result['connection'].split(' (')[0], result['machine']['nproc'], result['machine']['cpu_model'], result['machine']['loadavg_start'],
              result['machine'].get('loadavg_end'), result['repeats']))
    row = '%5s %5s %9s %9s %7s %9s %8s %10s %8s %9s %9s %9s %10s %8s'
    print(row % ('pairs', 'kea', 'fresh s', 'rerun s', 'changed', 'ping s', 'raw s', 'rerun/ping', 'rerun/raw',
                 'full s', 'full/ping', 'rolling s', 'per pair s', 'drops %'))
    for size in sizes:
        summ = size['summary']
        print(row % (size['pairs'], size['kea_hosts'], summ['fresh_s'], summ['rerun_s'], summ['rerun_changed'],
                     summ['floor_ping_s'], summ['floor_raw_s'], summ['ratio_rerun_to_ping'], summ['ratio_rerun_to_raw'],
                     summ.get('rerun_full_s'), summ.get('ratio_full_to_ping'),
                     summ['rolling_s'], summ['rolling_pair_s'], summ['rolling_drop_pct']))
    over = result.get('overall') or {}
    if over and len(sizes) > 1:
        print('rerun/floor target <= %s: %s; ratio growth from %d to %d pairs: %s; rolling growth: %s '
              '(no parallelism would be %s s)' % (
                  over.get('ratio_target'), 'met' if over.get('ratio_within_target') else 'NOT met',
                  sizes[0]['pairs'], sizes[-1]['pairs'], over.get('ratio_growth'), over.get('rolling_growth'),
                  over.get('rolling_serial_would_be')))
    elif over:
        print('rerun/floor target <= %s: %s' % (over.get('ratio_target'),
                                                'met' if over.get('ratio_within_target') else 'NOT met'))


def default_out(opts):
    """Where results go without --out: a rollout-only run (--no-full) must not replace the full run's."""
    name = 'ansible_cost_rolling.json' if not (opts.full or opts.smoke) else 'ansible_cost.json'
    return os.path.abspath(os.path.join(HERE, 'results', name))


def main():
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--pairs', default='1,2,4', help='comma-separated pair counts, ascending (at most %d)' % MAX_PAIRS)
    parser.add_argument('--repeats', type=int, default=3, help='reruns, floors and rollouts per pair count')
    parser.add_argument('--load-rate', type=int, default=100,
                        help='perfdhcp exchanges/s on pair 1 during every rollout; 0: no load')
    parser.add_argument('--no-rolling', dest='rolling', action='store_false', help='skip the rolling reloads')
    parser.add_argument('--no-exporter', dest='exporter', action='store_false',
                        help='no kea_exporters (default: every Kea server, as in the lab, when the wheelhouse exists)')
    parser.add_argument('--no-full', dest='full', action='store_false',
                        help='skip the no-change run with the fast path off (every task of every role)')
    parser.add_argument('--smoke', action='store_true', help='1 pair, 1 repeat, no run with the fast path off')
    parser.add_argument('--connection', choices=sorted(CONNECTIONS), default='podman',
                        help='podman: containers.podman.podman (default); pipe: the same containers with pipelining '
                             '(benchmarks/connection_plugins), as SSH with pipelining')
    parser.add_argument('--keep', action='store_true', help='keep the containers and the network')
    parser.add_argument('--reuse', action='store_true', help='use the containers an earlier --keep left')
    parser.add_argument('--logs', help='copy every ansible-playbook output (secrets masked) into this folder')
    parser.add_argument('--image', default=os.environ.get('DHCPOPS_IMAGE_BOOKWORM',
                                                          'localhost/dhcpops-kea-base:bookworm'))
    parser.add_argument('--out', default=None,
                        help='results file (default: benchmarks/results/ansible_cost.json, or '
                             'ansible_cost_rolling.json with --no-full, so that a rollout-only run keeps the '
                             'full run\'s results)')
    opts = parser.parse_args()
    if opts.smoke:
        # The run with the fast path off is the same playbook with one more
        # extra var; molecule's idempotence steps prove that path in CI.
        opts.pairs, opts.repeats, opts.full = '1', 1, False
    opts.out = os.path.abspath(opts.out or default_out(opts))
    counts = [int(p) for p in opts.pairs.split(',')]
    if counts != sorted(set(counts)) or counts[0] < 1 or counts[-1] > MAX_PAIRS:
        raise SystemExit('--pairs: distinct counts, ascending, from 1 to %d' % MAX_PAIRS)
    if opts.exporter and not os.path.isdir(WHEELHOUSE):
        log('no kea-exporter wheelhouse in .cache/lab (made by `make lab`): no kea_exporters')
        opts.exporter = False

    secrets_ = dict(kea_postgresql_db_password=secrets.token_urlsafe(18),
                    kea_dhcp4_api_password=secrets.token_urlsafe(18),
                    cost_exporter_password=secrets.token_urlsafe(18))
    init = os.environ.get('DHCPOPS_INIT_BOOKWORM', '/sbin/init')
    boot_flags = os.environ.get('DHCPOPS_BOOT_FLAGS_BOOKWORM', '').split()
    work = tempfile.mkdtemp(prefix='dhcpops-cost-')
    lab = Lab(opts.image, init, boot_flags, secrets_, opts.keep)
    started = time.time()
    result = dict(machine=machine(), started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  connection=CONNECTIONS[opts.connection][1],
                  pairs=counts, repeats=opts.repeats, load_rate=opts.load_rate if opts.rolling else None,
                  load_clients=LOAD_CLIENTS, exporter=opts.exporter, rolling=opts.rolling, sizes=[])
    exit_code = 0
    try:
        if not opts.reuse:
            lab.remove_all()
        fd = os.open(os.path.join(work, 'secrets.json'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(secrets_, handle)
        runner = Runner(lab, work, opts.logs)
        bench = Bench(lab, runner, Api(secrets_['kea_dhcp4_api_password']), opts, work)
        for index, pairs in enumerate(counts):
            try:
                result['sizes'].append(bench.size(pairs, index == 0))
            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                # What ran so far is kept; the larger pair counts are not tried.
                if bench.current is not None and bench.current.get('pairs') == pairs and bench.current.get('fresh'):
                    bench.current['summary'] = summarize(bench.current)
                    bench.current['incomplete'] = True
                    result['sizes'].append(bench.current)
                bench.problems.append('%d pairs: stopped: %s' % (pairs, lab.scrub(str(exc))[-3000:]))
                log('%d pairs: stopped: %s' % (pairs, lab.scrub(str(exc))[-3000:]))
                break
            if index == 0:
                result['versions'] = dict(
                    ansible_core=subprocess.run([runner.playbook, '--version'], capture_output=True, text=True,
                                                check=False).stdout.split('\n', 1)[0],
                    kea=lab.sh(pair_hosts(1)[0], 'kea-dhcp4 -v').strip(),
                    postgresql=lab.sh(PG, "su postgres -c 'psql -AtXc \"SHOW server_version\"'").strip(),
                    podman=lab.podman('--version').stdout.strip())
        result['overall'] = overall(result['sizes'])
        result['problems'] = bench.problems
        result['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
        result['wall_seconds'] = round(time.time() - started)
        argv = ['.venv/bin/python', 'benchmarks/ansible_cost.py']
        if opts.smoke:
            argv.append('--smoke')
        else:
            argv += ['--pairs', ','.join(str(c) for c in counts), '--repeats', str(opts.repeats)]
        if opts.load_rate != 100:
            argv += ['--load-rate', str(opts.load_rate)]
        if not opts.rolling:
            argv.append('--no-rolling')
        if not opts.full and not opts.smoke:
            argv.append('--no-full')
        if not opts.exporter:
            argv.append('--no-exporter')
        if opts.connection != 'podman':
            argv += ['--connection', opts.connection]
        if opts.out != default_out(opts):
            argv += ['--out', os.path.relpath(opts.out, REPO)]
        result['command'] = 'source scripts/lab/env.sh && ' + ' '.join(argv)
        print_table(result)
        os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
        write_json(opts.out, result)
        print('wall time %d s\nresults: %s\nreproduce: %s' % (
            result['wall_seconds'], os.path.relpath(opts.out, REPO), result['command']))
        if bench.problems:
            print('PROBLEMS:\n  ' + '\n  '.join(bench.problems))
            exit_code = 1
    finally:
        lab.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return exit_code


if __name__ == '__main__':
    sys.exit(main())
