#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: keeping N reservations in Kea's hosts database through the API.

One Kea 3.0.4 (Debian forky, host_cmds) on a PostgreSQL hosts database, both
deployed by the collection's roles into podman containers. A synthetic site
of N reservations (benchmarks/sitegen.py: N/25 subnets, 25 reserved hosts
each) is synced with dhcpops.kea.kea_reservations exactly as the role and
dhcpops.kea.reservations call it, through ansible-playbook:

  first      the empty database gets all N (N reservation-add calls)
  no-change  the same files again: paged reads only, nothing written
  one-pct    1 % of the hosts get a new hostname (reservation-update)
  wipe       empty files: every reservation deleted (to start the next repeat)

Each repeat runs all four; the figures are medians over the repeats, with the
API calls the module reports (reads, writes) and the wall time of the
ansible-playbook run (Ansible's start-up included). An HA pair shares the
database, so only one peer gets these calls; the other gets none.

    .venv/bin/python benchmarks/reservations_sync.py                 # 10,000 reservations, 3 repeats
    .venv/bin/python benchmarks/reservations_sync.py --smoke         # CI: 100 reservations, 1 repeat
    .venv/bin/python benchmarks/reservations_sync.py --keep / --reuse
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dhcp_service as ds  # noqa: E402  (the lab, the deployment and the machine description)
import sitegen  # noqa: E402

STEPS = ('first', 'no-change', 'one-pct', 'wipe')

SYNC_PLAYBOOK = '''---
- name: Sync the reservations
  hosts: kea_servers
  gather_facts: false
  tasks:
    - name: Make the hosts database hold the reservation files
      dhcpops.kea.kea_reservations:
        api_url: "http://%s:%d/"
        api_service: ""
        api_user: "%s"
        api_password_file: /etc/kea/kea-api-password
        reservations_files: "{{ sync_files }}"
        managed_subnets: "{{ sync_subnets }}"
''' % (ds.ADDRESSES[ds.KEA1], ds.API_PORT, ds.API_USER)


def configure(site_subnets, pg_address):
    """The bench's deployment: one Kea, hosts and leases in PostgreSQL, the site's subnets."""
    ds.CONFIGS['hosts-db'] = dict(
        pg=True, ha=False,
        what='one Kea 3.0.4 with a PostgreSQL lease and hosts database (both roles\' defaults), host_cmds',
        vars={'kea_dhcp4_hosts_database': {'type': 'postgresql', 'host': pg_address, 'name': 'kea', 'user': 'kea',
                                           'password': '{{ kea_postgresql_db_password }}'},
              'kea_dhcp4_subnets': site_subnets})


def inventory_without_client(config, ha_pair, _inventory=ds.inventory):
    """dhcp_service's inventory, without the load client this benchmark does not need."""
    out = _inventory(config, ha_pair)
    out['all']['children']['bench_clients'] = {'hosts': {}}
    return out


def run_sync(work, files, subnets):
    """One ansible-playbook run of the sync; (seconds, the module's result)."""
    extra = os.path.join(work, 'sync-vars.json')
    with open(extra, 'w') as handle:
        json.dump({'sync_files': files, 'sync_subnets': subnets}, handle)
    playbook = os.path.join(work, 'sync.yml')
    with open(playbook, 'w') as handle:
        handle.write(SYNC_PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ds.REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ds.REPO, '.cache', 'collections'),
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_NOCOLOR='1')
    argv = [os.path.join(ds.REPO, '.venv', 'bin', 'ansible-playbook'), '-i',
            os.path.join(work, 'inventory-hosts-db.json'), '-e', '@' + extra, playbook]
    start = time.time()
    proc = subprocess.run(argv, cwd=ds.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    seconds = time.time() - start
    try:
        document = json.loads(proc.stdout)
        result = document['plays'][0]['tasks'][0]['hosts'][ds.KEA1]
    except (ValueError, KeyError, IndexError):
        raise RuntimeError('the sync did not run: %s %s' % (proc.stdout[-3000:], proc.stderr[-2000:]))
    if proc.returncode or result.get('failed'):
        raise RuntimeError('the sync failed: %s' % (result.get('msg') or proc.stderr[-2000:]))
    return round(seconds, 2), result


def write(path, data):
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return path


def main():
    ds.exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--reservations', type=int, default=10000)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--smoke', action='store_true', help='100 reservations, one repeat')
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--reuse', action='store_true')
    parser.add_argument('--image', default=os.environ.get('DHCPOPS_IMAGE_FORKY', 'localhost/dhcpops-kea-base:forky'))
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'reservations_sync.json'))
    opts = parser.parse_args()
    if opts.smoke:
        opts.reservations, opts.repeats = 100, 1
        if opts.out == parser.get_default('out'):
            opts.out = os.path.join(tempfile.gettempdir(), 'dhcpops-reservations-sync-smoke.json')

    subnets, reservation_file = sitegen.make_site(opts.reservations)
    configure(subnets, ds.ADDRESSES[ds.PG])
    ds.inventory = inventory_without_client
    subnet_ids = [s['id'] for s in subnets]
    work = tempfile.mkdtemp(prefix='dhcpops-bench-res-')
    files = dict(full=write(os.path.join(work, 'full.json'), reservation_file))
    changed = json.loads(json.dumps(reservation_file))
    hosts = [h for s in changed['subnets'] for h in s['reservations']]
    step = max(1, len(hosts) // max(1, len(hosts) // 100))
    for host in hosts[::step]:
        host['hostname'] = host['hostname'] + '-moved'
    files['one-pct'] = write(os.path.join(work, 'one-pct.json'), changed)
    files['empty'] = write(os.path.join(work, 'empty.json'), {'subnets': []})

    secrets_ = dict(kea_postgresql_db_password=secrets.token_urlsafe(18),
                    kea_dhcp4_api_password=secrets.token_urlsafe(18))
    init = os.environ.get('DHCPOPS_INIT_FORKY', '/usr/local/sbin/dhcpops-init')
    flags = os.environ.get('DHCPOPS_BOOT_FLAGS_FORKY', '--cgroupns=private --cap-add SYS_ADMIN').split()
    lab = ds.Lab(opts.image, init, flags, secrets_, opts.keep)
    names = [ds.PG, ds.KEA1]
    result = dict(machine=ds.machine(), reservations=opts.reservations, subnets=len(subnets),
                  started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  command=' '.join(['.venv/bin/python', 'benchmarks/reservations_sync.py'] + sys.argv[1:]))
    runs = dict((s, []) for s in STEPS)
    started = time.time()
    try:
        if opts.reuse and lab.adopt(names):
            ds.log('reusing %s' % ', '.join(names))
        else:
            ds.log('creating %s on %s' % (', '.join(names), ds.NETWORK))
            lab.create(names)
        fd = os.open(os.path.join(work, 'secrets.json'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(secrets_, handle)
        result['deploy_seconds'] = ds.deploy(lab, 'hosts-db', work)
        result['versions'] = dict(kea=lab.sh(ds.KEA1, 'kea-dhcp4 -v').strip())
        # Start from an empty hosts database (a --reuse run may find hosts).
        run_sync(work, [files['empty']], subnet_ids)
        plan = (('first', 'full'), ('no-change', 'full'), ('one-pct', 'one-pct'), ('wipe', 'empty'))
        for repeat in range(opts.repeats):
            for step, which in plan:
                seconds, out = run_sync(work, [files[which]], subnet_ids)
                entry = dict(seconds=seconds, counts=out.get('counts'), api_calls=out.get('api_calls'))
                runs[step].append(entry)
                ds.log('repeat %d %-9s %7.1f s  %s  reads %d writes %d' % (
                    repeat + 1, step, seconds, out.get('counts'), out['api_calls']['reads'],
                    out['api_calls']['writes']))
    finally:
        lab.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    summary = {}
    for step in STEPS:
        summary[step] = dict(median_seconds=statistics.median(r['seconds'] for r in runs[step]),
                             seconds=[r['seconds'] for r in runs[step]], api_calls=runs[step][0]['api_calls'],
                             counts=runs[step][0]['counts'])
    # Paired within each repeat (the same minute of the machine's load), then the median.
    ratios = [n['seconds'] / f['seconds'] for f, n in zip(runs['first'], runs['no-change'])]
    ratio = statistics.median(ratios)
    result.update(runs=runs, summary=summary, no_change_over_first=round(ratio, 4),
                  no_change_over_first_per_repeat=[round(r, 4) for r in ratios],
                  total_seconds=round(time.time() - started))
    if os.path.dirname(opts.out):
        os.makedirs(os.path.dirname(opts.out), exist_ok=True)
    with open(opts.out, 'w') as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write('\n')

    print('\nReservations sync, %d reservations in %d subnets, %s, median of %d:' % (
        opts.reservations, len(subnets), result['versions']['kea'], opts.repeats))
    print('%-10s %10s %8s %8s  %s' % ('step', 'seconds', 'reads', 'writes', 'counts'))
    for step in STEPS:
        s = summary[step]
        print('%-10s %10.1f %8d %8d  %s' % (step, s['median_seconds'], s['api_calls']['reads'],
                                            s['api_calls']['writes'], s['counts']))
    print('no-change / first, per repeat: %s; median %.3f (target < 0.10)'
          % (', '.join('%.3f' % r for r in ratios), ratio))
    print('results: %s' % opts.out)
    print('reproduce: %s' % result['command'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
