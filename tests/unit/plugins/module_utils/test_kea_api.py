# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Kea API client against real local servers: an HTTP server on 127.0.0.1
and a unix stream socket, both answering like Kea (kea_fake_server)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time

import pytest

from ansible_collections.dhcpops.kea.plugins.module_utils import kea_api
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import KeaApiClient, KeaApiError
from ansible_collections.dhcpops.kea.tests.unit.plugins.module_utils.kea_fake_server import (
    Raw,
    UnixBehaviour,
    http_server,
    reply,
    unix_server,
)

PASSWORD = 'Unit-api-secret-7f3e'
AUTH = ('kea-api', PASSWORD)


def http_client(fake, **kwargs):
    options = dict(url=fake.url, user='kea-api', password=PASSWORD, timeout=2)
    options.update(kwargs)
    return KeaApiClient(**options)


# --- answers and result codes ----------------------------------------------

@pytest.mark.parametrize('result, outcome', [
    (0, 'success'), (1, 'error'), (2, 'unsupported'), (3, 'empty'), (4, 'conflict'), (5, 'partial'), (42, 'unknown'),
])
def test_every_result_code_is_an_answer_with_its_outcome(result, outcome):
    with http_server(lambda r: reply(result, 'text %d' % result), auth=AUTH) as fake:
        answer = http_client(fake).command('lease4-get', {'ip-address': '192.0.2.5'})
    assert (answer.result, answer.outcome, answer.text) == (result, outcome, 'text %d' % result)
    assert answer.as_dict()['outcome'] == outcome


def test_http_request_is_what_kea_wants_and_the_list_is_unwrapped():
    with http_server(lambda r: reply(0, arguments={'pid': 6}), auth=AUTH) as fake:
        answer = http_client(fake).command('status-get')
    request = fake.requests[0]
    assert request.body == {'command': 'status-get', 'service': ['dhcp4']}
    assert request.headers['content-type'] == 'application/json'
    assert request.credentials == AUTH
    assert answer.arguments == {'pid': 6}


def test_empty_service_is_left_out_and_arguments_are_sent():
    with http_server(auth=AUTH) as fake:
        http_client(fake, service='').command('lease4-get', {'ip-address': '192.0.2.5'})
    assert fake.requests[0].body == {'command': 'lease4-get', 'arguments': {'ip-address': '192.0.2.5'}}


def test_unix_socket_sends_no_service_and_takes_a_bare_object():
    with unix_server(lambda r: reply(0, arguments={'pid': 7})) as fake:
        answer = KeaApiClient(socket_path=fake.path, service='dhcp4', timeout=2).command('status-get')
    assert fake.requests[0].body == {'command': 'status-get'}
    assert answer.arguments == {'pid': 7}


def test_unix_answer_in_slow_chunks_on_a_socket_left_open_is_read_without_waiting_for_the_timeout():
    big = {'Dhcp4': {'subnet4': [{'id': i, 'subnet': '10.%d.%d.0/24' % (i // 256, i % 256)} for i in range(3000)]}}
    behaviour = UnixBehaviour(chunk=7000, chunk_delay=0.005, keep_open=True)
    with unix_server(lambda r: reply(0, arguments=big), behaviour) as fake:
        started = time.monotonic()
        answer = KeaApiClient(socket_path=fake.path, timeout=5).command('config-get')
        took = time.monotonic() - started
    assert len(answer.arguments['Dhcp4']['subnet4']) == 3000
    assert took < 4, 'the client waited for EOF instead of parsing the complete answer'


def test_unix_answer_cut_short_is_an_error_not_a_partial_result():
    with unix_server(lambda r: reply(0, arguments={'pid': 1}), UnixBehaviour(truncate=True)) as fake:
        with pytest.raises(KeaApiError) as exc:
            KeaApiClient(socket_path=fake.path, timeout=2).command('status-get')
    assert 'not JSON' in exc.value.message and fake.path in exc.value.message


def test_unix_timeout_names_the_socket():
    with unix_server(behaviour=UnixBehaviour(never_answer=True)) as fake:
        started = time.monotonic()
        with pytest.raises(KeaApiError) as exc:
            KeaApiClient(socket_path=fake.path, timeout=1).command('status-get')
    assert time.monotonic() - started < 3
    assert 'no complete answer to status-get within 1 s' in exc.value.message
    assert fake.path in exc.value.message


def test_missing_unix_socket_says_what_to_check(tmp_path):
    path = str(tmp_path / 'kea4-ctrl-socket')
    with pytest.raises(KeaApiError) as exc:
        KeaApiClient(socket_path=path, timeout=1).command('status-get')
    assert path in exc.value.message and 'no such socket' in exc.value.message


def test_stale_unix_socket_is_refused(tmp_path):
    path = str(tmp_path / 'stale')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.close()  # the file stays, nobody listens: what a crashed Kea leaves
    with pytest.raises(KeaApiError) as exc:
        KeaApiClient(socket_path=path, timeout=1).command('status-get')
    assert 'connection refused' in exc.value.message


# --- HTTP failures ------------------------------------------------------------

def test_wrong_password_is_a_clear_401_without_the_password():
    with http_server(auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            http_client(fake, password='Wrong-secret-0000').command('status-get')
    assert exc.value.http_status == 401 and exc.value.auth_failed
    assert exc.value.message == 'the Kea API at %s refused the credentials of user kea-api (HTTP 401)' % fake.url
    assert 'Wrong-secret-0000' not in str(exc.value) and PASSWORD not in str(exc.value)


def test_no_credentials_for_an_api_that_wants_them():
    with http_server(auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            KeaApiClient(url=fake.url, timeout=2).command('status-get')
    assert exc.value.http_status == 401
    assert 'requires credentials' in exc.value.message and 'api_user' in exc.value.message
    assert fake.requests[0].credentials is None


def test_credentials_in_the_url_never_reach_a_message():
    with http_server(auth=AUTH) as fake:
        url = fake.url.replace('http://', 'http://kea-api:%s@' % 'url-embedded-pass')
        with pytest.raises(KeaApiError) as exc:
            KeaApiClient(url=url, user='kea-api', password='Wrong', timeout=2).command('status-get')
    assert 'url-embedded-pass' not in exc.value.message
    assert fake.url in exc.value.message


def test_http_500_without_an_answer_as_kea_3_0_4_sends_it():
    body = '{ "result": 500, "text": "Internal Server Error" }'
    with http_server(lambda r: Raw(body, status=500), auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            http_client(fake).command('ha-maintenance-start')
    assert exc.value.http_status == 500
    assert 'failed to produce an answer to ha-maintenance-start (HTTP 500: Internal Server Error)' in exc.value.message


def test_not_json_is_an_error_with_a_short_preview():
    with http_server(lambda r: Raw('<html>' + 'x' * 1000 + '</html>'), auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            http_client(fake).command('status-get')
    assert 'not JSON' in exc.value.message and '<html>' in exc.value.message
    assert len(exc.value.message) < 500


def test_json_that_is_no_kea_answer_is_an_error():
    with http_server(lambda r: Raw('{"hello": "world"}'), auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            http_client(fake).command('status-get')
    assert 'no "result"' in exc.value.message


def test_empty_list_is_an_error():
    with http_server(lambda r: Raw('[]'), auth=AUTH) as fake:
        with pytest.raises(KeaApiError) as exc:
            http_client(fake).command('status-get')
    assert 'empty list' in exc.value.message


def test_http_timeout_names_the_url():
    with http_server(lambda r: Raw('[{"result": 0}]', delay=2.5), auth=AUTH) as fake:
        started = time.monotonic()
        with pytest.raises(KeaApiError) as exc:
            http_client(fake, timeout=1).command('status-get')
    assert time.monotonic() - started < 2.4
    assert exc.value.message == 'cannot reach the Kea API at %s for status-get: no answer within 1 s' % fake.url


def test_connection_refused_names_the_url():
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    url = 'http://127.0.0.1:%d/' % port
    with pytest.raises(KeaApiError) as exc:
        KeaApiClient(url=url, timeout=2).command('status-get')
    assert url in exc.value.message and 'connection refused' in exc.value.message


def test_only_http_urls():
    with pytest.raises(KeaApiError) as exc:
        KeaApiClient(url='ftp://127.0.0.1/')
    assert 'not an http:// or https:// URL' in exc.value.message


# --- secrets ------------------------------------------------------------------

def test_as_dict_masks_every_password_like_key_deeply():
    arguments = {'Dhcp4': {
        'lease-database': {'type': 'postgresql', 'password': 'db-pass-1', 'user': 'kea'},
        'hooks-libraries': [{'library': 'libdhcp_ha.so', 'parameters': {'high-availability': [{'peers': [
            {'name': 'kea2', 'basic-auth-password': 'peer-pass-2', 'basic-auth-password-file': '/etc/kea/p'}]}]}}],
        'control-sockets': [{'authentication': {'clients': [{'user': 'a', 'password': 'api-pass-3'}]}}],
        'user-context': {'secret': 'ctx-4', 'token': 'tok-5'},
    }}
    answer = kea_api.KeaAnswer('config-get', 0, None, arguments)
    masked = answer.as_dict()['arguments']
    text = repr(masked)
    for secret in ('db-pass-1', 'peer-pass-2', 'api-pass-3', 'ctx-4', 'tok-5'):
        assert secret not in text
    peer = masked['Dhcp4']['hooks-libraries'][0]['parameters']['high-availability'][0]['peers'][0]
    assert peer['basic-auth-password'] == '********'
    assert peer['basic-auth-password-file'] == '/etc/kea/p', 'a file name is not a secret'
    assert arguments['Dhcp4']['lease-database']['password'] == 'db-pass-1', 'the answer itself is not changed'


def test_mask_secrets_is_the_config_pipeline_one():
    from ansible_collections.dhcpops.kea.plugins.module_utils import kea_config
    assert kea_api.mask_secrets is kea_config.mask_secrets


@pytest.mark.parametrize('content', ['file-pass', 'file-pass\n', '  file-pass \t\n\n'])
def test_password_file_is_read_as_kea_reads_its_own(tmp_path, content):
    path = tmp_path / 'pw'
    path.write_text(content)
    assert kea_api.read_password_file(str(path)) == 'file-pass'


def test_display_url_drops_user_info():
    assert kea_api.display_url('https://u:p@kea1.example.net:8004/x') == 'https://kea1.example.net:8004/x'
    assert kea_api.display_url('http://[2001:db8::1]:8000/') == 'http://[2001:db8::1]:8000/'
    assert kea_api.display_url('http://u:p@[2001:db8::1]:8000/') == 'http://[2001:db8::1]:8000/'


# --- copies for another server ----------------------------------------------

def test_a_copy_reaches_another_server_with_the_same_options():
    # This peer on its unix socket, its partner over HTTP with its own
    # credentials: the copy speaks to the partner, as the partner's user.
    with unix_server(lambda r: reply(0, 'peer')) as peer, \
            http_server(lambda r: reply(0, 'partner'), auth=('kea-ha', 'Partner-copy-9a2b')) as partner:
        client = KeaApiClient(socket_path=peer.path, service='dhcp4', timeout=3, validate_certs=False)
        other = client.copy(url=partner.url, user='kea-ha', password='Partner-copy-9a2b')
        assert (other.socket_path, other.service, other.timeout, other.validate_certs) == (None, 'dhcp4', 3, False)
        assert other.command('status-get').text == 'partner'
        assert partner.requests[0].body == {'command': 'status-get', 'service': ['dhcp4']}
        # The original is untouched and a timeout-only copy keeps the socket.
        assert client.command('status-get').text == 'peer'
        assert client.copy(timeout=60).socket_path == peer.path
    with pytest.raises(KeaApiError, match='is not an http'):
        client.copy(url='ftp://192.0.2.1/')
