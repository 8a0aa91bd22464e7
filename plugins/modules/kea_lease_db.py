#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_lease_db
short_description: Create or upgrade Kea's database schema with kea-admin, idempotently
version_added: "0.1.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
description:
  - Brings the schema of a Kea lease (and host) database to the version that the C(kea-admin) of the host it runs
    on creates. It asks the database for its schema version with C(kea-admin db-version), then runs
    C(kea-admin db-init) on a database without Kea's schema, C(kea-admin db-upgrade) on an older schema, and
    nothing when the schema is current.
  - The version C(kea-admin) creates is read from its own SQL scripts, so the module needs no table of Kea
    releases and knows, also in check mode, what it would do.
  - A schema newer than this C(kea-admin)'s is refused with a message, because a newer Kea has upgraded the
    database, Kea never downgrades, and the Kea release next to this C(kea-admin) could not use it.
  - Run it where the C(kea-admin) of the Kea release the servers run is installed, usually one Kea server
    (C(delegate_to) and C(run_once)), together with the database client (C(postgresql-client), which Debian's
    C(kea-admin) does not pull in). The C(dhcpops.kea.kea_postgresql) role does this.
  - The password reaches C(kea-admin) and C(psql) only through their environment (C(KEA_ADMIN_DB_PASSWORD),
    C(PGPASSWORD)), never on a command line, and never appears in the returned values.
options:
  backend:
    description:
      - Database backend, as C(kea-admin) names it.
      - V(mysql) is accepted so that playbooks can be written for it, but only V(pgsql) is tested.
    type: str
    choices: [pgsql, mysql]
    default: pgsql
  host:
    description: Database server to connect to, as seen from the host the module runs on.
    type: str
    default: localhost
  port:
    description:
      - TCP port of the database server. Passed in the environment (C(PGPORT)), because C(kea-admin) before
        2.7.2 does not pass a port option on to its upgrade scripts.
      - Unset uses the client's default (5432 for PostgreSQL).
    type: int
  name:
    description: Name of the database.
    type: str
    required: true
  user:
    description: Database user that owns Kea's tables; the same user the Kea servers log in as.
    type: str
    required: true
  password:
    description:
      - Password of O(user). Passed to C(kea-admin) and C(psql) in their environment only.
      - Avoid C(') and C(\) in it; Kea 2.2 does not escape them in its own connection strings.
    type: str
    required: true
  state:
    description:
      - V(present) creates the schema in a database without one and upgrades an older schema to the version
        of the installed C(kea-admin).
    type: str
    choices: [present]
    default: present
  kea_admin:
    description: Name or path of C(kea-admin). A bare name is looked up in E(PATH) and the sbin directories.
    type: str
    default: kea-admin
  scripts_dir:
    description:
      - Directory holding C(kea-admin)'s C(pgsql/) and C(mysql/) SQL scripts. Unset uses the directory the
        C(kea-admin) script itself names (C(/usr/share/kea/scripts) for Debian's and ISC's packages).
      - When set, it is also passed to C(kea-admin) (C(-d)), so the version the module expects and the scripts
        C(kea-admin) runs come from the same place.
    type: path
  connect_timeout:
    description: Seconds to wait for the database server to accept a connection before giving up.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    details: In check mode only C(kea-admin db-version) runs; the result says which action would be taken.
  diff_mode:
    support: full
    details: The diff shows the schema version before and after.
  platform:
    platforms: posix
notes:
  - C(db-init) refuses (exit status 2) a database that already holds tables but no Kea schema; the module
    reports that with C(kea-admin)'s list of the tables found, and changes nothing.
  - The database and the user must exist; with PostgreSQL 15 or later, the user must own the database or hold
    C(CREATE) on its C(public) schema. The C(dhcpops.kea.kea_postgresql) role prepares both.
seealso:
  - name: Kea Administrator Reference Manual, kea-admin
    description: How kea-admin initialises and upgrades databases.
    link: https://kea.readthedocs.io/en/latest/arm/admin.html
'''

EXAMPLES = r'''
- name: Create or upgrade the Kea schema from the first Kea server
  dhcpops.kea.kea_lease_db:
    host: db1.example.net
    name: kea
    user: kea
    password: "{{ kea_db_password }}"
  delegate_to: "{{ groups['kea_servers'][0] }}"
  run_once: true
  register: kea_schema

- name: Say what happened
  ansible.builtin.debug:
    msg: "schema {{ kea_schema.before }} -> {{ kea_schema.after }} ({{ kea_schema.action }})"

- name: A cluster on a non-default port, with ISC's packages installed elsewhere
  dhcpops.kea.kea_lease_db:
    host: pg-cluster.example.net
    port: 6432
    name: kea_site2
    user: kea_site2
    password: "{{ kea_site2_db_password }}"
    kea_admin: /opt/kea/sbin/kea-admin
    scripts_dir: /opt/kea/share/kea/scripts
'''

RETURN = r'''
action:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  choices: [none, init, upgrade]
  sample: init
before:
  description: Schema version found before, V(null) when the database had no Kea schema.
  returned: always
  type: str
  sample: "13.0"
after:
  description: Schema version after the run (in check mode, the version the action would leave).
  returned: always
  type: str
  sample: "13.0"
target:
  description: Schema version the installed C(kea-admin) creates.
  returned: always
  type: str
  sample: "13.0"
kea_admin_version:
  description: Version of Kea that C(kea-admin) reports.
  returned: always
  type: str
  sample: 2.2.0
cmd:
  description: The command that initialised or upgraded the schema (no password in it); empty when nothing ran.
  returned: always
  type: list
  elements: str
  sample: [/usr/sbin/kea-admin, db-init, pgsql, -h, db1.example.net, -u, kea, -n, kea]
stdout_lines:
  description: What C(kea-admin db-init) or C(db-upgrade) printed; empty when nothing ran.
  returned: always
  type: list
  elements: str
diff:
  description: Schema version before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": "schema_version: none\n", "after": "schema_version: 13.0\n"}
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_admin import (
    ACTION_INIT,
    ACTION_NONE,
    CREATE_SCRIPTS,
    SchemaError,
    build_argv,
    build_env,
    decide_action,
    format_version,
    interpret_db_version,
    redact,
    scripts_dir_from_kea_admin,
    target_from_sql,
    target_from_upgrade_scripts,
)

# kea-admin is installed in sbin, which is not on every user's PATH.
SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']


class KeaLeaseDb(object):
    """One database, one kea-admin: find both versions, act, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.backend = self.params['backend']
        self.kea_admin = self._find_kea_admin()
        self.env = build_env(self.backend, self.params['password'], self.params['port'],
                             self.params['connect_timeout'])
        self.database = 'database %s on %s' % (self.params['name'], self.params['host'])

    def _find_kea_admin(self):
        wanted = self.params['kea_admin']
        if os.sep in wanted:
            if not (os.path.isfile(wanted) and os.access(wanted, os.X_OK)):
                self.fail('%s is not an executable file; install kea-admin (Debian: kea-admin, ISC: isc-kea-admin) '
                          'or set kea_admin' % wanted)
            return wanted
        found = self.module.get_bin_path(wanted, required=False, opt_dirs=SBIN_DIRS)
        if not found:
            self.fail('%s not found on this host; install kea-admin (Debian: kea-admin, ISC: isc-kea-admin) and the '
                      'database client (postgresql-client), or run this task on a Kea server' % wanted)
        return found

    def fail(self, msg, **extra):
        self.module.fail_json(msg=redact(msg, [self.params['password']]), **extra)

    def run(self, argv):
        rc, out, err = self.module.run_command(argv, environ_update=self.env)
        secrets = [self.params['password']]
        return rc, redact(to_text(out), secrets), redact(to_text(err), secrets)

    def kea_version(self):
        rc, out, err = self.run([self.kea_admin, '-v'])
        return out.strip().splitlines()[-1] if rc == 0 and out.strip() else 'unknown'

    def scripts_dir(self):
        if self.params['scripts_dir']:
            return self.params['scripts_dir']
        try:
            with open(self.kea_admin, 'rb') as handle:
                found = scripts_dir_from_kea_admin(to_text(handle.read(200000), errors='replace'))
        except (IOError, OSError):
            found = None
        if found:
            return found
        # A kea-admin that is not the autoconf shell script: its prefix's share dir.
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(self.kea_admin)))
        return os.path.join(prefix, 'share', 'kea', 'scripts')

    def target(self):
        directory = os.path.join(self.scripts_dir(), self.backend)
        create = os.path.join(directory, CREATE_SCRIPTS[self.backend])
        version = None
        try:
            with open(create, 'rb') as handle:
                version = target_from_sql(to_text(handle.read(), errors='replace'))
        except (IOError, OSError):
            pass
        if version is None and os.path.isdir(directory):
            version = target_from_upgrade_scripts(os.listdir(directory))
        return version

    def current(self):
        p = self.params
        argv = build_argv(self.kea_admin, 'db-version', self.backend, p['host'], p['user'], p['name'],
                          scripts_dir=p['scripts_dir'])
        rc, out, err = self.run(argv)
        try:
            return interpret_db_version(rc, out, err, self.backend)
        except SchemaError as exc:
            self.fail('%s: %s' % (self.database, exc), rc=rc)

    def apply(self, action):
        p = self.params
        command = 'db-init' if action == ACTION_INIT else 'db-upgrade'
        argv = build_argv(self.kea_admin, command, self.backend, p['host'], p['user'], p['name'],
                          scripts_dir=p['scripts_dir'])
        rc, out, err = self.run(argv)
        if rc != 0:
            hint = ''
            if action == ACTION_INIT and rc == 2:
                hint = (' The database holds tables but no Kea schema_version table: it is not an empty database '
                        'and not a Kea database. Point name at an empty database or clean this one up by hand.')
            self.fail('kea-admin %s on %s failed (exit status %d).%s %s'
                      % (command, self.database, rc, hint, (err.strip() or out.strip())[-2000:]),
                      rc=rc, cmd=argv, stdout_lines=out.splitlines(), stderr_lines=err.splitlines())
        return argv, out

    def main(self):
        target = self.target()
        kea_version = self.kea_version()
        current = self.current()
        try:
            action = decide_action(current, target, '%s (Kea %s)' % (self.kea_admin, kea_version), self.database)
        except SchemaError as exc:
            self.fail(str(exc), before=format_version(current), target=format_version(target),
                      kea_admin_version=kea_version)

        cmd, output, after = [], '', current
        if action != ACTION_NONE:
            if self.module.check_mode:
                after = target
            else:
                cmd, output = self.apply(action)
                after = self.current()
                if after != target:
                    self.fail('kea-admin %s on %s reported success but the schema is at %s, not %s.'
                              % (cmd[1], self.database, format_version(after), format_version(target)),
                              cmd=cmd, stdout_lines=output.splitlines())

        result = dict(
            changed=action != ACTION_NONE,
            action=action,
            before=format_version(current),
            after=format_version(after),
            target=format_version(target),
            kea_admin_version=kea_version,
            cmd=cmd,
            stdout_lines=output.splitlines(),
        )
        if self.module._diff:
            result['diff'] = dict(
                before='schema_version: %s\n' % (format_version(current) or 'none'),
                after='schema_version: %s\n' % (format_version(after) or 'none'),
            )
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', choices=['pgsql', 'mysql'], default='pgsql'),
            host=dict(type='str', default='localhost'),
            port=dict(type='int'),
            name=dict(type='str', required=True),
            user=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            state=dict(type='str', choices=['present'], default='present'),
            kea_admin=dict(type='str', default='kea-admin'),
            scripts_dir=dict(type='path'),
            connect_timeout=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    KeaLeaseDb(module).main()


if __name__ == '__main__':
    main()
