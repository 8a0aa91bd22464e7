#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: fast_path
short_description: Tell whether a role's last full run still holds, so a no-change run can skip it
version_added: "0.2.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
description:
  - "The roles of this collection call this module first and last. At the end of a full run (every task, no tags,
    not in check mode) V(record) leaves a stamp on the host, C(/var/lib/dhcpops-kea/fast-path/ROLE.json). It
    holds keyed digests of the role's inputs, and the state of what the role manages: the content, mode and
    owner of its files, which packages are installed at which version, and whether its services are active
    and enabled."
  - At the start of the next run, V(probe) re-reads that state on the host, and V(compare) recomputes the
    inputs on the controller. When nothing differs, the role skips its tasks. A difference of any kind, a
    missing stamp, or a stamp older than O(max_age) runs the role in full. V(compare) names each difference.
  - "The inputs: every variable whose name starts with one of O(prefixes), as this host sees it (templated, with
    the role's defaults); the same variables as the inventory sets them for each host in O(peers); the content
    of the controller files in O(files); the content of the collection's roles and plugins; and a few facts of
    the host (addresses, distribution). Variables are templated against those facts only, the same at
    V(compare) and at V(record), so the result does not depend on which facts a run has gathered."
  - Only digests leave the controller, never a value. Each digest is an HMAC-SHA256 under a random salt that is
    kept in the stamp (readable by root only), so a variable's value cannot be recovered from the stamp.
  - "Not seen: state that lives outside the host's files, packages and services, such as the database objects
    of C(dhcpops.kea.kea_postgresql), reservations in a hosts database, or a Stork server that has forgotten an
    agent. O(max_age) bounds how long such drift can go unnoticed; a run with the role's C(fast_path) variable
    set to false always converges in full."
  - V(compare) runs on the controller only. V(probe) and V(record) run on the host; V(invalidate) removes the
    stamp at the start of a full run, so that an interrupted run never leaves a stamp behind it.
options:
  role:
    description: Name of the role the stamp is for. One stamp per role and host.
    type: str
    required: true
  state:
    description:
      - V(probe) reads the stamp and the state of the host, and returns the host's facts for V(compare).
      - V(compare) decides on the controller, from the probe's result, whether the role may be skipped.
      - V(invalidate) removes the stamp.
      - V(record) writes the stamp at the end of a full run.
    type: str
    choices: [probe, compare, invalidate, record]
    required: true
  probe:
    description: The registered result of V(probe) on this host, for V(compare).
    type: dict
  peers:
    description:
      - Other hosts whose inventory variables shape this host's configuration (the HA partner). Their variables
        with O(prefixes) and their facts from V(probe) of this run are inputs.
    type: list
    elements: str
    default: []
  files:
    description:
      - Controller files (or directories, by the names and sizes of their files) whose content is an input,
        such as reservation files. A relative path is looked for as C(dhcpops.kea.dhcp4_config) looks for
        reservation files.
    type: list
    elements: str
    default: []
  prefixes:
    description: Variable names with these prefixes are inputs. Names that contain C(fast_path) are not.
    type: list
    elements: str
    default: [kea_, stork_agent_]
  max_age:
    description: Seconds after which a stamp no longer counts, whatever it says. V(0) means no limit.
    type: int
    default: 86400
  paths:
    description: For V(record), the files and directories the role manages on the host (content, mode, owner).
    type: list
    elements: path
    default: []
  listings:
    description:
      - For V(record), directories whose file names (not content) are recorded, such as site-packages.
      - Shell wildcards are expanded on the host.
    type: list
    elements: path
    default: []
  services:
    description: For V(record), systemd units that must be active (and stay as enabled as they are) for the stamp to hold.
    type: list
    elements: str
    default: []
  packages:
    description: For V(record), Debian packages whose installed versions are recorded.
    type: list
    elements: str
    default: []
  inputs:
    description: Internal. The keyed digests of the inputs that the action plugin passes to V(record).
    type: dict
  invalidate:
    description:
      - For V(probe), also remove the stamp, as V(invalidate) does, in the same call. The collection's roles set it
        when their fast path is off, so that the full run that follows needs no separate V(invalidate).
    type: bool
    default: false
  stamp_dir:
    description: Directory of the stamps on the host.
    type: path
    default: /var/lib/dhcpops-kea/fast-path
attributes:
  action:
    support: full
    description: V(compare) runs in the action plugin only; the other states also run the module on the host.
  async:
    support: none
    description: The probe is meant to be quick; it does not run as an asynchronous task.
  check_mode:
    support: full
    details: V(probe) and V(compare) only read. V(invalidate) and V(record) do nothing in check mode.
  diff_mode:
    support: none
  platform:
    platforms: debian
notes:
  - V(record) and V(invalidate) report C(changed=false) - the stamp is bookkeeping, not configuration.
'''

EXAMPLES = r'''
# The pattern of the collection's roles (roles/kea_dhcp4/tasks/main.yml):
- name: Read the stamp of the last full run
  dhcpops.kea.fast_path:
    role: kea_dhcp4
    state: probe
  register: _kea_dhcp4_fast_probe

- name: Compare it with this run's inputs
  dhcpops.kea.fast_path:
    role: kea_dhcp4
    state: compare
    probe: "{{ _kea_dhcp4_fast_probe }}"
    peers: "{{ groups[kea_dhcp4_ha_group] | default([]) }}"
    files: "{{ kea_dhcp4_reservations_files }}"
  register: _kea_dhcp4_fast

- name: Everything else, only when something differs
  ansible.builtin.include_tasks: deploy.yml
  when: not _kea_dhcp4_fast.current
'''

RETURN = r'''
current:
  description: V(compare) - true when the role may be skipped on this host.
  returned: state is compare
  type: bool
reasons:
  description: Why the role runs in full (empty when it is current). Names inputs, files, services and packages, never values.
  returned: state is probe or compare
  type: list
  elements: str
  sample: ["no stamp: this role has not finished a full run here since the last change", "file /etc/kea/kea-dhcp4.conf changed since the last run"]
invalidated:
  description: V(probe) - whether the probe removed the stamp (O(invalidate), not in check mode).
  returned: state is probe
  type: bool
stamp:
  description: V(probe) - what the stamp says.
  returned: state is probe
  type: dict
  contains:
    found:
      description: Whether there is a stamp.
      type: bool
    age:
      description: Seconds since it was recorded, by the host's clock.
      type: int
    inputs:
      description: The salt and keyed digests of the inputs.
      type: dict
ansible_facts:
  description: V(probe) - the facts the inputs are templated against, under C(dhcpops_kea_host).
  returned: state is probe
  type: dict
'''

import glob
import json
import os
import socket
import struct
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dhcpops.kea.plugins.module_utils.fast_path import (
    STAMP_VERSION, compare_entries, dpkg_versions, fingerprint_listing, fingerprint_path)


def _os_release():
    fields = {}
    for path in ('/etc/os-release', '/usr/lib/os-release'):
        try:
            with open(path) as handle:
                for line in handle:
                    key, sep, value = line.strip().partition('=')
                    if sep:
                        fields[key] = value.strip().strip('"\'')
            break
        except (IOError, OSError):
            continue
    return fields


def _default_ipv4():
    """Interface and address of the IPv4 default route (/proc/net/route, SIOCGIFADDR), or {}."""
    best = None
    try:
        with open('/proc/net/route') as handle:
            for line in handle.readlines()[1:]:
                cols = line.split()
                if len(cols) > 6 and cols[1] == '00000000' and cols[7] == '00000000':
                    metric = int(cols[6])
                    if best is None or metric < best[0]:
                        best = (metric, cols[0], cols[2])
    except (IOError, OSError, ValueError):
        return {}
    if best is None:
        return {}
    out = dict(interface=best[1], gateway=socket.inet_ntoa(struct.pack('<L', int(best[2], 16))))
    try:
        import fcntl  # pylint: disable=import-outside-toplevel
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack('256s', best[1][:15].encode()))
            out['address'] = socket.inet_ntoa(packed[20:24])
        finally:
            sock.close()
    except (IOError, OSError):
        pass
    return out


def host_facts(module):
    release = _os_release()
    like = (release.get('ID', '') + ' ' + release.get('ID_LIKE', '')).split()
    names = {'debian': 'Debian', 'ubuntu': 'Ubuntu'}
    version = release.get('VERSION_ID', '')
    facts = dict(
        hostname=socket.gethostname().split('.')[0],
        nodename=os.uname()[1],
        system=os.uname()[0],
        architecture=os.uname()[4],
        distribution=names.get(release.get('ID', ''), release.get('NAME', 'n/a')),
        distribution_release=release.get('VERSION_CODENAME', 'n/a'),
        distribution_version=version or 'n/a',
        distribution_major_version=version.split('.')[0] if version else 'n/a',
        os_family='Debian' if ('debian' in like or 'ubuntu' in like) else release.get('ID', 'n/a').capitalize(),
        default_ipv4=_default_ipv4(),
    )
    ip = module.get_bin_path('ip')
    if ip:
        rc, out, dummy = module.run_command([ip, '-4', '-o', 'addr', 'show'])
        if rc == 0:
            addresses = set()
            for line in out.splitlines():
                words = line.split()
                if 'inet' in words[:-1]:
                    address = words[words.index('inet') + 1].split('/')[0]
                    if not address.startswith('127.'):
                        addresses.add(address)
            facts['all_ipv4_addresses'] = sorted(addresses)
    return facts


def service_states(module, units):
    """{unit: 'ActiveState UnitFileState'} from one systemctl call."""
    if not units:
        return {}
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return dict((unit, 'no systemctl') for unit in units)
    rc, out, dummy = module.run_command([systemctl, 'show', '--property=Id,ActiveState,UnitFileState', '--'] + list(units))
    states = {}
    blocks = out.strip().split('\n\n') if rc == 0 else []
    for unit, block in zip(units, blocks):
        fields = dict(line.partition('=')[::2] for line in block.splitlines())
        states[unit] = '%s %s' % (fields.get('ActiveState', '?'), fields.get('UnitFileState', '') or '-')
    for unit in units:
        states.setdefault(unit, 'unknown')
    return states


def host_state(module, paths, listings, services, packages):
    files = {}
    for path in paths:
        files.update(fingerprint_path(path))
    for pattern in listings:
        for path in sorted(glob.glob(pattern)) or [pattern]:
            files.update(fingerprint_listing(path))
    return dict(files=files, services=service_states(module, services),
                packages=dpkg_versions(packages))


def stamp_path(module):
    role = module.params['role']
    if not role.replace('_', '').isalnum():
        module.fail_json(msg='fast_path: role must be a role name (letters, digits, _), got %r' % role)
    return os.path.join(module.params['stamp_dir'], role + '.json')


def read_stamp(path):
    try:
        with open(path) as handle:
            stamp = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get('version') == STAMP_VERSION else None


def probe(module):
    path = stamp_path(module)
    facts = host_facts(module)
    stamp = read_stamp(path)
    # With invalidate (the fast path is off), the full run that follows
    # needs no stamp: it is read first, then removed, and the host is not
    # compared with it (every task runs anyway).
    invalidated = bool(module.params['invalidate'] and not module.check_mode)
    if invalidated:
        remove_stamp(module, path)
    if stamp is None:
        module.exit_json(changed=False, ansible_facts=dict(dhcpops_kea_host=facts), invalidated=invalidated,
                         stamp=dict(found=False), reasons=[
                             'no stamp: this role has not finished a full run here since the last change'])
    found = dict(found=True, age=int(time.time() - stamp.get('recorded', 0)), inputs=stamp.get('inputs', {}))
    if invalidated:
        module.exit_json(changed=False, ansible_facts=dict(dhcpops_kea_host=facts), invalidated=True, stamp=found,
                         reasons=['stamp removed (invalidate): a full run follows'])
    recorded = stamp.get('host', {})
    now = host_state(module, recorded.get('paths', []), recorded.get('listings', []),
                     recorded.get('services', []), recorded.get('packages', []))
    reasons = compare_entries('file', recorded.get('files', {}), now['files'])
    for unit, state in sorted(now['services'].items()):
        if not state.startswith('active '):
            reasons.append('service %s is %s' % (unit, state.split(' ')[0]))
        elif state != recorded.get('service_states', {}).get(unit):
            reasons.append('service %s changed: %s (was %s)' % (unit, state, recorded.get('service_states', {}).get(unit)))
    reasons.extend(compare_entries('package', recorded.get('package_versions', {}), now['packages']))
    module.exit_json(changed=False, ansible_facts=dict(dhcpops_kea_host=facts), reasons=reasons,
                     invalidated=False, stamp=found)


def remove_stamp(module, path):
    if os.path.exists(path):
        try:
            os.unlink(path)
        except OSError as exc:
            module.fail_json(msg='fast_path: cannot remove the stamp %s: %s' % (path, to_native(exc)))


def invalidate(module):
    path = stamp_path(module)
    if not module.check_mode:
        remove_stamp(module, path)
    module.exit_json(changed=False)


def record(module):
    params = module.params
    inputs = params['inputs']
    if not isinstance(inputs, dict) or not inputs.get('salt') or not isinstance(inputs.get('items'), dict):
        module.fail_json(msg='fast_path: record needs the inputs that the action plugin computes; '
                             'call dhcpops.kea.fast_path, not the module on its own')
    path = stamp_path(module)
    if module.check_mode:
        module.exit_json(changed=False)
    state = host_state(module, params['paths'], params['listings'], params['services'], params['packages'])
    inactive = sorted(unit for unit, s in state['services'].items() if not s.startswith('active '))
    if inactive:
        # A unit that is not running after a full run: no stamp, so the next run looks again.
        invalidate_quietly(path)
        module.exit_json(changed=False, recorded=False,
                         msg='no stamp recorded: %s not active' % ', '.join(inactive))
    stamp = dict(version=STAMP_VERSION, role=params['role'], recorded=int(time.time()), inputs=inputs,
                 host=dict(paths=params['paths'], listings=params['listings'], services=params['services'],
                           packages=params['packages'], files=state['files'], service_states=state['services'],
                           package_versions=state['packages']))
    directory = params['stamp_dir']
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        os.chmod(directory, 0o700)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix='.' + params['role'], suffix='.tmp')
        with os.fdopen(handle, 'w') as out:
            json.dump(stamp, out, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except (IOError, OSError) as exc:
        module.fail_json(msg='fast_path: cannot write the stamp %s: %s' % (path, to_native(exc)))
    module.exit_json(changed=False, recorded=True, stamp_file=path)


def invalidate_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def main():
    module = AnsibleModule(
        argument_spec=dict(
            role=dict(type='str', required=True),
            state=dict(type='str', required=True, choices=['probe', 'compare', 'invalidate', 'record']),
            probe=dict(type='dict'),
            peers=dict(type='list', elements='str', default=[]),
            files=dict(type='list', elements='str', default=[]),
            prefixes=dict(type='list', elements='str', default=['kea_', 'stork_agent_']),
            max_age=dict(type='int', default=86400),
            paths=dict(type='list', elements='path', default=[]),
            listings=dict(type='list', elements='path', default=[]),
            services=dict(type='list', elements='str', default=[]),
            packages=dict(type='list', elements='str', default=[]),
            inputs=dict(type='dict'),
            invalidate=dict(type='bool', default=False),
            stamp_dir=dict(type='path', default='/var/lib/dhcpops-kea/fast-path'),
        ),
        supports_check_mode=True,
    )
    state = module.params['state']
    if state == 'probe':
        probe(module)
    elif state == 'invalidate':
        invalidate(module)
    elif state == 'record':
        record(module)
    module.fail_json(msg='fast_path: state=compare runs on the controller, in the action plugin of the same name')


if __name__ == '__main__':
    main()
