#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dhcp4_config
short_description: Build, lint, validate and install a kea-dhcp4 configuration
version_added: "0.1.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
description:
  - Builds the complete C(Dhcp4) document of C(kea-dhcp4.conf) from data (Kea's own C(subnet4) syntax plus
    role-level settings), deterministically, so that the same data gives a byte-identical file.
  - Lints it on the controller for mistakes C(kea-dhcp4 -t) misses (subnets that overlap with different prefix
    lengths, pools overlapping across subnets, a reservation whose address lies in another subnet's pool,
    duplicate hardware addresses, inconsistent HA settings, paths current Kea refuses). Errors stop the task
    before anything reaches the target; every finding names the entries involved and where they came from.
  - On the target, writes the candidate next to the live file (inside the config directory, the only place
    Debian's AppArmor profile lets Kea read), runs C(kea-dhcp4 -t) on it as the Kea user, and only then swaps it
    in atomically, keeping a bounded number of backups. A rejected candidate is removed and the live file stays
    byte-identical; Kea's own message is returned.
  - Diffs are rendered from parsed JSON with every password masked.
  - The work is split between an action plugin (build and lint on the controller, which reads reservation
    files with a fast loader) and this module (stage, validate, swap on the target).
options:
  dest:
    description: Path of the live configuration file on the target (or on the controller with O(state=rendered)).
    type: path
    default: /etc/kea/kea-dhcp4.conf
  state:
    description:
      - V(present) installs the configuration on the target.
      - V(rendered) only builds and lints it and writes it to O(dest) on the controller, touching no managed
        host; ownership, mode and validation options are ignored. This is what C(dhcpops.kea.validate) uses.
    type: str
    choices: [present, rendered]
    default: present
  kea_version:
    description:
      - Version of the Kea that will run the file, such as V(2.2.0). Drives version-specific rendering (hook
        library paths, logger option spelling, control sockets) and which path rules the linter enforces.
    type: str
  hooks_dir:
    description:
      - Directory of Kea's hook libraries on the target. Hook libraries given by bare file name are rendered as
        full paths inside it, which every Kea release accepts.
    type: path
  interfaces:
    description: Interfaces kea-dhcp4 listens on (C(interfaces-config.interfaces)), such as V(eth0) or V(eth0/192.0.2.1).
    type: list
    elements: str
  subnets:
    description:
      - Subnets in Kea's own C(subnet4) syntax. Every subnet needs an explicit, stable C(id), because Kea ties leases to
        subnet ids and ids that shift when a subnet is inserted orphan leases.
    type: list
    elements: dict
    default: []
  subnets_label:
    description: Name used for O(subnets) in messages, such as the variable they came from.
    type: str
    default: subnets
  reservations_files:
    description:
      - Files on the controller with more reservations, merged into their subnets by subnet id. JSON or YAML
        with the keys C(subnets) (a list of C({id, reservations})) and optionally C(reservations) (global).
      - Read by the plugin itself rather than through Ansible's variables, so that tens of thousands of
        reservations load in a fraction of a second. Relative paths are searched like C(files/) of a role.
    type: list
    elements: path
    default: []
  reservations_in_config:
    description:
      - Write the reservations of O(reservations_files) into the configuration.
      - V(false) when they live in a hosts database instead, kept there through the API by
        M(dhcpops.kea.kea_reservations); they are still linted with the configuration (an address in another
        subnet's pool, duplicates, ...), so both ways refuse the same mistakes. Inline reservations of O(subnets)
        are written either way.
    type: bool
    default: true
  option_data:
    description: Global C(option-data) in Kea syntax.
    type: list
    elements: dict
    default: []
  globals:
    description: Other global C(Dhcp4) parameters in Kea syntax, such as C(valid-lifetime).
    type: dict
    default: {}
  lease_database:
    description: C(lease-database) in Kea syntax.
    type: dict
  hosts_database:
    description: C(hosts-database) in Kea syntax.
    type: dict
  control_socket:
    description: The unix C(control-socket) (used by the control agent of Kea before 3.0).
    type: dict
  control_sockets:
    description: C(control-sockets) in Kea syntax (Kea 2.7.2 and later), such as an HTTP socket with basic auth.
    type: list
    elements: dict
    default: []
  hooks_libraries:
    description: Extra hook libraries in Kea syntax. The HA hook and C(lease_cmds) come from O(ha).
    type: list
    elements: raw
    default: []
  ha:
    description:
      - One Kea C(high-availability) relationship in Kea syntax (C(this-server-name), C(mode), C(peers), ...).
        Loads C(libdhcp_lease_cmds.so) and C(libdhcp_ha.so) with it.
    type: dict
  loggers:
    description: C(loggers) in Kea syntax; C(output-options) is spelled as the given Kea version expects.
    type: list
    elements: dict
    default: []
  raw:
    description: Any other Kea settings, deep-merged into C(Dhcp4) last (mappings merge, other values replace).
    type: dict
    default: {}
  lint:
    description: Linter settings.
    type: dict
    default: {}
    suboptions:
      reservation_in_pool:
        description: What a reservation inside its subnet's dynamic pool is.
        type: str
        choices: [error, warning, ignore]
        default: warning
      fail_on_warnings:
        description: Treat warnings as errors.
        type: bool
        default: false
      extra_subnet_keys:
        description: Subnet keys newer than this collection that the linter should accept.
        type: list
        elements: str
        default: []
  kea_paths:
    description:
      - Kea's directories on the target (C(lib), C(log), C(run), C(hooks)), for the linter's path rules.
        Omit to skip them.
    type: dict
  validate:
    description: Run O(validate_command) on the staged candidate before it replaces O(dest).
    type: bool
    default: true
  validate_command:
    description: Command that checks a candidate; C(%s) is replaced by its path.
    type: str
    default: kea-dhcp4 -t %s
  validate_user:
    description: Run the check as this user (the Kea user), as the daemon will read the file. Default is the connection user.
    type: str
  owner:
    description: Owner of O(dest).
    type: str
    default: root
  group:
    description: Group of O(dest); the Kea daemon's group, so that it can read a file holding database passwords.
    type: str
  mode:
    description: Mode of O(dest) and of its backups.
    type: raw
    default: '0640'
  backup:
    description: Keep a copy of the replaced file next to it.
    type: bool
    default: true
  backups_keep:
    description: How many backups of O(dest) to keep; older ones are removed.
    type: int
    default: 5
  src:
    description:
      - Internal. The rendered candidate, transferred by the action plugin. Not for direct use.
    type: path
attributes:
  action:
    support: full
    details: The action plugin builds and lints on the controller; the module stages, validates and swaps.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Builds and lints, and reports whether the file would change; writes nothing and runs no validation.
  diff_mode:
    support: full
    details: The diff is of canonical JSON with every password masked.
  platform:
    platforms: posix
notes:
  - Reservation files are read with PyYAML's safe loader (C loader when available) or C(json); Ansible Vault is not
    supported in them, because reservations are not secrets. Quote MAC addresses in YAML.
  - Database and API passwords in the rendered file are never shown in diffs or returned values.
seealso:
  - name: Kea configuration reference
    description: The kea-dhcp4 configuration syntax.
    link: https://kea.readthedocs.io/
'''

EXAMPLES = r'''
- name: Install the DHCPv4 configuration
  dhcpops.kea.dhcp4_config:
    kea_version: "2.2.0"
    hooks_dir: /usr/lib/x86_64-linux-gnu/kea/hooks
    interfaces: [eth0]
    subnets:
      - id: 10
        subnet: 192.0.2.0/24
        pools:
          - pool: 192.0.2.100 - 192.0.2.199
        option-data:
          - name: routers
            data: 192.0.2.1
    reservations_files:
      - reservations.yaml
    lease_database:
      type: memfile
      name: /var/lib/kea/kea-leases4.csv
    validate_user: _kea
    group: _kea
  register: kea_conf

- name: Render and lint only, on the controller (CI)
  dhcpops.kea.dhcp4_config:
    state: rendered
    dest: "{{ playbook_dir }}/out/{{ inventory_hostname }}.json"
    subnets: "{{ kea_dhcp4_subnets }}"
  delegate_to: localhost
'''

RETURN = r'''
dest:
  description: Path of the configuration file.
  returned: always
  type: str
checksum:
  description: SHA-256 of the rendered configuration (secrets included, so it changes when a password does).
  returned: always
  type: str
backup_file:
  description: Path of the backup of the replaced file.
  returned: when a file was replaced and O(backup=true)
  type: str
findings:
  description: Linter findings (errors stop the task; warnings are also shown as Ansible warnings).
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error) or V(warning).
      type: str
    code:
      description: Stable identifier of the rule, such as V(subnet-overlap).
      type: str
    message:
      description: What is wrong, naming every entry involved.
      type: str
    entries:
      description: The entries involved.
      type: list
      elements: str
stats:
  description: Counts of what the configuration holds.
  returned: always
  type: dict
  sample: {subnets: 2, pools: 3, reservations: 10}
validation:
  description: The check run on the candidate; C(stderr) is Kea's own message when it rejects the file.
  returned: when validation ran
  type: dict
  contains:
    command:
      description: The command run.
      type: list
      elements: str
    rc:
      description: Exit status.
      type: int
    stderr:
      description: Kea's standard error.
      type: str
    stdout_tail:
      description: The last lines Kea logged on standard output.
      type: str
diff:
  description: Before and after, as canonical JSON with passwords masked.
  returned: when run with C(--diff)
  type: dict
'''

import datetime
import glob
import grp
import hashlib
import os
import pwd
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.dhcpops.kea.plugins.module_utils.dhcp4_config_spec import ARGUMENT_SPEC
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import redacted_view

BACKUP_SUFFIX = '.bak'
CANDIDATE_TAG = '.candidate.'


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def backup_pattern(dest):
    directory, name = os.path.split(dest)
    return os.path.join(directory, '.%s.*%s' % (name, BACKUP_SUFFIX)), directory, name


def prune_backups(dest, keep):
    pattern = backup_pattern(dest)[0]
    backups = sorted(glob.glob(pattern))
    removed = []
    for old in backups[:max(0, len(backups) - keep)]:
        os.unlink(old)
        removed.append(old)
    return removed


def resolve_ids(module, owner, group):
    try:
        uid = pwd.getpwnam(owner).pw_uid if owner else -1
    except KeyError:
        module.fail_json(msg='owner %r does not exist on the target; is Kea installed?' % owner)
    try:
        gid = grp.getgrnam(group).gr_gid if group else -1
    except KeyError:
        module.fail_json(msg='group %r does not exist on the target; is Kea installed? '
                             '(Debian runs Kea as _kea, ISC packages as kea)' % group)
    return uid, gid


def parse_mode(module, mode):
    if isinstance(mode, int):
        return mode
    try:
        return int(str(mode), 8)
    except ValueError:
        module.fail_json(msg='mode must be octal such as "0640", got %r' % (mode,))


def write_private(path, data, uid, gid, mode):
    """Create ``path`` exclusively, owned and moded before a byte of a secret is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def validation_command(module, template, candidate, user):
    argv = [candidate if part == '%s' else part for part in shlex.split(template)]
    if '%s' not in template:
        module.fail_json(msg="validate_command must contain %%s where the candidate's path goes, got %r" % template)
    if user and os.geteuid() == 0 and pwd.getpwuid(0).pw_name != user:
        runuser = module.get_bin_path('runuser') or module.get_bin_path('setpriv')
        if runuser is None:
            module.fail_json(msg='cannot run the check as %s: neither runuser nor setpriv found' % user)
        if runuser.endswith('runuser'):
            argv = [runuser, '-u', user, '--'] + argv
        else:
            entry = pwd.getpwnam(user)
            argv = [runuser, '--reuid', str(entry.pw_uid), '--regid', str(entry.pw_gid), '--init-groups'] + argv
    return argv


def tail(text, lines=15):
    return '\n'.join(to_text(text).rstrip().splitlines()[-lines:])


def attributes_differ(path, uid, gid, mode):
    st = os.stat(path)
    return ((uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid)
            or (st.st_mode & 0o7777) != mode)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    dest = params['dest']
    mode = parse_mode(module, params['mode'])
    if not params['src']:
        module.fail_json(msg='dhcpops.kea.dhcp4_config runs through its action plugin; src is internal')
    new = read_bytes(params['src'])
    if new is None:
        module.fail_json(msg='internal: rendered candidate %s is missing on the target' % params['src'])
    old = read_bytes(dest)
    directory = os.path.dirname(dest) or '.'
    result = dict(changed=False, dest=dest, checksum=sha256(new))

    if module._diff and old != new:
        result['diff'] = dict(before_header=dest, after_header='%s (candidate)' % dest,
                              before=redacted_view(to_text(old, errors='surrogate_or_replace')) if old is not None else '',
                              after=redacted_view(to_text(new, errors='surrogate_or_replace')))

    if not os.path.isdir(directory):
        if module.check_mode:
            result['changed'] = True
            module.exit_json(**result)
        module.fail_json(msg='the directory of dest, %s, does not exist; is Kea installed?' % directory, **result)

    uid, gid = resolve_ids(module, params['owner'], params['group'])

    if old == new:
        if attributes_differ(dest, uid, gid, mode):
            result['changed'] = True
            if not module.check_mode:
                os.chown(dest, uid, gid)
                os.chmod(dest, mode)
        module.exit_json(**result)

    result['changed'] = True
    if module.check_mode:
        module.exit_json(**result)

    # The candidate lives beside the live file: Debian's AppArmor profile lets
    # kea-dhcp4 read only its config directory, and rename() is atomic only
    # within one file system.
    fd, candidate = tempfile.mkstemp(prefix='.%s%s' % (os.path.basename(dest), CANDIDATE_TAG), dir=directory)
    os.close(fd)
    os.unlink(candidate)
    try:
        write_private(candidate, new, uid, gid, mode)
        if params['validate']:
            argv = validation_command(module, params['validate_command'], candidate, params['validate_user'])
            rc, out, err = module.run_command(argv, cwd=directory)
            result['validation'] = dict(command=argv, rc=rc, stderr=to_text(err).strip(), stdout_tail=tail(out))
            if rc != 0:
                reason = to_text(err).strip() or tail(out, 3) or 'exit status %d' % rc
                result['changed'] = False
                module.fail_json(msg='Kea rejected the new configuration; %s was not changed. %s said: %s'
                                 % (dest, shlex.split(params['validate_command'])[0], reason), **result)
        if old is not None and params['backup']:
            stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S.%f')
            backup = os.path.join(directory, '.%s.%s%s' % (os.path.basename(dest), stamp, BACKUP_SUFFIX))
            write_private(backup, old, uid, gid, mode)
            result['backup_file'] = backup
        os.rename(candidate, dest)
        fsync_dir(directory)
        if params['backup']:
            result['backups_removed'] = prune_backups(dest, max(params['backups_keep'], 1))
    except (IOError, OSError) as exc:
        module.fail_json(msg='writing %s failed: %s; the live file was not replaced' % (dest, to_native(exc)), **result)
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
