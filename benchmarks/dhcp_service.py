#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the DHCP service as the collection deploys it, side by side in one run.

Configurations, each deployed with ansible-playbook through the collection's
roles (dhcpops.kea.kea_postgresql, dhcpops.kea.kea_dhcp4) into podman
containers this script creates on its own network (dhcpops-bench,
10.91.50.0/24) and removes at the end:

  memfile     one Kea 2.2 (Debian 12), lease database memfile, the role's defaults
  pg-untuned  one Kea on PostgreSQL 15 with Kea's and PostgreSQL's own defaults:
              kea_postgresql_settings: {} and kea_dhcp4_multi_threading: {}
  pg-tuned    one Kea on PostgreSQL with both roles' defaults (the collection's tuning)
  ha          the hot-standby pair on the shared database, roles' defaults, load
              through the primary

Load is perfdhcp (Debian's kea-admin) in a client container, at the same
priority as the server's processes (--perfdhcp-nice to lower it; it made no
difference here, docs/benchmarks.md), relayed (unicast to the server, the
client's address as giaddr), at fixed rates searched
upward, many distinct clients; lease4 is emptied and Kea restarted before
every run. A rate passes when fewer than 1 % of the 4-way exchanges started
(DISCOVERs sent) did not end with an ACK. The figure per configuration is
the median over the repeats of the highest passing rate. CPU per process
(kea-dhcp4, postgres, perfdhcp, journald, ...) comes from /proc on the host
during each run. A soak then runs the HA pair at a steady rate, polls both
peers' HA state every second, and looks for duplicate addresses.

Reproduce with:

    source scripts/lab/env.sh
    .venv/bin/python benchmarks/dhcp_service.py             # full: 4 configs, 3 repeats, 600 s soak
    .venv/bin/python benchmarks/dhcp_service.py --smoke     # CI: memfile + pg-tuned, one rate, no soak
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import datetime
import ipaddress
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# perfdhcp's report is read by one parser, shared with the molecule tests.
sys.path.insert(0, os.path.join(REPO, 'scripts', 'lab'))
from perfdhcp import perfdhcp_stats  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

NETWORK = 'dhcpops-bench'
SUBNET = '10.91.50.0/24'
GATEWAY = '10.91.50.1'
PG, KEA1, KEA2, CLIENT = 'bench-pg', 'bench-kea1', 'bench-kea2', 'bench-client'
ADDRESSES = {PG: '10.91.50.2', KEA1: '10.91.50.3', KEA2: '10.91.50.4', CLIENT: '10.91.50.10'}
# The leases come from a subnet that exists on no interface: Kea selects it
# by the relay address perfdhcp puts in giaddr (its own address). A /14
# holds every client of the longest run (soak: 100/s x 600 s).
LEASE_SUBNET = '10.200.0.0/14'
LEASE_POOL = '10.200.0.1 - 10.203.255.254'
# perfdhcp derives each exchange's MAC from its transaction counter within
# this range (seen: MAC base + xid): every exchange of a run is a new client.
CLIENT_RANGE = 1 << 24
MAC_BASE = '02:b0:00:00:00:00'
API_PORT = 8000
API_USER = 'kea-api'
KEA_UNIT = 'kea-dhcp4-server'

DROP_LIMIT = 0.01
# A run only counts at rate R when perfdhcp really started R exchanges/s.
OFFERED_MIN = 0.97

CONFIG_ORDER = ['memfile', 'pg-untuned', 'pg-tuned', 'ha']
CONFIGS = {
    'memfile': dict(
        pg=False, ha=False,
        what="memfile lease file (role default: persist, lfc 3600 s); Kea multi-threading as the role "
             "sets it (enable-multi-threading: true, Kea's thread and queue defaults)",
        vars={}),
    'pg-untuned': dict(
        pg=True, ha=False,
        what="PostgreSQL with Debian's postgresql.conf (kea_postgresql_settings: {}: the drop-in holds only "
             "listen_addresses, port, password_encryption); Kea single-threaded as 2.2 is by default "
             "(kea_dhcp4_multi_threading: {})",
        vars={'kea_postgresql_settings': {}, 'kea_dhcp4_multi_threading': {}}),
    'pg-tuned': dict(
        pg=True, ha=False,
        what="both roles' defaults: kea_postgresql_settings (roles/kea_postgresql/defaults), Kea "
             "multi-threading on",
        vars={}),
    'ha': dict(
        pg=True, ha=True,
        what="hot-standby pair on the shared database, both roles' defaults, load through the primary",
        vars={}),
}

PLAYBOOK = '''---
- name: Load client
  hosts: bench_clients
  gather_facts: false
  tasks:
    - name: Install perfdhcp (Debian's kea-admin)
      ansible.builtin.apt:
        name: kea-admin
        state: present
        update_cache: true
        cache_valid_time: 3600
        install_recommends: false

- name: Lease database
  hosts: kea_databases
  gather_facts: false
  roles:
    - role: dhcpops.kea.kea_postgresql

- name: Kea
  hosts: kea_servers
  gather_facts: false
  roles:
    - role: dhcpops.kea.kea_dhcp4
'''


def exit_on_sigterm():
    """A TERM (a CI job stopping the run) ends the script as Ctrl-C does: the
    finally blocks remove the containers and the temporary files."""
    def _exit(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _exit)


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


class Containers:
    """podman and commands inside containers, with every secret scrubbed from errors.

    The base of this benchmark's Lab and of ansible_cost.py's.
    """

    def __init__(self, image, init, boot_flags, secrets_, keep):
        self.image, self.init, self.boot_flags = image, init, boot_flags
        self.secrets = secrets_
        self.keep = keep
        self.names = []

    def scrub(self, text):
        for value in self.secrets.values():
            text = text.replace(value, '********')
        return text

    def podman(self, *args, check=True, timeout=None):
        proc = subprocess.run(['podman'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout, check=False)
        if check and proc.returncode:
            raise RuntimeError('podman %s failed: %s' % (' '.join(args[:3]), self.scrub(proc.stderr.strip())))
        return proc

    def sh(self, name, cmd, check=True, timeout=120):
        proc = self.podman('exec', name, 'sh', '-c', cmd, check=False, timeout=timeout)
        if check and proc.returncode:
            detail = self.scrub((proc.stderr or proc.stdout).strip()[-2000:])
            raise RuntimeError('%s: `%s` exited %d: %s' % (name, cmd, proc.returncode, detail))
        return proc.stdout


class Lab(Containers):
    """The bench containers, their network, and commands inside them."""

    def __init__(self, image, init, boot_flags, secrets_, keep):
        super().__init__(image, init, boot_flags, secrets_, keep)
        self.ids = {}

    def remove(self, names):
        for name in names:
            self.podman('rm', '-f', '-t', '2', name, check=False)
        self.podman('network', 'rm', '-f', NETWORK, check=False)

    def create(self, names):
        self.remove([PG, KEA1, KEA2, CLIENT])
        self.podman('network', 'create', '--subnet', SUBNET, '--gateway', GATEWAY,
                    '--label', 'owner=dhcpops-bench', NETWORK)
        for name in names:
            caps = ['--cap-add', 'NET_RAW', '--cap-add', 'NET_ADMIN'] if name != PG else []
            self.podman('run', '-d', '--name', name, '--hostname', name, '--label', 'owner=dhcpops-bench',
                        '--network', '%s:ip=%s' % (NETWORK, ADDRESSES[name]), '--systemd=always',
                        *(caps + self.boot_flags + [self.image, self.init]))
            self.names.append(name)
        for name in names:
            # An init that hands over to systemd (forky's image) answers
            # nothing for a moment: ask again until systemd itself answers.
            deadline = time.time() + 120
            state = ''
            while not state and time.time() < deadline:
                state = self.podman('exec', name, 'timeout', '120', 'systemctl', 'is-system-running', '--wait',
                                    check=False).stdout.strip()
                if not state:
                    time.sleep(1)
            if state not in ('running', 'degraded'):
                raise RuntimeError('%s did not boot: systemd says %r' % (name, state))
        self.inspect()

    def adopt(self, names):
        """--reuse: take over containers left by an earlier --keep run."""
        for name in names:
            if self.podman('container', 'exists', name, check=False).returncode:
                return False
        self.names = list(names)
        self.inspect()
        return True

    def inspect(self):
        for name in self.names:
            self.ids[name] = self.podman('inspect', '-f', '{{.Id}}', name).stdout.strip()

    def cleanup(self):
        if self.keep:
            log('--keep: containers %s and network %s stay' % (', '.join(self.names), NETWORK))
            return
        self.remove(self.names)


# ---------------------------------------------------------------------------
# Deployment through the collection's roles

def inventory(config, ha_pair):
    """The inventory of one configuration: its variables as group vars, secrets apart."""
    spec = CONFIGS[config]
    kea_hosts = [KEA1, KEA2] if spec['ha'] else [KEA1]
    common = {
        'ansible_connection': 'containers.podman.podman',
        'ansible_python_interpreter': '/usr/bin/python3',
        'kea_dhcp4_interfaces': ['eth0'],
        'kea_dhcp4_globals': {'valid-lifetime': 3600, 'renew-timer': 900, 'rebind-timer': 1800},
        'kea_dhcp4_subnets': [{
            'id': 1, 'subnet': LEASE_SUBNET, 'pools': [{'pool': LEASE_POOL}],
            'relay': {'ip-addresses': [ADDRESSES[CLIENT]]},
            'option-data': [{'name': 'routers', 'data': str(ipaddress.ip_network(LEASE_SUBNET)[1])}]}],
        'kea_postgresql_listen_addresses': ['localhost', ADDRESSES[PG]],
        # The Kea peers, and this script on the host (the network's gateway
        # address) to empty lease4 and read the server's settings.
        'kea_postgresql_kea_peers': [ADDRESSES[KEA1], ADDRESSES[KEA2], GATEWAY],
        'kea_postgresql_schema_host': KEA1,
    }
    if spec['pg']:
        common['kea_dhcp4_lease_database'] = {
            'type': 'postgresql', 'host': ADDRESSES[PG], 'name': 'kea', 'user': 'kea',
            'password': '{{ kea_postgresql_db_password }}'}
    if spec['ha']:
        common['kea_dhcp4_ha_group'] = 'kea_ha_pair'
        common['kea_dhcp4_ha_mode'] = 'hot-standby'
    common.update(spec['vars'])
    kea_vars = dict((h, {'kea_dhcp4_api_address': ADDRESSES[h]}) for h in kea_hosts)
    if spec['ha']:
        kea_vars[KEA1]['kea_dhcp4_ha_role'] = 'primary'
        kea_vars[KEA2]['kea_dhcp4_ha_role'] = 'standby'
    children = {
        'bench_clients': {'hosts': {CLIENT: {}}},
        'kea_servers': {'hosts': kea_vars},
        'kea_databases': {'hosts': {PG: {'ansible_become_method': 'ansible.builtin.su'}} if spec['pg'] else {}},
    }
    if spec['ha']:
        children['kea_ha_pair'] = {'hosts': dict((h, {}) for h in ha_pair)}
    return {'all': {'vars': common, 'children': children}}


# A configuration deployed before needs only its configure and run phases
# again (the roles' own tags): no package work, the same files and services.
RECONFIGURE_TAGS = 'kea_postgresql_configure,kea_postgresql_schema,kea_dhcp4_configure,kea_dhcp4_run'


def same_deployment(one, other):
    """Whether two configurations deploy the same servers with the same variables."""
    first, second = CONFIGS[one], CONFIGS[other]
    return all(first[key] == second[key] for key in ('pg', 'ha', 'vars'))


def deploy(lab, config, work, tags=None):
    spec = CONFIGS[config]
    inv_path = os.path.join(work, 'inventory-%s.json' % config)
    with open(inv_path, 'w') as handle:
        json.dump(inventory(config, [KEA1, KEA2]), handle, indent=1)
    with open(os.path.join(work, 'site.yml'), 'w') as handle:
        handle.write(PLAYBOOK)
    playbook = os.path.join(REPO, '.venv', 'bin', 'ansible-playbook')
    if not os.path.exists(playbook):
        playbook = shutil.which('ansible-playbook') or 'ansible-playbook'
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
    argv = [playbook, '-i', inv_path, '-e', '@' + os.path.join(work, 'secrets.json'),
            os.path.join(work, 'site.yml')] + (['--tags', tags] if tags else [])
    log('%s: deploying with ansible-playbook (kea: %s%s%s)' % (
        config, 'pair' if spec['ha'] else 'one server', ', postgresql' if spec['pg'] else '',
        ', tags ' + tags if tags else ''))
    start = time.time()
    logfile = os.path.join(work, 'ansible-%s.log' % config)
    with open(logfile, 'w') as out:
        proc = subprocess.run(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    with open(logfile) as handle:
        text = handle.read()
    if proc.returncode:
        raise RuntimeError('ansible-playbook failed for %s:\n%s' % (config, lab.scrub(text[-6000:])))
    recap = re.findall(r'^(bench-\S+)\s*: (ok=.*)$', text, re.M)
    recap_text = '; '.join('%s %s' % (h, ' '.join(r.split()[:2])) for h, r in recap)
    log('%s: deployed in %.0f s (%s)' % (config, time.time() - start, recap_text))
    return round(time.time() - start, 1)


# ---------------------------------------------------------------------------
# Kea API, PostgreSQL

class Api:
    def __init__(self, password, address=ADDRESSES.__getitem__):
        token = base64.b64encode(('%s:%s' % (API_USER, password)).encode()).decode()
        self.header = 'Basic ' + token
        self.address = address  # container name -> its address

    def call(self, host, command, timeout=2.0):
        body = json.dumps({'command': command, 'service': ['dhcp4']}).encode()
        req = urllib.request.Request('http://%s:%d/' % (self.address(host), API_PORT), data=body,
                                     headers={'Content-Type': 'application/json', 'Authorization': self.header})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                answer = json.loads(resp.read())
        except (OSError, ValueError):
            return None
        return answer[0] if isinstance(answer, list) and answer else None

    KEA_STATS = ('pkt4-discover-received', 'pkt4-offer-sent', 'pkt4-request-received', 'pkt4-ack-sent',
                 'pkt4-nak-sent', 'pkt4-receive-drop', 'pkt4-parse-failed', 'v4-allocation-fail')

    def stats(self, host):
        """Kea's own packet counters (since its last start: every run starts Kea afresh)."""
        answer = self.call(host, 'statistic-get-all', timeout=10)
        if not answer or answer.get('result') != 0:
            return None
        args = answer.get('arguments', {})
        return dict((k, args[k][0][0]) for k in self.KEA_STATS if k in args)

    def ha_state(self, host):
        answer = self.call(host, 'ha-heartbeat')
        if not answer or answer.get('result') != 0:
            return None
        return answer.get('arguments', {}).get('state')


class Database:
    """The Kea database as the Kea user, over the lab network from the host."""

    def __init__(self, password):
        import psycopg2  # noqa: F401 pylint: disable=import-outside-toplevel
        self.password = password

    def query(self, sql, args=()):
        import psycopg2  # pylint: disable=import-outside-toplevel
        conn = psycopg2.connect(host=ADDRESSES[PG], dbname='kea', user='kea', password=self.password,
                                connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args or None)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    SETTINGS = ['server_version', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_sync_method',
                'commit_delay', 'commit_siblings', 'shared_buffers', 'wal_buffers', 'wal_compression',
                'wal_writer_delay', 'checkpoint_timeout', 'max_wal_size', 'max_connections']

    def settings(self):
        return dict((name, self.query('SHOW %s' % name)[0][0]) for name in self.SETTINGS)

    def wal_counters(self):
        wal = self.query('SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal')[0]
        commits = self.query("SELECT xact_commit FROM pg_stat_database WHERE datname = 'kea'")[0][0]
        names = ['wal_records', 'wal_fpi', 'wal_bytes', 'wal_write', 'wal_sync']
        out = dict(zip(names, (int(v) for v in wal)))
        out['xact_commit'] = int(commits)
        return out

    def empty(self):
        tables = [r[0] for r in self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'lease4%'")]
        self.query('TRUNCATE %s' % ', '.join(sorted(tables)))


# ---------------------------------------------------------------------------
# CPU per process, read on the host from /proc

CLK_TCK = os.sysconf('SC_CLK_TCK')
ROOT_CPUACCT = '/sys/fs/cgroup/cpuacct/cpuacct.usage'


def classify(comm):
    for prefix, group in (('kea-dhcp4', 'kea-dhcp4'), ('postgres', 'postgres'), ('perfdhcp', 'perfdhcp'),
                          ('systemd-journal', 'journald'), ('kea-ctrl-agent', 'kea-ctrl-agent')):
        if comm.startswith(prefix):
            return group
    return 'other'


class CpuSnapshot:
    def __init__(self, container_ids):
        self.time = time.time()
        self.procs = {}
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cgroup' % pid) as handle:
                    cgroup = handle.read()
                name = next((n for n, cid in container_ids.items() if cid in cgroup), None)
                if name is None:
                    continue
                with open('/proc/%s/stat' % pid) as handle:
                    stat = handle.read()
            except OSError:
                continue
            comm = stat[stat.index('(') + 1:stat.rindex(')')]
            rest = stat[stat.rindex(')') + 2:].split()
            self.procs[int(pid)] = (name, classify(comm), int(rest[11]) + int(rest[12]))
        with open('/proc/stat') as handle:
            fields = [int(x) for x in handle.readline().split()[1:9]]
        # user nice system idle iowait irq softirq steal. The busy time comes
        # from the root cgroup's cpuacct.usage (nanoseconds, every task) when
        # there is one: on the lab's VM the tick-sampled /proc/stat read up to
        # half the CPU time its processes reported.
        self.busy = (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) * 1e9 / CLK_TCK
        try:
            with open(ROOT_CPUACCT) as handle:
                self.busy = int(handle.read())
        except OSError:
            pass
        self.iowait, self.softirq, self.steal = fields[4], fields[6], fields[7]
        self.load = os.getloadavg()


def cpu_usage(before, after):
    """Percent of one core per container and process group between two snapshots."""
    wall = after.time - before.time
    per = {}
    for pid, (name, group, ticks) in after.procs.items():
        start = before.procs.get(pid)
        used = ticks - (start[2] if start else 0)
        per.setdefault(name, {}).setdefault(group, 0)
        per[name][group] += used
    out = dict((name, dict((g, round(100.0 * t / CLK_TCK / wall, 1)) for g, t in sorted(groups.items())))
               for name, groups in sorted(per.items()))
    ours = sum(sum(groups.values()) for groups in per.values())
    host_busy = 100.0 * (after.busy - before.busy) / 1e9 / wall
    return dict(per_container=out,
                host_busy=round(host_busy, 1),
                host_iowait=round(100.0 * (after.iowait - before.iowait) / CLK_TCK / wall, 1),
                host_steal=round(100.0 * (after.steal - before.steal) / CLK_TCK / wall, 1),
                host_softirq=round(100.0 * (after.softirq - before.softirq) / CLK_TCK / wall, 1),
                outside_bench=round(host_busy - 100.0 * ours / CLK_TCK / wall, 1),
                seconds=round(wall, 2), loadavg_1m=round(after.load[0], 2))


def cpu_summary(usage, serving=KEA1):
    per = usage['per_container']
    return dict(kea=per.get(serving, {}).get('kea-dhcp4', 0.0),
                postgres=per.get(PG, {}).get('postgres', 0.0),
                perfdhcp=per.get(CLIENT, {}).get('perfdhcp', 0.0),
                journald=round(sum(per.get(h, {}).get('journald', 0.0) for h in (KEA1, KEA2)), 1),
                standby_kea=per.get(KEA2, {}).get('kea-dhcp4', 0.0),
                host_busy=usage['host_busy'], host_steal=usage['host_steal'], host_softirq=usage['host_softirq'],
                host_iowait=usage['host_iowait'], outside_bench=usage['outside_bench'])


def cpu_per_exchange(usage, rate):
    """Microseconds of CPU per completed exchange: steadier than the rate when others load the machine."""
    if not rate:
        return None
    per = usage['per_container']
    groups = dict(kea=per.get(KEA1, {}).get('kea-dhcp4', 0.0), postgres=per.get(PG, {}).get('postgres', 0.0),
                  perfdhcp=per.get(CLIENT, {}).get('perfdhcp', 0.0),
                  journald=sum(per.get(h, {}).get('journald', 0.0) for h in (KEA1, KEA2)),
                  bench_all=sum(sum(g.values()) for g in per.values()), softirq=usage['host_softirq'])
    return dict((k, int(round(v * 1e4 / rate))) for k, v in groups.items())


# ---------------------------------------------------------------------------
# One perfdhcp run

class Bench:
    def __init__(self, lab, api, db, opts):
        self.lab, self.api, self.db, self.opts = lab, api, db, opts
        self.config = None

    @property
    def perfdhcp_nice(self):
        """The configuration's niceness of perfdhcp (a --variant's), else --perfdhcp-nice."""
        return CONFIGS[self.config].get('perfdhcp_nice', self.opts.perfdhcp_nice)

    @property
    def peers(self):
        return [KEA1, KEA2] if CONFIGS[self.config]['ha'] else [KEA1]

    def parallel(self, func, items):
        threads = [threading.Thread(target=func, args=(item,)) for item in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def wait_ready(self, timeout=90):
        start = time.time()
        while time.time() - start < timeout:
            if CONFIGS[self.config]['ha']:
                states = [self.api.ha_state(p) for p in self.peers]
                if all(s == 'hot-standby' for s in states):
                    return time.time() - start
            else:
                answer = self.api.call(KEA1, 'status-get')
                if answer and answer.get('result') == 0:
                    return time.time() - start
            time.sleep(0.2)
        journal = self.lab.sh(KEA1, 'journalctl -u %s -n 30 --no-pager' % KEA_UNIT, check=False)
        raise RuntimeError('%s: Kea not ready after %d s:\n%s' % (self.config, timeout, self.lab.scrub(journal)))

    def reset(self):
        """Every run starts equal: no leases, Kea freshly started, PostgreSQL just checkpointed."""
        # Every Kea container: a peer left running by an earlier configuration would disturb this one.
        self.parallel(lambda p: self.lab.sh(p, 'systemctl stop %s' % KEA_UNIT, check=False),
                      [n for n in (KEA1, KEA2) if n in self.lab.names])
        if CONFIGS[self.config]['pg']:
            self.db.empty()
            self.lab.sh(PG, "su postgres -c 'psql -qXc CHECKPOINT'")
        else:
            self.lab.sh(KEA1, 'rm -f /var/lib/kea/kea-leases4.csv*')
        self.parallel(lambda p: self.lab.sh(p, 'systemctl start %s' % KEA_UNIT), self.peers)
        self.wait_ready()

    def perfdhcp_argv(self, rate, seconds):
        # --perfdhcp-nice: the load generator may yield the shared cores to
        # the server's processes; a --variant may set its own.
        nice = ['nice', '-n', str(self.perfdhcp_nice)] if self.perfdhcp_nice else []
        return ['podman', 'exec', CLIENT] + nice + [
            'perfdhcp', '-4', '-r', str(rate), '-p', str(seconds), '-R', str(CLIENT_RANGE),
            '-b', 'mac=%s' % MAC_BASE, '-W', '1000000', ADDRESSES[KEA1]]

    def run(self, rate, seconds):
        """One run at a fixed rate: perfdhcp's figures, CPU, and what the database saw."""
        pg = CONFIGS[self.config]['pg']
        self.reset()
        wal_before = self.db.wal_counters() if pg else None
        ids = dict((n, self.lab.ids[n]) for n in self.lab.names)
        box = {'states': {}}
        stop = threading.Event()

        def watch():
            # The HA state of both peers every second (a false failover shows
            # here), and the durability settings while Kea writes, at mid-run.
            mid = time.time() + seconds / 2.0
            while not stop.is_set():
                if pg and 'settings' not in box and time.time() >= mid:
                    box['settings'] = self.db.settings()
                    box['kea_connections'] = self.db.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'kea'")[0][0]
                for peer in self.peers if CONFIGS[self.config]['ha'] else []:
                    state = self.api.ha_state(peer) or 'no answer'
                    box['states'].setdefault(peer, {}).setdefault(state, 0)
                    box['states'][peer][state] += 1
                stop.wait(1.0)

        watcher = threading.Thread(target=watch)
        start = time.time()
        proc = subprocess.Popen(self.perfdhcp_argv(rate, seconds), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        watcher.start()
        # CPU over the loaded part only: perfdhcp sends for `seconds` from
        # about 0.3 s after the exec.
        time.sleep(1.0)
        snap_a = CpuSnapshot(ids)
        time.sleep(max(0.5, start + seconds - time.time()))
        snap_b = CpuSnapshot(ids)
        out, err = proc.communicate(timeout=seconds + 60)
        stop.set()
        watcher.join()
        if proc.returncode not in (0, 3):
            raise RuntimeError('perfdhcp exited %d: %s %s' % (proc.returncode, out[-1500:], err[-1500:]))
        stats = perfdhcp_stats(out)
        do, ra = stats.get('DISCOVER-OFFER', {}), stats.get('REQUEST-ACK', {})
        sent = do.get('sent packets', 0)
        acks = ra.get('received packets', 0)
        drop = 1.0 - acks / sent if sent else 1.0
        offered = sent / float(seconds)
        usage = cpu_usage(snap_a, snap_b)
        result = dict(config=self.config, rate=rate, seconds=seconds, discovers_sent=sent,
                      offers_received=do.get('received packets', 0), requests_sent=ra.get('sent packets', 0),
                      acks_received=acks, drop_pct=round(100.0 * drop, 3), offered_rate=round(offered, 1),
                      completed_rate=round(acks / float(seconds), 1),
                      avg_delay_ms={'DO': do.get('avg delay'), 'RA': ra.get('avg delay')},
                      cpu=cpu_summary(usage), cpu_detail=usage,
                      passed=drop < DROP_LIMIT and offered >= OFFERED_MIN * rate)
        result['cpu_us_per_exchange'] = cpu_per_exchange(usage, acks / float(seconds))
        if not sent:
            result['perfdhcp_output'] = out[-2000:]
        # Where the missing exchanges went: DISCOVERs that Kea never processed
        # (socket buffer or multi-threading queue full) versus answers lost.
        result['kea_stats'] = self.api.stats(KEA1)
        if pg:
            time.sleep(1.2)  # backends publish their statistics about once a second
            wal_after = self.db.wal_counters()
            result['wal'] = dict((k, wal_after[k] - wal_before[k]) for k in wal_after)
            result['lease4_rows'] = self.db.query('SELECT count(*) FROM lease4')[0][0]
            result['pg_settings'] = box.get('settings')
            result['kea_db_connections'] = box.get('kea_connections')
        if CONFIGS[self.config]['ha']:
            result['ha_states'] = box['states']
        why = '' if result['passed'] else (' drops' if drop >= DROP_LIMIT else ' perfdhcp could not send the rate')
        cpu = result['cpu']
        log('  %-10s %5d/s: %6d started, %6d ACKs, drops %6.2f %%, offered %7.1f/s | CPU %% of a core: '
            'kea %5.1f pg %5.1f perfdhcp %5.1f journald %4.1f host %5.1f (outside bench %4.1f, steal %4.1f)'
            '%s%s' % (self.config, rate, sent, acks, 100.0 * drop, offered, cpu['kea'], cpu['postgres'],
                      cpu['perfdhcp'], cpu['journald'], cpu['host_busy'], cpu['outside_bench'],
                      cpu['host_steal'], ' PASS' if result['passed'] else ' FAIL' + why,
                      (' HA %s' % result['ha_states']) if CONFIGS[self.config]['ha'] else ''))
        return result

    def search(self, ladder, seconds, refine):
        """Upward through the ladder until a rate fails, then bisect between the last pass and it."""
        runs = []
        best, failed = None, None
        for rate in ladder:
            result = self.run(rate, seconds)
            runs.append(result)
            if not result['passed']:
                failed = rate
                break
            best = rate
        low = best or 0
        high = failed
        for dummy in range(refine if failed else 0):
            mid = int(round((low + high) / 2.0 / 25.0) * 25)
            if mid <= low or mid >= high:
                break
            result = self.run(mid, seconds)
            runs.append(result)
            if result['passed']:
                low = mid
            else:
                high = mid
        return dict(highest=low or None, first_fail=high, saturated=failed is not None, runs=runs)

    def describe(self):
        """What the configuration really runs: Kea's threads and lease backend, PostgreSQL's settings."""
        peers = {}
        for peer in self.peers:
            text = self.lab.sh(peer, 'cat /etc/kea/kea-dhcp4.conf')
            dhcp4 = json.loads(text)['Dhcp4']
            hooks = [h['library'].rsplit('/', 1)[-1] for h in dhcp4.get('hooks-libraries', [])]
            ha = None
            for hook in dhcp4.get('hooks-libraries', []):
                if hook['library'].endswith('libdhcp_ha.so'):
                    rel = hook['parameters']['high-availability'][0]
                    keys = ('mode', 'heartbeat-delay', 'max-response-delay', 'max-ack-delay',
                            'max-unacked-clients', 'send-lease-updates', 'sync-leases', 'multi-threading')
                    ha = dict((k, rel.get(k)) for k in keys)
            status = self.api.call(peer, 'status-get') or {}
            args = status.get('arguments', {})
            peers[peer] = dict(
                multi_threading_config=dhcp4.get('multi-threading'),
                status_get=dict((k, args.get(k)) for k in (
                    'multi-threading-enabled', 'thread-pool-size', 'packet-queue-size')),
                lease_database=dict((k, v) for k, v in dhcp4['lease-database'].items() if k != 'password'),
                loggers=[(lg.get('name'), lg.get('severity')) for lg in dhcp4.get('loggers', [])],
                hooks=hooks, ha=ha)
        out = dict(what=CONFIGS[self.config]['what'], vars=CONFIGS[self.config]['vars'], kea=peers,
                   perfdhcp_nice=self.perfdhcp_nice)
        if CONFIGS[self.config]['pg']:
            out['postgresql'] = self.db.settings()
            out['postgresql_dropin'] = self.lab.sh(
                PG, "grep -v '^#' /etc/postgresql/*/main/conf.d/kea.conf | grep -v '^$'").splitlines()
        return out


# ---------------------------------------------------------------------------
# Soak: the HA pair at a steady rate

ALLOC = re.compile(r'DHCP4_LEASE_ALLOC \[hwtype=\d+ ([0-9a-f:]+)\].*lease (\d+\.\d+\.\d+\.\d+) has been allocated')


def soak(bench, rate, seconds):
    bench.config = 'ha'
    bench.reset()
    lab, api, db = bench.lab, bench.api, bench.db
    ids = dict((n, lab.ids[n]) for n in lab.names)
    log('soak: HA pair, %d/s for %d s through the primary, both peers polled every second' % (rate, seconds))
    since = int(time.time()) - 1
    start = time.time()
    proc = subprocess.Popen(bench.perfdhcp_argv(rate, seconds), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    time.sleep(1.0)
    snap_a, snap_b = CpuSnapshot(ids), None
    states = dict((p, {}) for p in bench.peers)
    abnormal = []
    polls = 0
    next_report = start + 60
    while proc.poll() is None:
        tick = time.time()
        for peer in bench.peers:
            state = api.ha_state(peer) or 'no answer'
            states[peer][state] = states[peer].get(state, 0) + 1
            if state != 'hot-standby':
                abnormal.append(dict(t=round(tick - start, 1), peer=peer, state=state))
        polls += 1
        if tick > next_report:
            log('soak: %3.0f s, states so far %s' % (tick - start, states))
            next_report += 60
        if snap_b is None and tick - start > seconds - 1.5:
            snap_b = CpuSnapshot(ids)
        time.sleep(max(0.0, 1.0 - (time.time() - tick)))
    if snap_b is None:
        snap_b = CpuSnapshot(ids)
    out, err = proc.communicate()
    if proc.returncode not in (0, 3):
        raise RuntimeError('perfdhcp exited %d: %s %s' % (proc.returncode, out[-1500:], err[-1500:]))
    stats = perfdhcp_stats(out)
    do, ra = stats.get('DISCOVER-OFFER', {}), stats.get('REQUEST-ACK', {})
    sent, acks = do.get('sent packets', 0), ra.get('received packets', 0)
    # Every DHCPACK Kea logged, on both peers: an address given to two MACs
    # within the soak (shorter than the lifetime) would be a duplicate.
    by_address, by_peer = {}, {}
    for peer in bench.peers:
        text = lab.sh(peer, 'journalctl -u %s -o cat --no-pager --since @%d | grep DHCP4_LEASE_ALLOC || true'
                      % (KEA_UNIT, since), timeout=300)
        count = 0
        for match in ALLOC.finditer(text):
            by_address.setdefault(match.group(2), set()).add(match.group(1))
            count += 1
        by_peer[peer] = count
    duplicates = sorted(a for a, macs in by_address.items() if len(macs) > 1)
    kea_stats = dict((p, api.stats(p)) for p in bench.peers)
    rows, distinct_hw = db.query('SELECT count(*), count(DISTINCT hwaddr) FROM lease4')[0]
    sql_dups = db.query('SELECT address FROM lease4 GROUP BY address HAVING count(DISTINCT hwaddr) > 1')
    suppressed = dict((p, lab.sh(p, 'journalctl -u systemd-journald -o cat --no-pager --since @%d '
                                    '| grep -c Suppressed || true' % since).strip()) for p in bench.peers)
    usage = cpu_usage(snap_a, snap_b)
    result = dict(rate=rate, seconds=seconds, polls=polls,
                  cpu_us_per_exchange=cpu_per_exchange(usage, acks / float(seconds)), states=states, abnormal=abnormal[:200],
                  abnormal_count=len(abnormal), false_failover=bool(abnormal),
                  discovers_sent=sent, acks_received=acks,
                  drop_pct=round(100.0 * (1.0 - acks / sent), 3) if sent else None,
                  ack_log_lines_by_peer=by_peer, addresses_acked=len(by_address),
                  duplicate_addresses=len(duplicates), duplicate_examples=duplicates[:10],
                  lease4_rows=rows, lease4_distinct_hwaddr=distinct_hw, lease4_duplicate_rows=len(sql_dups),
                  journald_suppressed_lines=suppressed, kea_stats=kea_stats,
                  cpu=cpu_summary(usage), cpu_detail=usage)
    log('soak: %d polls per peer, states %s, abnormal %d; %d started, %d ACKs, drops %.3f %%; '
        '%d addresses ACKed (log), %d duplicates; lease4 %d rows / %d MACs'
        % (polls, states, len(abnormal), sent, acks, result['drop_pct'] or 0, len(by_address), len(duplicates),
           rows, distinct_hw))
    return result


# ---------------------------------------------------------------------------

def summarize(searches):
    """Median of the searches' highest passing rates; CPU at that rate and at the first failure."""
    highs = [s['highest'] or 0 for s in searches]
    at_high = [next(r for r in s['runs'] if r['rate'] == s['highest'] and r['passed'])
               for s in searches if s['highest']]
    at_fail = [next(r for r in s['runs'] if r['rate'] == s['first_fail']) for s in searches if s['first_fail']]

    def med(runs, key):
        if not runs:
            return None
        return dict((k, round(statistics.median(r[key][k] for r in runs), 1)) for k in runs[0][key])
    return dict(highest_rates=highs, median_highest=statistics.median(highs),
                saturated=all(s['saturated'] for s in searches),
                cpu_at_highest=med(at_high, 'cpu'), cpu_us_per_exchange_at_highest=med(at_high, 'cpu_us_per_exchange'),
                cpu_at_first_fail=med(at_fail, 'cpu'), first_fail_rates=[s['first_fail'] for s in searches],
                drop_pct_at_first_fail=[r['drop_pct'] for r in at_fail])


def machine():
    model = ''
    with open('/proc/cpuinfo') as handle:
        for line in handle:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    mem = 0
    with open('/proc/meminfo') as handle:
        for line in handle:
            if line.startswith('MemTotal'):
                mem = int(line.split()[1]) // 1024
    return dict(nproc=os.cpu_count(), cpu_model=model, memory_mb=mem, kernel=platform.release(),
                python=platform.python_version(), loadavg_start=[round(x, 2) for x in os.getloadavg()])


def fsync_probe(lab):
    """pg_test_fsync's one-write figures on the database container's disk: the floor of a commit."""
    out = lab.sh(PG, 'cd /var/lib/postgresql && su postgres -c "/usr/lib/postgresql/*/bin/pg_test_fsync -s 2 '
                     '-f /var/lib/postgresql/fsync.probe" 2>&1; rm -f /var/lib/postgresql/fsync.probe',
                 timeout=300)
    figures = {}
    section = None
    for line in out.splitlines():
        if line.startswith('Compare file sync methods using one'):
            section = 'one_8kB_write'
        elif line.startswith('Compare file sync methods using two'):
            section = 'two_8kB_writes'
        elif line.startswith('Compare') or line.startswith('Non-sync'):
            section = None
        match = re.match(r'\s+(\S+)\s+([0-9.]+) ops/sec\s+([0-9]+) usecs/op', line)
        if match and section:
            figures['%s %s' % (section, match.group(1))] = dict(ops_per_s=float(match.group(2)),
                                                                usecs=int(match.group(3)))
    return figures


def parse_variant(text):
    """NAME=BASE:JSON, e.g. pg-mt8=pg-tuned:{"kea_dhcp4_multi_threading": {...}}."""
    name, rest = text.split('=', 1)
    base, extra = rest.split(':', 1)
    if base not in CONFIGS:
        raise SystemExit('--variant %s: unknown base %s' % (name, base))
    spec = dict(CONFIGS[base])
    extra_vars = json.loads(extra)
    # Not a role variable: the niceness of perfdhcp for this configuration.
    if 'perfdhcp_nice' in extra_vars:
        spec['perfdhcp_nice'] = int(extra_vars.pop('perfdhcp_nice'))
    spec['vars'] = dict(spec['vars'], **extra_vars)
    spec['what'] = '%s with %s' % (base, extra)
    spec['base'] = base
    return name, spec


def main():
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--configs', default=','.join(CONFIG_ORDER),
                        help='comma-separated, from %s (and --variant names)' % ', '.join(CONFIG_ORDER))
    parser.add_argument('--rates', default='250,500,1000,1500,2000,2500,3000,4000,5000,6000',
                        help='the upward ladder of perfdhcp rates (exchanges/s)')
    parser.add_argument('--refine', type=int, default=2, help='bisection steps after the first failing rate')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seconds', type=int, default=10, help='perfdhcp test period per run')
    parser.add_argument('--soak-seconds', type=int, default=600, help='HA soak length; 0 skips it')
    parser.add_argument('--soak-rate', type=int, default=100)
    parser.add_argument('--variant', action='append', default=[], metavar='NAME=BASE:JSON',
                        help='an extra configuration: BASE plus these role variables (tuning experiments)')
    parser.add_argument('--smoke', action='store_true',
                        help='memfile + pg-tuned, one rate (100/s), one repeat, 5 s runs, no soak')
    parser.add_argument('--perfdhcp-nice', type=int, default=0, metavar='N',
                        help='niceness of perfdhcp (1-19: it yields the shared cores to Kea and PostgreSQL; '
                             'measured on 2026-11-29, 19 made no difference). A --variant may set its own with '
                             'the key perfdhcp_nice in its JSON')
    parser.add_argument('--no-fsync-probe', action='store_true', help="skip pg_test_fsync on the database disk")
    parser.add_argument('--no-interleave', dest='interleave', action='store_false',
                        help='all searches of a configuration in a row (default: one per configuration per round)')
    parser.add_argument('--keep', action='store_true', help='keep the containers and the network')
    parser.add_argument('--reuse', action='store_true', help='use the containers an earlier --keep left')
    parser.add_argument('--image', default=os.environ.get('DHCPOPS_IMAGE_BOOKWORM',
                                                          'localhost/dhcpops-kea-base:bookworm'))
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'dhcp_service.json'))
    opts = parser.parse_args()
    if opts.smoke:
        opts.configs, opts.rates, opts.refine, opts.repeats, opts.seconds = 'memfile,pg-tuned', '100', 0, 1, 5
        opts.soak_seconds, opts.no_fsync_probe = 0, True
    for text in opts.variant:
        name, spec = parse_variant(text)
        CONFIGS[name] = spec
    wanted = opts.configs.split(',')
    unknown = [c for c in wanted if c not in CONFIGS]
    if unknown:
        raise SystemExit('unknown configuration(s): %s' % ', '.join(unknown))
    # One server first, the pair last: the second peer joins only for HA.
    configs = sorted(wanted, key=lambda c: (CONFIGS[c]['ha'], CONFIG_ORDER.index(CONFIGS[c].get('base', c))
                                            if CONFIGS[c].get('base', c) in CONFIG_ORDER else 9,
                                            wanted.index(c)))
    ladder = [int(r) for r in opts.rates.split(',')]
    if opts.soak_seconds and not any(CONFIGS[c]['ha'] for c in configs):
        log('no HA configuration selected: the soak is skipped')
        opts.soak_seconds = 0

    needs_pg = any(CONFIGS[c]['pg'] for c in configs)
    needs_pair = any(CONFIGS[c]['ha'] for c in configs)
    names = [n for n in (PG, KEA1, KEA2, CLIENT)
             if (n != PG or needs_pg) and (n != KEA2 or needs_pair)]
    secrets_ = dict(kea_postgresql_db_password=secrets.token_urlsafe(18),
                    kea_dhcp4_api_password=secrets.token_urlsafe(18))
    init = os.environ.get('DHCPOPS_INIT_BOOKWORM', '/sbin/init')
    boot_flags = os.environ.get('DHCPOPS_BOOT_FLAGS_BOOKWORM', '').split()
    work = tempfile.mkdtemp(prefix='dhcpops-bench-')
    lab = Lab(opts.image, init, boot_flags, secrets_, opts.keep)
    started = time.time()
    result = dict(machine=machine(), started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    exit_code = 0
    try:
        # --reuse: fresh passwords all the same; the roles put them in place.
        if opts.reuse and lab.adopt(names):
            log('reusing %s' % ', '.join(names))
        else:
            log('creating %s on %s (%s)' % (', '.join(names), NETWORK, SUBNET))
            lab.create(names)
        fd = os.open(os.path.join(work, 'secrets.json'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(secrets_, handle)
        api = Api(secrets_['kea_dhcp4_api_password'])
        db = Database(secrets_['kea_postgresql_db_password']) if needs_pg else None
        bench = Bench(lab, api, db, opts)
        result.update(configs={}, ladder=ladder, refine=opts.refine, repeats=opts.repeats, seconds=opts.seconds,
                      drop_limit_pct=100 * DROP_LIMIT, clients_range=CLIENT_RANGE, lease_subnet=LEASE_SUBNET,
                      perfdhcp_nice=opts.perfdhcp_nice)
        # Rounds: with --interleave (default) every round deploys each
        # configuration in turn and runs one search, so that a change in the
        # machine's load (other users) falls on all of them alike; every
        # other round in reverse order (A B C D, D C B A, ...), which also
        # saves the deployment at the turn.
        rounds = opts.repeats if opts.interleave else 1
        per_round = 1 if opts.interleave else opts.repeats
        searches = dict((c, []) for c in configs)
        deploys = dict((c, []) for c in configs)
        deployed = None
        for rnd in range(rounds):
            for config in (configs if rnd % 2 == 0 else configs[::-1]):
                bench.config = config
                # A variant that differs only in perfdhcp's niceness runs on
                # the deployment of its twin.
                if deployed is None or not same_deployment(config, deployed):
                    before = any(deploys[c] for c in configs if same_deployment(c, config))
                    deploys[config].append(deploy(lab, config, work, RECONFIGURE_TAGS if before else None))
                deployed = config
                if 'versions' not in result:
                    result['versions'] = dict(
                        kea=lab.sh(KEA1, 'kea-dhcp4 -v').strip(),
                        perfdhcp=lab.sh(CLIENT, 'perfdhcp -v 2>&1 | head -1').strip())
                if CONFIGS[config]['pg'] and 'postgresql' not in result['versions']:
                    result['versions']['postgresql'] = db.query('SHOW server_version')[0][0]
                    if not opts.no_fsync_probe:
                        log('pg_test_fsync on the database container (about 30 s)')
                        result['fsync_probe'] = fsync_probe(lab)
                bench.wait_ready()
                described = bench.describe()
                if rnd == 0:
                    log('%s: %s' % (config, described['what']))
                    for peer, info in described['kea'].items():
                        log('  %s: multi-threading %s (status-get %s), lease database %s' % (
                            peer, info['multi_threading_config'], info['status_get'],
                            info['lease_database']['type']))
                    if 'postgresql' in described:
                        log('  postgresql: %s' % described['postgresql'])
                    result['configs'][config] = dict(description=described)
                for dummy in range(per_round):
                    log('%s: search %d of %d' % (config, len(searches[config]) + 1, opts.repeats))
                    searches[config].append(bench.search(ladder, opts.seconds, opts.refine))
                if CONFIGS[config]['pg']:
                    durable = [(r.get('pg_settings') or {}) for s in searches[config] for r in s['runs']]
                    if not all(d.get('synchronous_commit') == 'on' and d.get('fsync') == 'on' for d in durable):
                        raise RuntimeError('%s ran without synchronous_commit/fsync on: %s' % (config, durable))
        for config in configs:
            summary = summarize(searches[config])
            summary['deploy_seconds'] = deploys[config]
            result['configs'][config].update(summary=summary, searches=searches[config])
            log('%s: highest rates %s -> median %s/s; CPU at that rate %s; CPU us per exchange %s'
                % (config, summary['highest_rates'], summary['median_highest'], summary['cpu_at_highest'],
                   summary['cpu_us_per_exchange_at_highest']))
        if opts.soak_seconds:
            # The last round may have ended on another configuration.
            if deployed != 'ha':
                deploy(lab, 'ha', work, RECONFIGURE_TAGS if deploys.get('ha') else None)
            result['soak'] = soak(bench, opts.soak_rate, opts.soak_seconds)
        ratio = None
        configs_out = result['configs']
        if 'pg-tuned' in configs_out and 'pg-untuned' in configs_out and \
                configs_out['pg-untuned']['summary']['median_highest']:
            ratio = configs_out['pg-tuned']['summary']['median_highest'] / \
                float(configs_out['pg-untuned']['summary']['median_highest'])
            result['tuned_over_untuned'] = round(ratio, 3)
        # What must hold for the run to count (the smoke run in CI relies on it).
        problems = []
        for config, data in configs_out.items():
            first = data['searches'][0]['runs'][0]
            # Service at all (a loaded shared machine may drop some at the lowest rate).
            if first['acks_received'] == 0 or first['drop_pct'] > 50:
                problems.append('%s: %d ACKs for %d DISCOVERs at %d/s' % (
                    config, first['acks_received'], first['discovers_sent'], first['rate']))
            if 'lease4_rows' in first and first['lease4_rows'] < 0.95 * first['acks_received']:
                problems.append('%s: %d lease4 rows after %d ACKs'
                                % (config, first['lease4_rows'], first['acks_received']))
        if 'soak' in result and (result['soak']['duplicate_addresses'] or not result['soak']['acks_received']):
            problems.append('soak: %d duplicate addresses, %d ACKs' % (result['soak']['duplicate_addresses'],
                                                                       result['soak']['acks_received']))
        result['problems'] = problems
        result['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
        result['wall_seconds'] = round(time.time() - started)
        argv = ['.venv/bin/python', 'benchmarks/dhcp_service.py']
        if opts.smoke:
            argv.append('--smoke')
        else:
            argv += ['--configs', ','.join(configs), '--rates', opts.rates, '--refine', str(opts.refine),
                     '--repeats', str(opts.repeats), '--seconds', str(opts.seconds),
                     '--soak-seconds', str(opts.soak_seconds)]
            if opts.soak_seconds:
                argv += ['--soak-rate', str(opts.soak_rate)]
            if not opts.interleave:
                argv.append('--no-interleave')
            if opts.perfdhcp_nice != parser.get_default('perfdhcp_nice'):
                argv += ['--perfdhcp-nice', str(opts.perfdhcp_nice)]
            for text in opts.variant:
                argv += ['--variant', "'%s'" % text]
        result['command'] = 'source scripts/lab/env.sh && ' + ' '.join(argv)

        print('\nDHCP service throughput (4-way exchanges/s, < %d %% drops, median of %d searches), '
              '%s, %d cores (%s), load %s -> %s' % (
                  100 * DROP_LIMIT, opts.repeats, result['versions']['kea'], result['machine']['nproc'],
                  result['machine']['cpu_model'], result['machine']['loadavg_start'],
                  result['machine']['loadavg_end']))
        row = '%-12s %8s %-20s %6s %6s %9s %9s %6s %9s'
        print(row % ('config', 'median', 'per search', 'kea%', 'pg%', 'perfdhcp%', 'journald%', 'host%', 'outside%'))
        for config, data in configs_out.items():
            summ = data['summary']
            cpu = summ['cpu_at_highest'] or {}
            print(row % (
                config, summ['median_highest'], ','.join(str(h) for h in summ['highest_rates']),
                cpu.get('kea'), cpu.get('postgres'), cpu.get('perfdhcp'), cpu.get('journald'),
                cpu.get('host_busy'), cpu.get('outside_bench')))
        print('CPU per completed exchange at that rate (microseconds):')
        for config, data in configs_out.items():
            per = data['summary']['cpu_us_per_exchange_at_highest'] or {}
            print('  %-12s %s' % (config, ', '.join('%s %s' % (k, per[k]) for k in sorted(per))))
        if ratio is not None:
            print('pg-tuned / pg-untuned: %.2f (target >= 1.3)' % ratio)
        if 'soak' in result:
            soak_r = result['soak']
            print('HA soak: %d s at %d/s: states %s; abnormal polls %d; drops %s %%; duplicate addresses %d'
                  % (soak_r['seconds'], soak_r['rate'], soak_r['states'], soak_r['abnormal_count'],
                     soak_r['drop_pct'], soak_r['duplicate_addresses']))
        os.makedirs(os.path.dirname(opts.out), exist_ok=True)
        with open(opts.out, 'w') as handle:
            json.dump(result, handle, indent=1, sort_keys=False)
        print('results: %s\nreproduce: %s' % (os.path.relpath(opts.out, REPO), result['command']))
        if problems:
            print('PROBLEMS:\n  ' + '\n  '.join(problems))
            exit_code = 1
    finally:
        lab.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return exit_code


if __name__ == '__main__':
    sys.exit(main())
