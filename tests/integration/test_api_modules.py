# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kea_command and kea_ha against the real Kea 2.2.0 and 3.0.4 of the lab's check images.

Kea 2.2.0 (Debian 12) runs kea-dhcp4 behind kea-ctrl-agent; Kea 3.0.4
(Debian forky) serves HTTP and HTTPS control sockets from kea-dhcp4 itself.
Both keep their unix control socket in a host directory mounted at
/run/kea, and publish their API on a random 127.0.0.1 port, so the modules
run on localhost exactly as they would on a Kea server: one
ansible-playbook run per release, every result checked here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
IMAGES = {
    '2.2.0': os.environ.get('DHCPOPS_CHECK_IMAGE_BOOKWORM', 'localhost/dhcpops-kea-check:bookworm'),
    '3.0.4': os.environ.get('DHCPOPS_CHECK_IMAGE_FORKY', 'localhost/dhcpops-kea-check:forky'),
}
HOOKS = '/usr/lib/x86_64-linux-gnu/kea/hooks'
API_USER = 'kea-api'
API_PASSWORD = 'itest-api-secret-6c1f'
FILE_USER = 'kea-file'
FILE_PASSWORD = 'itest-file-secret-92de'
CONTEXT_PASSWORD = 'itest-context-secret-0b7a'
CANDIDATE_PASSWORD = 'itest-candidate-secret-4e55'
SECRETS = (API_PASSWORD, FILE_PASSWORD, CONTEXT_PASSWORD, CANDIDATE_PASSWORD, 'itest-wrong-pass-77')

pytestmark = pytest.mark.skipif(shutil.which('podman') is None, reason='needs podman and the lab images')


def podman(*args, **kwargs):
    return subprocess.run(['podman'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=kwargs.get('check', True)).stdout


def image_exists(image):
    return subprocess.run(['podman', 'image', 'exists', image], check=False).returncode == 0


# ---------------------------------------------------------------------------
# Kea configurations
# ---------------------------------------------------------------------------

def dhcp4_config(version, candidate=False):
    dhcp4 = {
        'interfaces-config': {'interfaces': []},
        'lease-database': {'type': 'memfile', 'persist': False},
        'hooks-libraries': [{'library': HOOKS + '/libdhcp_lease_cmds.so'}],
        # Somewhere for config-get to return a password in clear text on every release.
        'user-context': {'backup-db': {'user': 'kea', 'password': CONTEXT_PASSWORD}},
        'subnet4': [{'id': 1, 'subnet': '192.0.2.0/24', 'pools': [{'pool': '192.0.2.10 - 192.0.2.20'}]}],
    }
    logger_options = 'output_options' if version == '2.2.0' else 'output-options'
    dhcp4['loggers'] = [{'name': 'kea-dhcp4', 'severity': 'INFO', logger_options: [{'output': 'stdout'}]}]
    unix = {'socket-type': 'unix', 'socket-name': '/run/kea/kea4-ctrl-socket'}
    if version == '2.2.0':
        dhcp4['control-socket'] = unix
    else:
        auth = {'type': 'basic', 'realm': 'kea', 'directory': '/cfg', 'clients': [
            {'user': API_USER, 'password': API_PASSWORD},
            # Kea reads this one from a file, as the role sets it up.
            {'user': FILE_USER, 'password-file': 'api-password'}]}
        dhcp4['control-sockets'] = [
            unix,
            {'socket-type': 'http', 'socket-address': '0.0.0.0', 'socket-port': 8000, 'authentication': auth},
            {'socket-type': 'https', 'socket-address': '0.0.0.0', 'socket-port': 8443, 'authentication': auth,
             'trust-anchor': '/cfg/tls/ca.pem', 'cert-file': '/cfg/tls/server.pem', 'key-file': '/cfg/tls/server.key',
             'cert-required': True},
        ]
    if candidate:
        dhcp4['valid-lifetime'] = 1234
        dhcp4['user-context'] = {'backup-db': {'user': 'kea', 'password': CANDIDATE_PASSWORD}}
    return {'Dhcp4': dhcp4}


def ctrl_agent_config():
    return {'Control-agent': {
        'http-host': '0.0.0.0', 'http-port': 8000,
        'authentication': {'type': 'basic', 'realm': 'kea', 'clients': [{'user': API_USER, 'password': API_PASSWORD}]},
        'control-sockets': {'dhcp4': {'socket-type': 'unix', 'socket-name': '/run/kea/kea4-ctrl-socket'}},
        'loggers': [{'name': 'kea-ctrl-agent', 'severity': 'INFO', 'output_options': [{'output': 'stdout'}]}],
    }}


def make_tls(directory):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    os.makedirs(directory)
    ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

    def openssl(*args):
        subprocess.run(['openssl'] + list(args), cwd=directory, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    openssl('req', '-x509', *(ec + ['-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=apitest-ca']))
    for name, ext in (('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
                      ('client', 'extendedKeyUsage=clientAuth\n')):
        with open(os.path.join(directory, name + '.ext'), 'w') as handle:
            handle.write(ext)
        openssl('req', *(ec + ['-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=apitest-' + name]))
        openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
                '-out', name + '.pem', '-days', '2', '-extfile', name + '.ext')
    for name in os.listdir(directory):
        os.chmod(os.path.join(directory, name), 0o644)


# ---------------------------------------------------------------------------
# One Kea per release, for the whole module
# ---------------------------------------------------------------------------

class Kea(object):
    def __init__(self, version, workdir):
        self.version = version
        self.workdir = workdir
        self.name = 'apitest-%s-%s' % (version.replace('.', ''), uuid.uuid4().hex[:6])
        self.cfg = os.path.join(workdir, 'cfg')
        self.run = os.path.join(workdir, 'run')
        self.socket = os.path.join(self.run, 'kea4-ctrl-socket')
        self.url = None
        self.tls_url = None

    def write(self, name, document, mode=0o644):
        path = os.path.join(self.cfg, name)
        with open(path, 'w') as handle:
            if isinstance(document, str):
                handle.write(document)
            else:
                json.dump(document, handle, indent=1)
        os.chmod(path, mode)
        return path

    def start(self):
        os.makedirs(self.cfg)
        os.makedirs(self.run)
        os.chmod(self.cfg, 0o755)
        # Kea 2.4.2+ refuses a socket directory more open than 0750.
        os.chmod(self.run, 0o750)
        self.write('kea-dhcp4.conf', dhcp4_config(self.version))
        # As an operator writes it: with a final newline, which Kea drops.
        self.password_file = self.write('api-password', FILE_PASSWORD + '\n', 0o600)
        ports = ['-p', '127.0.0.1::8000']
        if self.version == '2.2.0':
            self.write('kea-ctrl-agent.conf', ctrl_agent_config())
            command = ['sh', '-c', 'kea-dhcp4 -c /cfg/kea-dhcp4.conf & exec kea-ctrl-agent -c /cfg/kea-ctrl-agent.conf']
        else:
            make_tls(os.path.join(self.cfg, 'tls'))
            ports += ['-p', '127.0.0.1::8443']
            command = ['kea-dhcp4', '-c', '/cfg/kea-dhcp4.conf']
        podman('run', '-d', '--name', self.name, '--network', 'podman', *ports,
               '-v', '%s:/cfg:ro,Z' % self.cfg, '-v', '%s:/run/kea:Z' % self.run, IMAGES[self.version], *command)
        self.url = 'http://%s/' % podman('port', self.name, '8000/tcp').split()[0]
        if self.version != '2.2.0':
            self.tls_url = 'https://%s/' % podman('port', self.name, '8443/tcp').split()[0]
        self.wait_ready()

    def wait_ready(self, timeout=30):
        host, port = self.url[len('http://'):-1].rsplit(':', 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket):
                try:
                    socket.create_connection((host, int(port)), timeout=1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError('Kea %s did not come up:\n%s' % (self.version, self.logs()))

    def logs(self):
        return podman('logs', '--tail', '40', self.name, check=False)

    def stop(self):
        podman('rm', '-f', '-t', '0', self.name, check=False)


@pytest.fixture(scope='module', params=['2.2.0', '3.0.4'])
def kea(request, tmp_path_factory):
    image = IMAGES[request.param]
    if not image_exists(image):
        pytest.skip('image %s missing (make images)' % image)
    server = Kea(request.param, str(tmp_path_factory.mktemp('kea-%s' % request.param)))
    try:
        server.start()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# Running the modules: one playbook, every task's result
# ---------------------------------------------------------------------------

def run_playbook(tmp_path, tasks):
    playbook = [{'name': 'Kea API', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    path = tmp_path / 'play.yml'
    path.write_text(json.dumps(playbook))
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_NOCOLOR='1')
    # The modules run where they would on a Kea server: here, with this Python.
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % sys.executable, str(path)]
    proc = subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    out = proc.stdout
    for secret in SECRETS:
        assert secret not in out, 'a password leaked into the output'
    report = json.loads(out[out.find('{'):])
    results = {}
    for task in report['plays'][0]['tasks']:
        results[task['task']['name']] = task['hosts']['localhost']
    assert len(results) == len(tasks), out
    return results


def task(name, module, check_mode=False, **args):
    entry = {'name': name, 'dhcpops.kea.' + module: args, 'ignore_errors': True}
    if check_mode:
        entry['check_mode'] = True
    return entry


def http(kea, **extra):
    args = dict(api_url=kea.url, api_user=API_USER, api_password=API_PASSWORD)
    args.update(extra)
    return args


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

def test_kea_command_and_kea_ha_on_real_kea(kea, tmp_path):
    candidate = kea.write('kea-dhcp4.conf.candidate', dhcp4_config(kea.version, candidate=True), 0o600)
    broken = dhcp4_config(kea.version, candidate=True)
    broken['Dhcp4']['subnet4'][0]['pools'] = [{'pool': '198.51.100.10 - 198.51.100.20'}]
    broken = kea.write('kea-dhcp4.conf.broken', broken, 0o600)
    lease = {'ip-address': '192.0.2.15', 'hw-address': '0a:00:27:00:00:15'}
    tasks = [
        # Check mode first: the lease must not exist when it is really added.
        task('lease add in check mode', 'kea_command', check_mode=True, command='lease4-add', arguments=lease,
             **http(kea)),
        task('config-get in check mode', 'kea_command', check_mode=True, command='config-get', **http(kea)),
        task('http status', 'kea_command', command='status-get', **http(kea)),
        task('socket status', 'kea_command', command='status-get', api_socket=kea.socket),
        task('wrong password', 'kea_command', command='status-get', **http(kea, api_password='itest-wrong-pass-77')),
        task('no credentials', 'kea_command', command='status-get', api_url=kea.url),
        task('config-get', 'kea_command', command='config-get', **http(kea)),
        task('config-test good', 'kea_command', command='config-test', arguments_file=candidate, **http(kea)),
        task('config-test broken', 'kea_command', command='config-test', arguments_file=broken,
             api_socket=kea.socket),
        task('lease not there', 'kea_command', command='lease4-get', arguments={'ip-address': lease['ip-address']},
             **http(kea)),
        task('lease add', 'kea_command', command='lease4-add', arguments=lease, **http(kea)),
        task('lease there', 'kea_command', command='lease4-get', arguments={'ip-address': lease['ip-address']},
             api_socket=kea.socket),
        task('config-hash-get', 'kea_command', command='config-hash-get', **http(kea)),
        task('ha on a server without ha', 'kea_ha', **http(kea)),
    ]
    if kea.version == '2.2.0':
        # Without "service" the Control Agent answers by itself.
        tasks.append(task('agent itself', 'kea_command', command='status-get', **http(kea, api_service='')))
    else:
        tasks += [
            task('password file', 'kea_command', command='version-get', api_url=kea.url, api_user=FILE_USER,
                 api_password_file=kea.password_file),
            task('no service', 'kea_command', command='status-get', **http(kea, api_service='')),
            task('tls', 'kea_command', command='version-get', **http(
                kea, api_url=kea.tls_url, api_ca_path=os.path.join(kea.cfg, 'tls', 'ca.pem'),
                api_client_cert=os.path.join(kea.cfg, 'tls', 'client.pem'),
                api_client_key=os.path.join(kea.cfg, 'tls', 'client.key'))),
            task('tls without client cert', 'kea_command', command='version-get', **http(
                kea, api_url=kea.tls_url, api_ca_path=os.path.join(kea.cfg, 'tls', 'ca.pem'))),
            task('tls unknown ca', 'kea_command', command='version-get', **http(kea, api_url=kea.tls_url)),
        ]
    r = run_playbook(tmp_path, tasks)
    logs = kea.logs()

    # The same kea-dhcp4 answers over HTTP and over its unix socket.
    for name in ('http status', 'socket status'):
        assert r[name].get('failed') is not True, (r[name].get('msg'), logs)
        assert r[name]['result'] == 0 and r[name]['changed'] is False
    assert r['http status']['arguments']['pid'] == r['socket status']['arguments']['pid']
    assert 'sockets' in r['http status']['arguments'], 'the answer came from kea-dhcp4, not from the agent'

    assert r['wrong password']['failed'] is True
    assert r['wrong password']['msg'] == 'the Kea API at %s refused the credentials of user kea-api (HTTP 401)' % kea.url
    assert r['wrong password']['http_status'] == 401
    assert r['no credentials']['failed'] is True and r['no credentials']['http_status'] == 401

    config = r['config-get']['arguments']['Dhcp4']
    assert config['user-context']['backup-db'] == {'user': 'kea', 'password': '********'}
    if kea.version != '2.2.0':
        clients = config['control-sockets'][1]['authentication']['clients']
        assert clients[0] == {'user': API_USER, 'password': '********'}

    assert r['config-test good']['result'] == 0, r['config-test good']
    assert 'Configuration seems sane' in r['config-test good']['text']
    assert r['config-test broken']['failed'] is True and r['config-test broken']['result'] == 1
    assert 'does not match the prefix of a subnet' in r['config-test broken']['msg']

    # Check mode sends what only reads, and nothing else.
    assert r['lease add in check mode']['changed'] is True
    assert r['lease add in check mode']['skipped_in_check_mode'] is True
    assert r['lease add in check mode']['result'] is None
    assert r['config-get in check mode']['result'] == 0 and 'Dhcp4' in r['config-get in check mode']['arguments']

    # "not found" is an answer, not a failure; the lease really is written.
    assert r['lease not there'].get('failed') is not True
    assert (r['lease not there']['result'], r['lease not there']['outcome']) == (3, 'empty')
    assert r['lease add']['changed'] is True and r['lease add']['result'] == 0
    assert r['lease there']['arguments']['hw-address'] == lease['hw-address']

    if kea.version == '2.2.0':
        # Kea 2.2.0 has no config-hash-get.
        assert r['config-hash-get']['failed'] is True and r['config-hash-get']['outcome'] == 'unsupported'
        assert 'pid' in r['agent itself']['arguments'] and 'sockets' not in r['agent itself']['arguments']
        assert r['agent itself']['arguments']['pid'] != r['http status']['arguments']['pid']
    else:
        assert r['config-hash-get']['result'] == 0 and len(r['config-hash-get']['arguments']['hash']) == 64
        assert r['password file']['text'] == '3.0.4', r['password file']
        assert r['no service']['arguments']['pid'] == r['http status']['arguments']['pid']
        assert r['tls']['text'] == '3.0.4', r['tls']
        assert r['tls without client cert']['failed'] is True
        assert 'client certificate' in r['tls without client cert']['msg']
        assert r['tls unknown ca']['failed'] is True
        assert 'CERTIFICATE_VERIFY_FAILED' in r['tls unknown ca']['msg']
        assert 'api_ca_path' in r['tls unknown ca']['msg']

    ha = r['ha on a server without ha']
    assert ha['failed'] is True
    assert ha['msg'].startswith('HA is not configured on the Kea API at %s' % kea.url)
    assert "'ha-heartbeat' command not supported" in ha['msg']
