# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kea_lease_db: version parsing, the action decision, argv/env hygiene, and
the module's flow with kea-admin faked at ``module.run_command``.

The outputs below are what Debian 12's kea-admin 2.2.0 and psql 15 print
(recorded in the lab).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core 2.19+ wants a serialization profile with the arguments.
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core reads the bare JSON
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.dhcpops.kea.plugins.module_utils import kea_admin as ka
from ansible_collections.dhcpops.kea.plugins.modules import kea_lease_db

PASSWORD = 'Sup3r-s3cret-lab-value'
CHATTER = 'Using the value of KEA_ADMIN_DB_PASSWORD for authentication...\n'
NO_TABLE = ('ERROR:  relation "schema_version" does not exist\n'
            "LINE 1: SELECT version || '.' || minor FROM schema_version\n")
BAD_PASSWORD = ('psql: error: connection to server at "10.89.57.2", port 5432 failed: '
                'FATAL:  password authentication failed for user "kea"\n')


# --- parsing -------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('13.0\n', (13, 0)),
    (CHATTER + '13.0\n', (13, 0)),
    (CHATTER + '22.2\n', (22, 2)),
    ('  29.0  \n', (29, 0)),
    ('', None),
    (CHATTER + 'Failed to get schema version, pgsql status 3\n\n', None),
    ('version 13.0 and more\n', None),
])
def test_parse_version(text, expected):
    assert ka.parse_version(text) == expected


def test_versions_compare_numerically_not_as_text():
    # '9.0' > '13.0' as strings; the schema went from 9 to 13.
    assert ka.parse_version('9.0') < ka.parse_version('13.0')
    assert ka.parse_version('22.10') > ka.parse_version('22.2')


def test_db_version_of_a_kea_database():
    assert ka.interpret_db_version(0, CHATTER + '13.0\n', '') == (13, 0)


def test_db_version_of_an_empty_database_is_none():
    out = CHATTER + 'Failed to get schema version, pgsql status 3\n\n'
    assert ka.interpret_db_version(3, out, NO_TABLE) is None


def test_db_version_of_an_empty_mysql_database_is_none():
    err = "ERROR 1146 (42S02) at line 1: Table 'kea.schema_version' doesn't exist\n"
    assert ka.interpret_db_version(1, '', err, backend='mysql') is None


@pytest.mark.parametrize('rc, err', [
    (2, BAD_PASSWORD),
    (2, 'psql: error: connection to server at "db", port 5432 failed: FATAL:  database "nodb" does not exist\n'),
    (2, 'psql: error: connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused\n'),
    # The same "does not exist" text with a connection failure is not an empty database.
    (2, NO_TABLE),
])
def test_db_version_errors_are_not_mistaken_for_an_empty_database(rc, err):
    with pytest.raises(ka.SchemaError) as exc:
        ka.interpret_db_version(rc, CHATTER, err)
    assert 'exit status %d' % rc in str(exc.value)


def test_db_version_success_without_a_version_is_an_error():
    with pytest.raises(ka.SchemaError):
        ka.interpret_db_version(0, CHATTER, '')


CREATE_SQL = """
CREATE TABLE schema_version (
    version INT PRIMARY KEY NOT NULL,       -- Major version number
    minor INT                               -- Minor version number
    );
INSERT INTO schema_version VALUES (1, 0);
UPDATE schema_version
    SET version = '2', minor = '0';
UPDATE schema_version
    SET version = '12', minor = '0';
-- Update the schema version number.
UPDATE schema_version
    SET version = '13', minor = '0';
COMMIT;
"""


def test_target_is_the_last_version_the_create_script_sets():
    assert ka.target_from_sql(CREATE_SQL) == (13, 0)
    assert ka.target_from_sql('INSERT INTO schema_version VALUES (1, 0);') == (1, 0)
    assert ka.target_from_sql('SELECT 1;') is None


def test_target_from_upgrade_script_names():
    names = ['upgrade_006.2_to_007.0.sh', 'upgrade_012_to_013.sh', 'upgrade_009_to_010.sh',
             'upgrade_022.1_to_022.2.sh', 'wipe_data.sh', 'dhcpdb_create.pgsql']
    assert ka.target_from_upgrade_scripts(names) == (22, 2)
    assert ka.target_from_upgrade_scripts(['upgrade_012_to_013.sh']) == (13, 0)
    assert ka.target_from_upgrade_scripts([]) is None


def test_scripts_dir_from_the_kea_admin_script():
    script = 'prefix="/usr"\nexport prefix\nexec_prefix="${prefix}"\nSCRIPTS_DIR_DEFAULT="${prefix}/share/kea/scripts"\n'
    assert ka.scripts_dir_from_kea_admin(script) == '/usr/share/kea/scripts'
    assert ka.scripts_dir_from_kea_admin('#!/bin/sh\necho hi\n') is None


# --- decision ------------------------------------------------------------

@pytest.mark.parametrize('current, target, action', [
    (None, (13, 0), 'init'),
    ((13, 0), (13, 0), 'none'),
    ((12, 0), (13, 0), 'upgrade'),
    ((13, 0), (22, 2), 'upgrade'),
    ((22, 1), (22, 2), 'upgrade'),
])
def test_decide_action(current, target, action):
    assert ka.decide_action(current, target) == action


def test_a_schema_newer_than_kea_admin_is_refused_with_both_versions():
    with pytest.raises(ka.SchemaError) as exc:
        ka.decide_action((22, 2), (13, 0), '/usr/sbin/kea-admin (Kea 2.2.0)', 'database kea on db1')
    msg = str(exc.value)
    assert '22.2' in msg and '13.0' in msg
    assert 'database kea on db1' in msg and 'Kea 2.2.0' in msg
    assert 'newer' in msg


def test_an_unknown_target_is_refused():
    with pytest.raises(ka.SchemaError, match='scripts_dir'):
        ka.decide_action(None, None)


# --- the password never travels in argv ----------------------------------

@pytest.mark.parametrize('command', ['db-version', 'db-init', 'db-upgrade'])
def test_argv_carries_no_password(command):
    argv = ka.build_argv('/usr/sbin/kea-admin', command, 'pgsql', 'db1', 'kea', 'kea', scripts_dir='/opt/s')
    assert argv == ['/usr/sbin/kea-admin', command, 'pgsql', '-h', 'db1', '-u', 'kea', '-n', 'kea', '-d', '/opt/s']
    assert '-p' not in argv and '--password' not in argv
    assert not any(PASSWORD in item for item in argv)


def test_env_carries_the_password_and_the_port():
    env = ka.build_env('pgsql', PASSWORD, port=6432, connect_timeout=5)
    assert env['KEA_ADMIN_DB_PASSWORD'] == PASSWORD
    assert env['PGPASSWORD'] == PASSWORD
    assert env['PGPORT'] == '6432'
    assert env['PGCONNECT_TIMEOUT'] == '5'
    assert env['PGPASSFILE'] == os.devnull


def test_env_without_a_port_leaves_the_client_default():
    assert 'PGPORT' not in ka.build_env('pgsql', PASSWORD)


def test_redact():
    assert ka.redact('x %s y' % PASSWORD, [PASSWORD]) == 'x ******** y'
    assert ka.redact(None, [PASSWORD]) == ''


# --- the module, with kea-admin faked at run_command ----------------------

class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ExitJson(kwargs)


def fail_json(self, **kwargs):
    raise FailJson(kwargs)


class FakeKeaAdmin(object):
    """Answers kea-admin like Debian 12's 2.2.0 would for a database in a given state."""

    def __init__(self, schema, target=(13, 0), init_rc=0):
        self.schema = schema
        self.target = target
        self.init_rc = init_rc
        self.calls = []

    def __call__(self, module, argv, environ_update=None, **kwargs):
        self.calls.append((list(argv), dict(environ_update or {})))
        if argv[1] == '-v':
            return 0, '2.2.0\n', ''
        command = argv[1]
        if command == 'db-version':
            if self.schema is None:
                return 3, CHATTER + 'Failed to get schema version, pgsql status 3\n\n', NO_TABLE
            return 0, CHATTER + '%d.%d\n' % self.schema, ''
        if command == 'db-init':
            if self.init_rc:
                return self.init_rc, CHATTER, 'ERROR/kea-admin: Expected empty database kea. Aborting\n'
            self.schema = self.target
            return 0, CHATTER + 'Database version reported after initialization: %d.%d\n' % self.target, ''
        if command == 'db-upgrade':
            self.schema = self.target
            return 0, CHATTER + 'Database version reported after upgrade: %d.%d\n' % self.target, ''
        raise AssertionError('unexpected command %r' % (argv,))


@pytest.fixture
def kea_admin_file(tmp_path):
    """A kea-admin script and its pgsql/ scripts, as Debian installs them, in a temp dir."""
    scripts = tmp_path / 'share' / 'kea' / 'scripts'
    (scripts / 'pgsql').mkdir(parents=True)
    (scripts / 'pgsql' / 'dhcpdb_create.pgsql').write_text(CREATE_SQL)
    (scripts / 'pgsql' / 'upgrade_012_to_013.sh').write_text('#!/bin/sh\n')
    sbin = tmp_path / 'sbin'
    sbin.mkdir()
    script = sbin / 'kea-admin'
    script.write_text('#!/bin/sh\nprefix="%s"\nSCRIPTS_DIR_DEFAULT="${prefix}/share/kea/scripts"\n' % tmp_path)
    script.chmod(0o755)
    return str(script)


def run_module(monkeypatch, fake, kea_admin, check_mode=False, diff=False, **params):
    args = dict(host='10.89.57.2', name='kea', user='kea', password=PASSWORD, kea_admin=kea_admin)
    args.update(params)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run_command(module, argv, **kwargs):
        # A plain function binds as a method; a callable instance would not.
        return fake(module, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    with patch_module_args(args), pytest.raises((ExitJson, FailJson)) as exc:
        kea_lease_db.main()
    return exc.type is FailJson, exc.value.args[0]


def assert_password_never_left(fake, result):
    for argv, env in fake.calls:
        assert not any(PASSWORD in item for item in argv), argv
        if argv[1] != '-v':
            assert env['KEA_ADMIN_DB_PASSWORD'] == PASSWORD
            assert env['PGPASSWORD'] == PASSWORD
    assert PASSWORD not in json.dumps(result)


def test_empty_database_is_initialised(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=None)
    failed, result = run_module(monkeypatch, fake, kea_admin_file, port=6432)
    assert not failed, result
    assert result['changed'] is True
    assert (result['action'], result['before'], result['after'], result['target']) == ('init', None, '13.0', '13.0')
    assert result['cmd'][:3] == [kea_admin_file, 'db-init', 'pgsql']
    assert [argv[1] for argv, env in fake.calls] == ['-v', 'db-version', 'db-init', 'db-version']
    assert all(env['PGPORT'] == '6432' for argv, env in fake.calls if argv[1] != '-v')
    assert_password_never_left(fake, result)


def test_current_schema_changes_nothing(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=(13, 0))
    failed, result = run_module(monkeypatch, fake, kea_admin_file)
    assert not failed
    assert result['changed'] is False
    assert (result['action'], result['before'], result['after']) == ('none', '13.0', '13.0')
    assert result['cmd'] == []
    assert [argv[1] for argv, env in fake.calls] == ['-v', 'db-version']


def test_older_schema_is_upgraded(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=(12, 0))
    failed, result = run_module(monkeypatch, fake, kea_admin_file)
    assert not failed
    assert (result['changed'], result['action'], result['before'], result['after']) == (True, 'upgrade', '12.0', '13.0')
    assert_password_never_left(fake, result)


def test_check_mode_reports_and_runs_nothing_that_writes(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=None)
    failed, result = run_module(monkeypatch, fake, kea_admin_file, check_mode=True, diff=True)
    assert not failed
    assert (result['changed'], result['action'], result['after']) == (True, 'init', '13.0')
    assert result['diff'] == {'before': 'schema_version: none\n', 'after': 'schema_version: 13.0\n'}
    assert [argv[1] for argv, env in fake.calls] == ['-v', 'db-version']


def test_newer_schema_fails_without_touching_it(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=(22, 2))
    failed, result = run_module(monkeypatch, fake, kea_admin_file)
    assert failed
    assert '22.2' in result['msg'] and '13.0' in result['msg'] and 'newer' in result['msg']
    assert [argv[1] for argv, env in fake.calls] == ['-v', 'db-version']


def test_non_kea_tables_make_init_fail_with_a_reason(monkeypatch, kea_admin_file):
    fake = FakeKeaAdmin(schema=None, init_rc=2)
    failed, result = run_module(monkeypatch, fake, kea_admin_file)
    assert failed
    assert 'not an empty database' in result['msg']
    assert_password_never_left(fake, result)


def test_connection_errors_fail_with_psql_reason(monkeypatch, kea_admin_file):
    def refuse(module, argv, environ_update=None, **kwargs):
        if argv[1] == '-v':
            return 0, '2.2.0\n', ''
        return 2, CHATTER + 'Failed to get schema version, pgsql status 2\n', BAD_PASSWORD
    failed, result = run_module(monkeypatch, refuse, kea_admin_file)
    assert failed
    assert 'password authentication failed' in result['msg']


def test_echoed_password_is_redacted(monkeypatch, kea_admin_file):
    def echo(module, argv, environ_update=None, **kwargs):
        if argv[1] == '-v':
            return 0, '2.2.0\n', ''
        return 2, '', 'psql: could not use password %s\n' % PASSWORD
    failed, result = run_module(monkeypatch, echo, kea_admin_file)
    assert failed
    assert PASSWORD not in json.dumps(result)


def test_missing_kea_admin_names_the_packages(monkeypatch, tmp_path):
    failed, result = run_module(monkeypatch, FakeKeaAdmin(schema=None), str(tmp_path / 'no' / 'kea-admin'))
    assert failed
    assert 'kea-admin' in result['msg'] and 'isc-kea-admin' in result['msg']
