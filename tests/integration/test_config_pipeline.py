# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config pipeline against the real kea-dhcp4 of Kea 2.2.0, 2.6.3 and 3.0.4.

Kea runs in the lab's check images (scripts/lab/build-images.sh), never on a
managed host: these tests prove the plugin, the validate playbook and the
module's failure paths with Kea's own parser.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(REPO, 'tests', 'integration', 'files')
BIN = os.path.dirname(sys.executable)
CHECK_IMAGE = os.environ.get('DHCPOPS_CHECK_IMAGE_BOOKWORM', 'localhost/dhcpops-kea-check:bookworm')
SECRETS = ('rich-config-db-password', 'rich-config-api-password', 'lifecycle-db-password',
           'validate-only-not-a-secret')

pytestmark = pytest.mark.skipif(shutil.which('podman') is None, reason='needs podman and the lab images')


def ansible_env(**extra):
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    env.update(extra)
    return env


def run(argv, **env):
    proc = subprocess.run(argv, cwd=REPO, env=ansible_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def assert_no_secret(output):
    for secret in SECRETS:
        assert secret not in output, 'a password leaked into the output: %s' % secret


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# ---------------------------------------------------------------------------
# A rich configuration, accepted by every Kea release
# ---------------------------------------------------------------------------

def test_rich_config_is_accepted_by_kea_2_2_2_6_and_3_0(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    rc, out = run([os.path.join(BIN, 'ansible-playbook'), '-v', '--diff',
                   os.path.join(FILES, 'rich', 'rich.yml')], RICH_OUT_DIR=str(tmp_path))
    assert rc == 0, out
    for version in ('2.2.0', '2.6.3', '3.0.4'):
        path = tmp_path / ('kea-%s.json' % version)
        config = json.loads(path.read_text())['Dhcp4']
        assert [s['id'] for s in config['subnet4']] == [10, 20, 30]
        libraries = [h['library'].rsplit('/', 1)[-1] for h in config['hooks-libraries']]
        assert libraries[-2:] == ['libdhcp_lease_cmds.so', 'libdhcp_ha.so']
        assert ('libdhcp_pgsql.so' in libraries) == (version == '3.0.4')
        # Rendered files carry secrets: owner-only.
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert_no_secret(out)


# ---------------------------------------------------------------------------
# The module on a target: stage, kea-dhcp4 -t, swap, backups, failure paths
# ---------------------------------------------------------------------------

def base_args(dest, **extra):
    directory = os.path.dirname(dest)
    args = dict(
        dest=dest, kea_version='2.2.0', interfaces=['lo'],
        subnets=[{'id': 10, 'subnet': '192.0.2.0/24', 'pools': [{'pool': '192.0.2.100 - 192.0.2.199'}],
                  'option-data': [{'name': 'routers', 'data': '192.0.2.1'}]}],
        lease_database={'type': 'memfile', 'persist': False},
        hosts_database={'type': 'postgresql', 'name': 'kea', 'user': 'kea', 'host': '192.0.2.5',
                        'password': 'lifecycle-db-password'},
        # The real kea-dhcp4 of Debian 12, in a container that sees the
        # candidate at the same path it has here.
        validate_command='podman run --rm --network none -v %s:%s:ro,Z %s kea-dhcp4 -t %%s'
                         % (directory, directory, CHECK_IMAGE),
        owner=None, group=None, backups_keep=2,
    )
    args.update(extra)
    return args


def run_module(args, check=False, diff=False):
    argv = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'dhcpops.kea.dhcp4_config', '-a', json.dumps(args)]
    if check:
        argv.append('--check')
    if diff:
        argv.append('--diff')
    rc, out = run(argv, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
    start = out.find('{')
    result = json.loads(out[start:])['plays'][0]['tasks'][0]['hosts']['localhost']
    assert_no_secret(out)
    return rc, result, out


@pytest.fixture
def conf_dir(tmp_path):
    directory = tmp_path / 'etc-kea'
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    return str(directory)


def test_module_lifecycle_on_real_kea(conf_dir):
    dest = os.path.join(conf_dir, 'kea-dhcp4.conf')

    # Check mode on a fresh target predicts the change and writes nothing.
    rc, result, dummy = run_module(base_args(dest), check=True)
    assert rc == 0 and result['changed'] is True
    assert os.listdir(conf_dir) == []

    # First install: validated by Kea, written 0640 (the file holds passwords).
    rc, result, dummy = run_module(base_args(dest), diff=True)
    assert rc == 0, result
    assert result['changed'] is True and result['validation']['rc'] == 0
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640
    assert 'lifecycle-db-password' in open(dest).read()
    assert '********' in result['diff']['after']
    first = sha(dest)
    assert result['checksum'] == first

    # Same data: no change, no backup, byte-identical.
    rc, result, dummy = run_module(base_args(dest))
    assert rc == 0 and result['changed'] is False
    assert sha(dest) == first

    # A change Kea rejects (an interface this machine does not have): the live
    # file stays byte-identical, no candidate is left, Kea's message is shown.
    rc, result, out = run_module(base_args(dest, interfaces=['eth9']))
    assert rc != 0
    assert "interface 'eth9' doesn't exist" in result['msg']
    assert 'was not changed' in result['msg']
    assert sha(dest) == first
    assert sorted(os.listdir(conf_dir)) == ['kea-dhcp4.conf']

    # Real changes: each keeps a backup, and only backups_keep of them stay.
    for lifetime in (600, 700, 800):
        rc, result, dummy = run_module(base_args(dest, globals={'valid-lifetime': lifetime}), diff=True)
        assert rc == 0 and result['changed'] is True, result
        assert os.path.exists(result['backup_file'])
        assert '"valid-lifetime": %d' % lifetime in result['diff']['after']
        assert '********' in result['diff']['before']
    backups = glob.glob(os.path.join(conf_dir, '.kea-dhcp4.conf.*.bak'))
    assert len(backups) == 2
    for backup in backups:
        assert stat.S_IMODE(os.stat(backup).st_mode) == 0o640

    # Check mode after a real change: predicts nothing to do.
    rc, result, dummy = run_module(base_args(dest, globals={'valid-lifetime': 800}), check=True)
    assert rc == 0 and result['changed'] is False


def test_lint_error_stops_before_the_target_is_touched(conf_dir):
    dest = os.path.join(conf_dir, 'kea-dhcp4.conf')
    subnets = [{'id': 10, 'subnet': '10.0.1.0/24', 'pools': [{'pool': '10.0.1.100 - 10.0.1.200'}]},
               {'id': 40, 'subnet': '10.0.0.0/22'}]
    rc, result, dummy = run_module(base_args(dest, subnets=subnets))
    assert rc != 0
    assert 'subnet-overlap' in result['msg']
    assert '10.0.1.0/24' in result['msg'] and '10.0.0.0/22' in result['msg']
    assert os.listdir(conf_dir) == []


@pytest.mark.parametrize('subnets,fragment', [
    ([{'subnet': '10.0.1.0/24'}], "has no 'id'"),
    ([{'id': 1, 'subnet': '10.0.1.0/33'}], '10.0.1.0/33'),
    ([{'id': 1, 'subnet': '10.0.1.0/24', 'pool': [{'pool': '10.0.1.5 - 10.0.1.9'}]}], "'pool'"),
])
def test_bad_input_gets_a_clear_error_and_changes_nothing(conf_dir, subnets, fragment):
    dest = os.path.join(conf_dir, 'kea-dhcp4.conf')
    rc, result, dummy = run_module(base_args(dest, subnets=subnets))
    assert rc != 0
    assert fragment in result['msg']
    assert os.listdir(conf_dir) == []


# ---------------------------------------------------------------------------
# dhcpops.kea.validate: the pull-request check, no connection to any host
# ---------------------------------------------------------------------------

INCIDENT = os.path.join(FILES, 'incident')


def validate(out_dir, *extra):
    os.chmod(str(out_dir), 0o755)
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', os.path.join(INCIDENT, 'inventory.ini'),
            'dhcpops.kea.validate', '-e', 'kea_validate_output_dir=%s' % out_dir] + list(extra)
    rc, out = run(argv)
    assert_no_secret(out)
    return rc, out


def test_validate_accepts_a_clean_site_without_connecting(tmp_path):
    # The inventory's hosts are documentation addresses nobody answers on:
    # any attempt to connect would fail the run.
    rc, out = validate(tmp_path)
    assert rc == 0, out
    assert sorted(os.listdir(str(tmp_path))) == ['kea1.json', 'kea2.json']


def test_validate_finds_relative_reservation_files_beside_the_inventory_not_in_the_role(tmp_path):
    # A site runs the collection's playbooks and keeps its files beside its
    # inventory, named as it likes: reservations.yml and main.yml are also
    # task files of the kea_dhcp4 role, which Ansible's own file search
    # would pick first (a list of tasks, "must be a mapping").
    site = tmp_path / 'site'
    shutil.copytree(INCIDENT, str(site))
    shutil.copy(os.path.join(INCIDENT, 'reservations.yaml'), str(site / 'reservations.yml'))
    os.makedirs(str(site / 'files'))
    (site / 'files' / 'main.yml').write_text(
        'subnets:\n  - id: 10\n    reservations:\n'
        '      - {hw-address: "0a:1b:2c:3d:4e:77", ip-address: 10.0.1.77, hostname: site-file-host}\n')
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    os.chmod(str(out_dir), 0o755)
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', str(site / 'inventory.ini'), 'dhcpops.kea.validate',
            '-e', 'kea_validate_output_dir=%s' % out_dir,
            '-e', json.dumps({'kea_dhcp4_reservations_files': ['reservations.yml', 'main.yml']})]
    rc, out = run(argv)
    assert_no_secret(out)
    assert rc == 0, out
    config = json.loads((out_dir / 'kea1.json').read_text())['Dhcp4']
    hosts = {s['id']: [r['hostname'] for r in s.get('reservations', [])] for s in config['subnet4']}
    assert hosts[30] == ['san-ctrl-a'] and hosts[10] == ['site-file-host'], hosts

    # A name found nowhere says where it was looked for.
    rc, out = run(argv[:-1] + [json.dumps({'kea_dhcp4_reservations_files': ['no-such.yml']})])
    assert rc != 0
    flat = ' '.join(out.split())
    assert 'reservations file no-such.yml not found; looked at:' in flat
    assert os.path.join(str(site), 'files', 'no-such.yml') in flat
    assert '/tasks/no-such.yml' not in flat


def test_validate_rejects_the_incident_reservation_naming_both_sides(tmp_path):
    reservations = [os.path.join(INCIDENT, 'reservations.yaml'),
                    os.path.join(INCIDENT, 'reservation-in-foreign-pool.yaml')]
    rc, out = validate(tmp_path, '-e', json.dumps({'kea_dhcp4_reservations_files': reservations}))
    assert rc != 0
    flat = ' '.join(out.split())
    assert 'reservation-in-foreign-subnet' in flat
    # The reservation: address, MAC, host name, its subnet and its file ...
    for fragment in ('10.0.1.150', '0a:1b:2c:3d:4e:5f', 'san-ctrl-b', 'subnet 30 (10.0.5.0/24)',
                     'reservation-in-foreign-pool.yaml'):
        assert fragment in flat, fragment
    # ... and the other side: the subnet and the dynamic pool it collides with.
    assert 'subnet 10 (10.0.1.0/24)' in flat and '10.0.1.100 - 10.0.1.200' in flat
    assert os.listdir(str(tmp_path)) == [], 'nothing may be written for a rejected configuration'


def test_validate_rejects_a_subnet_overlapping_with_another_prefix_length(tmp_path):
    rc, out = validate(tmp_path, '-e', '@' + os.path.join(INCIDENT, 'overlapping-subnet.yml'))
    assert rc != 0
    flat = ' '.join(out.split())
    assert 'subnet-overlap' in flat
    assert 'subnet 10 (10.0.1.0/24)' in flat and 'subnet 40 (10.0.0.0/22)' in flat
    assert os.listdir(str(tmp_path)) == []


def test_validate_shows_kea_own_message_for_what_only_kea_knows(tmp_path):
    # An option name Kea does not know passes the linter; kea-dhcp4 -t of the
    # host's release rejects it, and its message reaches the pipeline's log.
    subnets = [{'id': 10, 'subnet': '10.0.1.0/24', 'pools': [{'pool': '10.0.1.100 - 10.0.1.200'}],
                'option-data': [{'name': 'no-such-option', 'data': '1'}]},
               {'id': 30, 'subnet': '10.0.5.0/24', 'pools': [{'pool': '10.0.5.100 - 10.0.5.200'}]}]
    rc, out = validate(tmp_path, '-e', json.dumps({'kea_dhcp4_subnets': subnets}))
    assert rc != 0
    flat = ' '.join(out.split())
    assert 'Kea rejected 2 of 2' in flat
    assert 'no-such-option' in flat
