# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kea_command run in-process with its real exit_json/fail_json, against a
real local HTTP server and unix socket that answer like Kea."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dhcpops.kea.plugins.modules import kea_command
from ansible_collections.dhcpops.kea.tests.unit.plugins.module_utils.kea_fake_server import (
    http_server,
    reply,
    run_module,
    unix_server,
)

PASSWORD = 'Cmd-unit-secret-91b2'
AUTH = ('kea-api', PASSWORD)
DB_PASSWORD = 'Db-unit-secret-55aa'


def args_for(fake, **extra):
    args = dict(api_url=fake.url, api_user='kea-api', api_password=PASSWORD, api_timeout=2)
    args.update(extra)
    return args


def assert_no_secret(out, *secrets):
    for secret in (PASSWORD, DB_PASSWORD) + secrets:
        assert secret not in out


@pytest.mark.parametrize('command', [
    'status-get', 'config-get', 'config-test', 'version-get', 'list-commands', 'ha-heartbeat', 'lease4-get',
    'lease4-get-all', 'lease4-get-by-hw-address', 'leases4-get-page', 'statistic-get-all', 'reservation-get',
    'reservation-get-page', 'subnet4-list', 'subnet4-get', 'network4-list', 'server-tag-get', 'config-hash-get',
    'remote-subnet4-get-by-id',
])
def test_read_only_commands(command):
    assert kea_command.is_read_only(command)


@pytest.mark.parametrize('command', [
    'config-set', 'config-reload', 'config-write', 'lease4-del', 'lease4-add', 'lease4-wipe', 'reservation-add',
    'reservation-del', 'ha-maintenance-start', 'ha-maintenance-cancel', 'ha-reset', 'dhcp-disable', 'shutdown',
    'statistic-reset', 'leases-reclaim', 'subnet4-add', 'remote-subnet4-set',
])
def test_commands_that_change_something(command):
    assert not kea_command.is_read_only(command)


def test_status_get_is_read_only_and_returns_the_answer(capsys):
    with http_server(lambda r: reply(0, arguments={'pid': 6, 'uptime': 7}), auth=AUTH) as fake:
        failed, result, out = run_module(kea_command.main, args_for(fake, command='status-get'), capsys)
    assert not failed and result['changed'] is False
    assert (result['result'], result['outcome'], result['arguments']) == (0, 'success', {'pid': 6, 'uptime': 7})
    assert fake.requests[0].body == {'command': 'status-get', 'service': ['dhcp4']}
    assert_no_secret(out)


@pytest.mark.parametrize('result_code, outcome, fails', [
    (0, 'success', False), (1, 'error', True), (2, 'unsupported', True), (3, 'empty', False),
    (4, 'conflict', True), (5, 'partial', True),
])
def test_result_codes_against_the_default_accept_results(capsys, result_code, outcome, fails):
    with http_server(lambda r: reply(result_code, 'kea says %d' % result_code), auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='lease4-get', arguments={'ip-address': '192.0.2.9'}), capsys)
    assert failed is fails
    assert result['result'] == result_code and result['outcome'] == outcome
    assert result['changed'] is False
    if fails:
        assert result['msg'] == 'Kea answered lease4-get with result %d (%s): kea says %d' % (
            result_code, outcome, result_code)
    assert fake.requests[0].body['arguments'] == {'ip-address': '192.0.2.9'}


def test_a_command_that_changes_something_reports_a_change(capsys):
    with http_server(lambda r: reply(0, 'Lease deleted.'), auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='lease4-del', arguments={'ip-address': '192.0.2.9'}), capsys)
    assert not failed and result['changed'] is True and result['read_only'] is False


def test_not_found_on_a_changing_command_is_no_change(capsys):
    with http_server(lambda r: reply(3, 'IPv4 lease not found.'), auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='lease4-del', arguments={'ip-address': '192.0.2.9'}), capsys)
    assert not failed and result['changed'] is False and result['outcome'] == 'empty'


def test_partial_accepted_is_a_change(capsys):
    with http_server(lambda r: reply(5, 'some leases deleted'), auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='lease4-bulk-apply', accept_results=[0, 5]), capsys)
    assert not failed and result['changed'] is True and result['outcome'] == 'partial'


def test_check_mode_sends_nothing_that_changes(capsys):
    with http_server(auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='config-reload'), capsys, check_mode=True)
    assert not failed
    assert result['changed'] is True and result['skipped_in_check_mode'] is True
    assert result['result'] is None and result['outcome'] == 'not-sent'
    assert fake.requests == []


def test_check_mode_runs_read_only_commands(capsys):
    with http_server(lambda r: reply(0, 'Configuration seems sane.'), auth=AUTH) as fake:
        failed, result, dummy = run_module(
            kea_command.main, args_for(fake, command='config-test', arguments={'Dhcp4': {}}), capsys,
            check_mode=True)
    assert not failed and result['changed'] is False and result['skipped_in_check_mode'] is False
    assert fake.commands == ['config-test']


def test_config_get_answer_is_masked_and_no_secret_is_printed(capsys):
    config = {'Dhcp4': {'lease-database': {'type': 'postgresql', 'user': 'kea', 'password': DB_PASSWORD},
                        'control-sockets': [{'authentication': {'clients': [{'user': 'kea-api',
                                                                             'password': PASSWORD}]}}]}}
    with http_server(lambda r: reply(0, arguments=config), auth=AUTH) as fake:
        failed, result, out = run_module(kea_command.main, args_for(fake, command='config-get'), capsys)
    assert not failed
    assert result['arguments']['Dhcp4']['lease-database'] == {'type': 'postgresql', 'user': 'kea',
                                                              'password': '********'}
    assert_no_secret(out)


def test_wrong_password_fails_cleanly(capsys):
    with http_server(auth=AUTH) as fake:
        failed, result, out = run_module(
            kea_command.main, args_for(fake, command='status-get', api_password='Wrong-unit-pass-11'), capsys)
    assert failed
    assert result['msg'] == 'the Kea API at %s refused the credentials of user kea-api (HTTP 401)' % fake.url
    assert result['http_status'] == 401
    assert_no_secret(out, 'Wrong-unit-pass-11')


def test_missing_credentials_fail_cleanly(capsys):
    with http_server(auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_command.main, dict(api_url=fake.url, command='status-get'), capsys)
    assert failed and result['http_status'] == 401 and 'requires credentials' in result['msg']


def test_password_file_is_used_and_scrubbed_even_when_kea_echoes_it(capsys, tmp_path):
    secret_file = tmp_path / 'kea-api-password'
    secret_file.write_text(PASSWORD + '\n')

    def echo(request):
        # A misbehaving server that puts the password into its answer.
        return reply(0, 'hello %s:%s' % request.credentials)

    with http_server(echo, auth=AUTH) as fake:
        failed, result, out = run_module(kea_command.main, dict(
            api_url=fake.url, api_user='kea-api', api_password_file=str(secret_file), command='status-get'), capsys)
    assert not failed, result
    assert result['text'].startswith('hello kea-api:')
    assert_no_secret(out)


def test_unreadable_password_file(capsys, tmp_path):
    with http_server(auth=AUTH) as fake:
        failed, result, dummy = run_module(kea_command.main, dict(
            api_url=fake.url, api_user='kea-api', api_password_file=str(tmp_path / 'nope'), command='status-get'),
            capsys)
    assert failed and 'cannot read api_password_file' in result['msg'] and fake.requests == []


def test_arguments_file_is_sent_with_kea_comments_and_its_secrets_stay_out(capsys, tmp_path):
    candidate = tmp_path / 'kea-dhcp4.conf.candidate'
    candidate.write_text('// candidate\n{"Dhcp4": {# comment\n "lease-database": {"type": "postgresql", '
                         '"password": "%s"}, /* c */ "valid-lifetime": 600}}\n' % DB_PASSWORD)
    with unix_server(lambda r: reply(0, 'Configuration seems sane.')) as fake:
        failed, result, out = run_module(kea_command.main, dict(
            api_socket=fake.path, command='config-test', arguments_file=str(candidate)), capsys)
    assert not failed and result['changed'] is False
    assert fake.requests[0].body == {'command': 'config-test', 'arguments': {'Dhcp4': {
        'lease-database': {'type': 'postgresql', 'password': DB_PASSWORD}, 'valid-lifetime': 600}}}
    assert_no_secret(out)


def test_arguments_file_that_is_not_json_is_not_quoted(capsys, tmp_path):
    candidate = tmp_path / 'broken.conf'
    candidate.write_text('{"Dhcp4": {"password": "%s", <?include "/etc/kea/x.json"?> }}' % DB_PASSWORD)
    with unix_server() as fake:
        failed, result, out = run_module(kea_command.main, dict(
            api_socket=fake.path, command='config-test', arguments_file=str(candidate)), capsys)
    assert failed and 'is not JSON' in result['msg'] and 'include' in result['msg']
    assert fake.requests == []
    assert_no_secret(out)


def test_arguments_and_arguments_file_are_exclusive(capsys, tmp_path):
    with unix_server() as fake:
        failed, result, dummy = run_module(kea_command.main, dict(
            api_socket=fake.path, command='config-test', arguments={}, arguments_file=str(tmp_path)), capsys)
    assert failed and 'mutually exclusive' in result['msg']


def test_url_and_socket_are_exclusive_and_one_is_required(capsys):
    failed, result, dummy = run_module(kea_command.main, dict(command='status-get'), capsys)
    assert failed and 'one of the following is required: api_url, api_socket' in result['msg']
    failed, result, dummy = run_module(kea_command.main, dict(command='status-get', api_url='http://x/',
                                                              api_socket='/run/kea/s'), capsys)
    assert failed and 'mutually exclusive' in result['msg']


def test_unix_socket_ignores_service(capsys):
    with unix_server(lambda r: reply(0, arguments={'pid': 3})) as fake:
        failed, result, dummy = run_module(kea_command.main, dict(
            api_socket=fake.path, api_service='dhcp4', command='status-get'), capsys)
    assert not failed and fake.requests[0].body == {'command': 'status-get'}


def test_transport_error_fails_with_the_socket_named(capsys, tmp_path):
    path = str(tmp_path / 'kea4-ctrl-socket')
    failed, result, dummy = run_module(kea_command.main, dict(api_socket=path, command='status-get'), capsys)
    assert failed and path in result['msg'] and result['result'] is None
