# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/kea_exporter/files/dhcpops-kea-ha-exporter: status-get to kea_ha_* metrics.

The parsing is tested on status-get answers shaped like Kea's (2.2: no
server names; newer releases such as 3.0: with them). A tiny fake Kea on 127.0.0.1 tests only
the HTTP plumbing (headers, credentials, errors, the cache); the molecule
scenario ``ha`` tests the exporter against a real Kea pair.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import base64
import importlib.machinery
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, 'roles', 'kea_exporter', 'files', 'dhcpops-kea-ha-exporter')

# A password with every character that needs percent-encoding in a URL.
PASSWORD = 'l@b:0nly/ha%exp#rter?'
USER = 'kea-exporter'


def load_exporter():
    loader = importlib.machinery.SourceFileLoader('dhcpops_kea_ha_exporter', SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    # No __pycache__ next to the role's files.
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


exporter = load_exporter()


def url_with_credentials(port, user=USER, password=PASSWORD):
    quote = urllib.parse.quote
    return 'http://%s:%s@127.0.0.1:%d/' % (quote(user, safe=''), quote(password, safe=''), port)


# -- answers shaped like Kea's ---------------------------------------------------

def remote(**overrides):
    base = {'age': 1, 'in-touch': True, 'role': 'standby', 'last-scopes': [], 'last-state': 'hot-standby',
            'communication-interrupted': False, 'connecting-clients': 0, 'unacked-clients': 0,
            'unacked-clients-left': 0, 'analyzed-packets': 0}
    base.update(overrides)
    return base


def status(relationships, result=0):
    """A status-get answer as Kea's HTTP API sends it: a one-element list."""
    arguments = {'pid': 4242, 'uptime': 300, 'reload': 300, 'multi-threading-enabled': True,
                 'thread-pool-size': 2, 'packet-queue-size': 64}
    if relationships is not None:
        arguments['high-availability'] = relationships
    return [{'result': result, 'text': '', 'arguments': arguments}]


# Kea 2.2.0 (Debian 12), primary of a hot-standby pair in its normal state:
# no server names in the answer.
KEA22_PRIMARY = status([{'ha-mode': 'hot-standby', 'ha-servers': {
    'local': {'role': 'primary', 'scopes': ['ha-kea1'], 'state': 'hot-standby'},
    'remote': remote()}}])

# status-get of the standby of a real Kea 2.2.0 pair (Debian 12, the lab's
# hot-standby pair), as its "high-availability" part came back.
KEA22_STANDBY_CAPTURED = status([{
    'ha-mode': 'hot-standby',
    'ha-servers': {
        'local': {'role': 'standby', 'scopes': [], 'state': 'hot-standby'},
        'remote': {'age': 1, 'analyzed-packets': 0, 'communication-interrupted': False, 'connecting-clients': 0,
                   'in-touch': True, 'last-scopes': ['lab-kea1'], 'last-state': 'hot-standby', 'role': 'primary',
                   'unacked-clients': 0, 'unacked-clients-left': 0}}}])

# Kea 3.0 names both servers; the standby after the primary died.
KEA30_SURVIVOR = status([{'ha-mode': 'hot-standby', 'ha-servers': {
    'local': {'server-name': 'hf-kea2', 'role': 'standby', 'scopes': ['hf-kea1'], 'state': 'partner-down'},
    'remote': remote(**{'server-name': 'hf-kea1', 'role': 'primary', 'age': 7, 'last-state': 'unavailable',
                        'last-scopes': ['hf-kea1'], 'communication-interrupted': True, 'unacked-clients': 3,
                        'connecting-clients': 5, 'analyzed-packets': 12})}}])


def parse(text):
    """{(metric, frozenset(labels)): value} of a Prometheus text page, checking its shape."""
    out = {}
    declared = set()
    for line in text.splitlines():
        if line.startswith('# HELP '):
            continue
        if line.startswith('# TYPE '):
            dummy, dummy2, name, kind = line.split(' ')
            assert kind == 'gauge'
            declared.add(name)
            continue
        match = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        assert match, 'not a sample line: %r' % line
        name, labels, value = match.groups()
        assert name in declared, '%s has no TYPE line before it' % name
        pairs = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', labels or ''))
        key = (name, pairs)
        assert key not in out, 'duplicate series %r' % (key,)
        out[key] = float(value)
    return out


def value(page, name, **labels):
    return page[(name, frozenset(labels.items()))]


def series(page, name):
    return dict((k[1], v) for k, v in page.items() if k[0] == name)


def render_status(document, server='', partner=''):
    return parse(exporter.render(exporter.samples_from_status(exporter.answer_arguments(document), server, partner)))


# -- parsing -----------------------------------------------------------------------

def test_kea22_answer_takes_the_names_from_the_role():
    page = render_status(KEA22_PRIMARY, 'ha-kea1', 'ha-kea2')
    ids = dict(server='ha-kea1', role='primary', partner='ha-kea2')
    assert value(page, 'kea_ha_up') == 1
    assert value(page, 'kea_ha_configured') == 1
    assert value(page, 'kea_ha_info', mode='hot-standby', partner_role='standby', **ids) == 1
    local = series(page, 'kea_ha_local_state')
    # A state-set: every known state, exactly one of them 1.
    assert sorted(dict(k)['state'] for k in local) == sorted(exporter.KNOWN_STATES)
    assert [dict(k)['state'] for k, v in local.items() if v == 1] == ['hot-standby']
    assert all(dict(k)['server'] == 'ha-kea1' and dict(k)['partner'] == 'ha-kea2' for k in local)
    assert value(page, 'kea_ha_partner_state', state='hot-standby', **ids) == 1
    assert value(page, 'kea_ha_partner_state', state='partner-down', **ids) == 0
    assert value(page, 'kea_ha_local_scopes', scope='ha-kea1', **ids) == 1
    assert series(page, 'kea_ha_partner_scopes') == {}
    assert value(page, 'kea_ha_communication_interrupted', **ids) == 0
    assert value(page, 'kea_ha_partner_in_touch', **ids) == 1
    assert value(page, 'kea_ha_partner_age_seconds', **ids) == 1
    assert value(page, 'kea_ha_partner_unacked_clients', **ids) == 0
    assert value(page, 'kea_ha_partner_connecting_clients', **ids) == 0
    assert value(page, 'kea_ha_partner_analyzed_packets', **ids) == 0


def test_captured_kea22_standby():
    page = render_status(KEA22_STANDBY_CAPTURED, 'lab-kea2', 'lab-kea1')
    ids = dict(server='lab-kea2', role='standby', partner='lab-kea1')
    assert value(page, 'kea_ha_local_state', state='hot-standby', **ids) == 1
    assert value(page, 'kea_ha_partner_state', state='hot-standby', **ids) == 1
    # The standby of a hot-standby pair serves no scope; the primary serves its own.
    assert series(page, 'kea_ha_local_scopes') == {}
    assert value(page, 'kea_ha_partner_scopes', scope='lab-kea1', **ids) == 1
    assert value(page, 'kea_ha_info', mode='hot-standby', partner_role='primary', **ids) == 1
    assert value(page, 'kea_ha_partner_age_seconds', **ids) == 1


def test_names_in_the_answer_win_over_the_role_s():
    page = render_status(KEA30_SURVIVOR, 'from-role-1', 'from-role-2')
    ids = dict(server='hf-kea2', role='standby', partner='hf-kea1')
    assert value(page, 'kea_ha_local_state', state='partner-down', **ids) == 1
    assert value(page, 'kea_ha_local_state', state='hot-standby', **ids) == 0
    assert value(page, 'kea_ha_partner_state', state='unavailable', **ids) == 1
    assert value(page, 'kea_ha_communication_interrupted', **ids) == 1
    assert value(page, 'kea_ha_partner_age_seconds', **ids) == 7
    assert value(page, 'kea_ha_partner_unacked_clients', **ids) == 3
    assert value(page, 'kea_ha_partner_connecting_clients', **ids) == 5
    assert value(page, 'kea_ha_partner_analyzed_packets', **ids) == 12
    assert value(page, 'kea_ha_partner_scopes', scope='hf-kea1', **ids) == 1
    assert value(page, 'kea_ha_info', mode='hot-standby', partner_role='primary', **ids) == 1


def test_kea_without_ha_gives_up_and_configured_0_only():
    text = exporter.render(exporter.samples_from_status(exporter.answer_arguments(status(None))))
    assert parse(text) == {('kea_ha_up', frozenset()): 1, ('kea_ha_configured', frozenset()): 0}
    assert 'kea_ha_up 1\n' in text and 'kea_ha_configured 0\n' in text


def test_unknown_and_empty_states():
    # A state this exporter does not know yet is still reported as current;
    # Kea's empty string (state not known) sets no state.
    doc = status([{'ha-mode': 'load-balancing', 'ha-servers': {
        'local': {'role': 'primary', 'scopes': [], 'state': 'some-future-state'},
        'remote': remote(role='secondary', **{'last-state': '', 'in-touch': False, 'age': 0})}}])
    page = render_status(doc, 'a', 'b')
    local = series(page, 'kea_ha_local_state')
    assert [dict(k)['state'] for k, v in local.items() if v == 1] == ['some-future-state']
    assert len(local) == len(exporter.KNOWN_STATES) + 1
    partner = series(page, 'kea_ha_partner_state')
    assert len(partner) == len(exporter.KNOWN_STATES) and not any(partner.values())
    assert value(page, 'kea_ha_partner_in_touch', server='a', role='primary', partner='b') == 0


def test_backup_server_has_no_partner_metrics():
    # Kea leaves out the remote part on a backup server and in passive-backup mode.
    doc = status([{'ha-mode': 'passive-backup', 'ha-servers': {
        'local': {'role': 'primary', 'scopes': ['p'], 'state': 'passive-backup'}}}])
    page = render_status(doc, 'p', '')
    assert value(page, 'kea_ha_local_state', server='p', role='primary', partner='', state='passive-backup') == 1
    assert not [k for k in page if k[0].startswith('kea_ha_partner') or k[0] == 'kea_ha_communication_interrupted']


def test_missing_fields_are_left_out_not_invented():
    doc = status([{'ha-mode': 'hot-standby', 'ha-servers': {
        'local': {'role': 'primary', 'state': 'waiting'},
        'remote': {'role': 'standby', 'last-state': 'waiting', 'in-touch': True}}}])
    page = render_status(doc, 'a', 'b')
    assert value(page, 'kea_ha_partner_in_touch', server='a', role='primary', partner='b') == 1
    assert not series(page, 'kea_ha_communication_interrupted')
    assert not series(page, 'kea_ha_partner_age_seconds')
    assert not series(page, 'kea_ha_local_scopes')


def test_label_values_are_escaped():
    doc = status([{'ha-mode': 'hot-standby', 'ha-servers': {
        'local': {'server-name': 'odd "name"\\x\ny', 'role': 'primary', 'scopes': [], 'state': 'hot-standby'},
        'remote': remote()}}])
    text = exporter.render(exporter.samples_from_status(exporter.answer_arguments(doc)))
    assert 'server="odd \\"name\\"\\\\x\\ny"' in text
    parse(text)


@pytest.mark.parametrize('document', [
    [],
    [{'text': 'no result'}],
    [{'result': 1, 'text': 'unable to forward command to the dhcp4 service'}],
    [{'result': 2, 'text': "'status-get' command not supported."}],
    'a string',
])
def test_answers_that_are_not_a_success_raise(document):
    with pytest.raises(exporter.KeaError):
        exporter.answer_arguments(document)


def test_a_bare_object_is_accepted_too():
    assert exporter.answer_arguments(KEA22_PRIMARY[0])['pid'] == 4242


def test_the_script_needs_only_the_standard_library():
    with open(SCRIPT, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split('.')[0])
    stdlib = getattr(sys, 'stdlib_module_names', None)
    if stdlib is None:
        pytest.skip('needs Python 3.10+ for sys.stdlib_module_names')
    assert names and names <= set(stdlib), names - set(stdlib)


# -- HTTP plumbing against a fake Kea -------------------------------------------

class FakeKea(object):
    """An HTTP server on 127.0.0.1 that answers every POST with a canned status-get."""

    def __init__(self, answer, status_code=200):
        self.answer = answer
        self.status_code = status_code
        self.requests = []
        fake = self

        class KeaHandler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                fake.requests.append({'path': self.path, 'headers': dict(self.headers), 'body': json.loads(body)})
                payload = json.dumps(fake.answer if fake.status_code == 200 else
                                     [{'result': 401, 'text': 'Unauthorized'}]).encode()
                self.send_response(fake.status_code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(('127.0.0.1', 0), KeaHandler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def scrape(port, path='/metrics'):
    with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=10) as resp:
        return resp.status, resp.headers.get('Content-Type'), resp.read().decode()


@pytest.fixture
def serve():
    """serve(url, **collector_kwargs) -> the exporter's port; servers stop after the test."""
    servers = []

    def start(url, **kwargs):
        collector = exporter.Collector(exporter.KeaClient(url, timeout=kwargs.pop('timeout', 2.0)), **kwargs)
        server = exporter.make_server('127.0.0.1', 0, collector)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_scrape_sends_status_get_with_credentials(serve):
    with FakeKea(KEA22_PRIMARY) as kea:
        port = serve(url_with_credentials(kea.port), server_name='ha-kea1', partner_name='ha-kea2')
        code, content_type, text = scrape(port)
    assert code == 200
    assert content_type == 'text/plain; version=0.0.4; charset=utf-8'
    assert 'kea_ha_up 1\n' in text
    assert ('kea_ha_local_state{partner="ha-kea2",role="primary",server="ha-kea1",state="hot-standby"} 1\n'
            in text)
    request, = kea.requests
    assert request['path'] == '/'
    assert request['headers']['Content-Type'] == 'application/json'
    assert request['body'] == {'command': 'status-get', 'service': ['dhcp4']}
    user, dummy, password = base64.b64decode(request['headers']['Authorization'].split(' ', 1)[1]).decode().partition(':')
    assert (user, password) == (USER, PASSWORD)


def test_answers_are_cached_for_a_second(serve):
    with FakeKea(KEA22_PRIMARY) as kea:
        port = serve(url_with_credentials(kea.port), cache_seconds=1.0)
        scrape(port)
        scrape(port)
        assert len(kea.requests) == 1
        time.sleep(1.1)
        scrape(port)
        assert len(kea.requests) == 2


def test_other_paths(serve):
    with FakeKea(KEA22_PRIMARY) as kea:
        port = serve(url_with_credentials(kea.port))
        assert scrape(port, '/')[0] == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            scrape(port, '/nothing')
        assert err.value.code == 404
        assert kea.requests == []


def test_refused_credentials_give_up_0_and_no_password(serve, caplog):
    caplog.set_level(logging.INFO)
    with FakeKea(KEA22_PRIMARY, status_code=401) as kea:
        port = serve(url_with_credentials(kea.port), cache_seconds=0)
        dummy, dummy2, text = scrape(port)
        scrape(port)
    assert parse(text) == {('kea_ha_up', frozenset()): 0}
    assert PASSWORD not in text and PASSWORD not in caplog.text
    assert urllib.parse.quote(PASSWORD, safe='') not in caplog.text
    assert 'refused the credentials (HTTP 401)' in caplog.text and USER in caplog.text
    # Logged once, not on every scrape.
    assert caplog.text.count('HTTP 401') == 1


def test_kea_not_answering_gives_up_0(serve, caplog):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed_port = sock.getsockname()[1]
    port = serve(url_with_credentials(closed_port))
    dummy, dummy2, text = scrape(port)
    assert parse(text) == {('kea_ha_up', frozenset()): 0}
    assert PASSWORD not in caplog.text


def test_kea_that_hangs_times_out(serve):
    with socket.socket() as listener:
        # Accepts connections (backlog) but never answers.
        listener.bind(('127.0.0.1', 0))
        listener.listen(5)
        port = serve(url_with_credentials(listener.getsockname()[1]), timeout=0.5)
        start = time.time()
        dummy, dummy2, text = scrape(port)
    assert time.time() - start < 5
    assert 'kea_ha_up 0\n' in text


def test_an_unexpected_error_gives_up_0_and_the_page_stays(caplog):
    class Broken(object):
        where = "Kea's API at http://127.0.0.1:8000/ as kea-exporter"

        def status_get(self):
            raise RuntimeError('something odd')

    text = exporter.Collector(Broken(), cache_seconds=0).collect()
    assert parse(text) == {('kea_ha_up', frozenset()): 0}
    assert 'RuntimeError: something odd' in caplog.text


def test_recovery_is_logged_once(caplog):
    class Flaky(object):
        where = "Kea's API at http://127.0.0.1:8000/ as kea-exporter"
        answers = [exporter.KeaError('cannot reach it'), KEA22_PRIMARY, KEA22_PRIMARY]

        def status_get(self):
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    collector = exporter.Collector(Flaky(), cache_seconds=0)
    assert 'kea_ha_up 0\n' in collector.collect()
    assert 'kea_ha_up 1\n' in collector.collect()
    collector.collect()
    assert caplog.text.count('cannot reach it') == 1 and caplog.text.count('answers again') == 1


def test_url_must_be_http():
    for url in ('/run/kea/kea4-ctrl-socket', 'ftp://127.0.0.1/', 'http://'):
        with pytest.raises(ValueError):
            exporter.KeaClient(url)


def test_main_refuses_to_start_without_the_url():
    assert exporter.main(['--port', '0'], environ={}) == 2


def test_the_installed_command_end_to_end():
    # The script as systemd runs it: system python3 in isolated mode, the URL
    # from the environment, stopped with SIGTERM.
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
    with FakeKea(KEA22_PRIMARY) as kea:
        env[exporter.URL_VARIABLE] = url_with_credentials(kea.port)
        proc = subprocess.Popen([sys.executable, '-I', SCRIPT, '--address', '127.0.0.1', '--port', str(port),
                                 '--server-name', 'ha-kea1', '--partner-name', 'ha-kea2'],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            text = None
            deadline = time.time() + 15
            while text is None and time.time() < deadline:
                try:
                    text = scrape(port)[2]
                except OSError:
                    time.sleep(0.1)
            assert text is not None, proc.stderr.read1().decode() if proc.poll() is not None else 'no answer'
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert 'kea_ha_local_state{partner="ha-kea2",role="primary",server="ha-kea1",state="hot-standby"} 1' in text
    log = (out + err).decode()
    assert 'serving /metrics on 127.0.0.1 port %d' % port in log
    assert PASSWORD not in log and urllib.parse.quote(PASSWORD, safe='') not in log
