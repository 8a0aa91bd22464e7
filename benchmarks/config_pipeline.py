#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the config pipeline against Kea's own parser, in one run.

1. build + lint + render (dhcpops.kea's module_utils, in process) versus
   `kea-dhcp4 -t` on the same file, for several site sizes: the ratio must
   stay flat (no quadratic step) and below 0.5.
2. The whole `dhcpops.kea.validate` playbook on the largest site, split into
   Ansible's own overhead, build + lint, and Kea's check; against the naive
   path (the site as a vars file, a to_nice_json template, kea-dhcp4 -t).

Kea runs from a local `kea-dhcp4` when one is on PATH, otherwise inside the
lab's check image (`--kea podman:IMAGE`).  Reproduce with:

    make bench            # or: .venv/bin/python benchmarks/config_pipeline.py
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import sitegen  # noqa: E402


def import_collection():
    """Make ansible_collections.dhcpops.kea importable from the checkout."""
    top = os.path.join(REPO, '.cache', 'collections')
    link = os.path.join(top, 'ansible_collections', 'dhcpops', 'kea')
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(REPO, os.path.dirname(link)), link)
    sys.path.insert(0, top)


import_collection()
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import build_dhcp4, render  # noqa: E402
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_lint import lint_dhcp4  # noqa: E402


def median_time(func, repeat):
    times = []
    result = None
    for dummy in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class KeaRunner:
    """Times `kea-dhcp4 -t FILE`, locally or inside a container (timed inside, so start-up is excluded)."""

    def __init__(self, spec):
        self.spec = spec
        if spec == 'local' and not shutil.which('kea-dhcp4'):
            raise SystemExit('no kea-dhcp4 on PATH; use --kea podman:localhost/dhcpops-kea-check:bookworm')

    def describe(self):
        if self.spec == 'local':
            out = subprocess.run(['kea-dhcp4', '-v'], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
            return 'kea-dhcp4 %s (local)' % out.strip()
        return 'kea-dhcp4 in %s' % self.spec.split(':', 1)[1]

    def time_check(self, path, repeat):
        if self.spec == 'local':
            def once():
                proc = subprocess.run(['kea-dhcp4', '-t', path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      check=False)
                if proc.returncode:
                    raise SystemExit('kea-dhcp4 -t rejected %s: %s' % (path, proc.stderr.decode()))
            return median_time(once, repeat)[0]
        image = self.spec.split(':', 1)[1]
        script = ('for i in $(seq %d); do s=$(date +%%s%%N); kea-dhcp4 -t /etc/kea/b/%s >/dev/null || exit 1; '
                  'e=$(date +%%s%%N); echo $((e-s)); done' % (repeat, os.path.basename(path)))
        proc = subprocess.run(['podman', 'run', '--rm', '--network', 'none', '-v',
                               '%s:/etc/kea/b:ro,Z' % os.path.dirname(path), image, 'sh', '-c', script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        if proc.returncode:
            raise SystemExit('kea-dhcp4 -t failed in %s: %s' % (image, proc.stderr))
        return statistics.median(int(x) / 1e9 for x in proc.stdout.split())


def pipeline(subnets, reservation_file):
    config, sources = build_dhcp4(dict(
        subnets=subnets, reservation_sets=[('reservations.json', reservation_file)], kea_version='2.2.0',
        interfaces=['lo'], lease_database={'type': 'memfile', 'persist': False}))
    findings = lint_dhcp4(config['Dhcp4'], sources, {'kea_version': '2.2.0'})
    return render(config), findings


def bench_sizes(sizes, kea, repeat, work):
    rows = []
    for size in sizes:
        subnets, reservation_file = sitegen.make_site(size)
        seconds, (text, findings) = median_time(lambda: pipeline(subnets, reservation_file), repeat)
        errors = [f for f in findings if f.severity == 'error']
        if errors:
            raise SystemExit('generated site has lint errors: %s' % errors[0].message)
        path = os.path.join(work, 'site-%d.json' % size)
        with open(path, 'w') as handle:
            handle.write(text)
        kea_seconds = kea.time_check(path, repeat)
        rows.append(dict(reservations=size, subnets=len(subnets), bytes=len(text.encode()),
                         build_lint_s=round(seconds, 4), kea_check_s=round(kea_seconds, 4),
                         ratio=round(seconds / kea_seconds, 3)))
        print('  %6d reservations, %5d subnets, %5.1f MB: build+lint+render %.3f s, kea-dhcp4 -t %.3f s, '
              'ratio %.2f' % (size, len(subnets), len(text) / 1e6, seconds, kea_seconds, seconds / kea_seconds))
    return rows


def run_playbook(args, cwd, env):
    """Wall time and peak RSS (largest process of the run) of one ansible-playbook run."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    status, usage = os.wait4(proc.pid, 0)[1:]
    seconds = time.perf_counter() - start
    if os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1:
        raise SystemExit('%s failed:\n%s' % (' '.join(args), out.decode(errors='replace')[-3000:]))
    return seconds, usage.ru_maxrss / 1024.0, out.decode(errors='replace')


NAIVE_PLAYBOOK = '''
- name: Naive path, as a hand-written playbook would do it
  hosts: kea_servers
  gather_facts: false
  vars_files:
    - site_vars.yml
  tasks:
    - name: Render with a template
      ansible.builtin.copy:
        content: "{{ {'Dhcp4': {'interfaces-config': {'interfaces': ['lo']},
                     'lease-database': {'type': 'memfile', 'persist': false},
                     'subnet4': kea_site_subnets}} | to_nice_json }}"
        dest: "{{ out_dir }}/naive-{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
    - name: Check with Kea
      ansible.builtin.command: "{{ kea_command }} {{ out_dir }}/naive-{{ inventory_hostname }}.json"
      changed_when: false
      delegate_to: localhost
'''

FLOOR_PLAYBOOK = '''
- name: Ansible's own floor for the same inventory
  hosts: kea_servers
  gather_facts: false
  tasks: []
'''


def bench_ansible(size, kea, repeat, work):
    subnets, reservation_file = sitegen.make_site(size)
    project = os.path.join(work, 'project')
    os.makedirs(os.path.join(project, 'group_vars'), exist_ok=True)
    sitegen.dump_json(reservation_file, os.path.join(project, 'reservations.json'))
    sitegen.dump_yaml(reservation_file, os.path.join(project, 'reservations.yaml'))
    sitegen.dump_yaml({'kea_site_subnets': sitegen.inline_subnets(subnets, reservation_file)},
                      os.path.join(project, 'site_vars.yml'))
    with open(os.path.join(project, 'inventory.ini'), 'w') as handle:
        handle.write('[kea_servers]\nkea1 ansible_connection=local ansible_python_interpreter=%s\n'
                     % sys.executable)
    with open(os.path.join(project, 'group_vars', 'kea_servers.yml'), 'w') as handle:
        json.dump({'kea_dhcp4_version': '2.2.0', 'kea_dhcp4_interfaces': ['lo'],
                   'kea_dhcp4_lease_database': {'type': 'memfile', 'persist': False},
                   'kea_dhcp4_subnets': subnets}, handle)
    for name, text in (('naive.yml', NAIVE_PLAYBOOK), ('floor.yml', FLOOR_PLAYBOOK)):
        with open(os.path.join(project, name), 'w') as handle:
            handle.write(text)

    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'))
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    kea_method = ['-e', 'kea_validate_method=local'] if kea.spec == 'local' else \
        ['-e', 'kea_validate_method=podman', '-e', 'kea_validate_image=%s' % kea.spec.split(':', 1)[1]]
    runs = {
        'floor': [playbook, '-i', 'inventory.ini', 'floor.yml'],
        'validate_json': [playbook, '-i', 'inventory.ini', 'dhcpops.kea.validate', '-e',
                          '{"kea_dhcp4_reservations_files": ["%s"]}' % os.path.join(project, 'reservations.json')]
        + kea_method,
        'validate_yaml': [playbook, '-i', 'inventory.ini', 'dhcpops.kea.validate', '-e',
                          '{"kea_dhcp4_reservations_files": ["%s"]}' % os.path.join(project, 'reservations.yaml')]
        + kea_method,
        'naive': [playbook, '-i', 'inventory.ini', 'naive.yml', '-e', json.dumps(dict(
            out_dir=work,
            kea_command='kea-dhcp4 -t' if kea.spec == 'local' else
            'podman run --rm --network none -v %s:%s:ro,Z %s kea-dhcp4 -t' % (work, work, kea.spec.split(':', 1)[1])))],
    }
    results = {}
    for name, argv in runs.items():
        samples = [run_playbook(argv, project, env) for dummy in range(repeat if name != 'naive' else 1)]
        seconds = statistics.median(s[0] for s in samples)
        peak = max(s[1] for s in samples)
        results[name] = dict(seconds=round(seconds, 2), peak_rss_mb=round(peak, 1), runs=len(samples))
        plural = '' if len(samples) == 1 else 's'
        print('  %-14s %7.2f s  peak RSS %6.1f MB  (%d run%s)' % (name, seconds, peak, len(samples), plural))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='5000,10000,25000,50000')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--kea', default='local' if shutil.which('kea-dhcp4') else
                        'podman:localhost/dhcpops-kea-check:bookworm',
                        help="'local' or 'podman:IMAGE'")
    parser.add_argument('--skip-ansible', action='store_true', help='only the in-process comparison')
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'config_pipeline.json'))
    opts = parser.parse_args()
    sizes = [int(s) for s in opts.sizes.split(',')]
    kea = KeaRunner(opts.kea)

    work = tempfile.mkdtemp(prefix='dhcpops-bench-')
    os.chmod(work, 0o755)
    try:
        print('machine: %s, %d cores, Python %s; %s' % (platform.platform(), os.cpu_count(),
                                                        platform.python_version(), kea.describe()))
        print('1. build + lint + render vs kea-dhcp4 -t (median of %d)' % opts.repeat)
        sizes_rows = bench_sizes(sizes, kea, opts.repeat, work)
        ansible = None
        if not opts.skip_ansible:
            print('2. whole playbooks on the %d-reservation site' % sizes[-1])
            ansible = bench_ansible(sizes[-1], kea, opts.repeat, work)
            largest = sizes_rows[-1]
            ansible['split_validate_json'] = dict(
                ansible_overhead_s=round(ansible['validate_json']['seconds'] - largest['build_lint_s']
                                         - largest['kea_check_s'], 2),
                build_lint_s=largest['build_lint_s'], kea_check_s=largest['kea_check_s'])
            ansible['ratio_validate_json_to_naive'] = round(
                ansible['validate_json']['seconds'] / ansible['naive']['seconds'], 3)
            ansible['ratio_validate_yaml_to_naive'] = round(
                ansible['validate_yaml']['seconds'] / ansible['naive']['seconds'], 3)
            print('  validate.yml (JSON reservations) / naive: %.3f; (YAML reservations) / naive: %.3f'
                  % (ansible['ratio_validate_json_to_naive'], ansible['ratio_validate_yaml_to_naive']))
        result = dict(machine=dict(platform=platform.platform(), cores=os.cpu_count(),
                                   python=platform.python_version(), kea=kea.describe()),
                      repeat=opts.repeat, sizes=sizes_rows, ansible=ansible,
                      command='.venv/bin/python benchmarks/config_pipeline.py --sizes %s --repeat %d --kea %s'
                      % (opts.sizes, opts.repeat, opts.kea))
        os.makedirs(os.path.dirname(opts.out), exist_ok=True)
        with open(opts.out, 'w') as handle:
            json.dump(result, handle, indent=2)
        print('results: %s\nreproduce: %s' % (os.path.relpath(opts.out, REPO), result['command']))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
