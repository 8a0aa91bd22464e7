#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_reservations
short_description: Keep the host reservations of a Kea hosts database in sync with reservation files
version_added: "0.2.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - dhcpops.kea.kea_api
  - dhcpops.kea.kea_reservations
description:
  - Makes the reservations that a Kea server's hosts database holds for the managed subnets exactly those of the
    reservation files (the format of the role's C(kea_dhcp4_reservations_files), see C(docs/data-model.md)) -
    adds the missing ones, updates the changed ones, and deletes the others.
  - Works through the C(host_cmds) hook (C(libdhcp_host_cmds.so)), which Kea 3.0 ships as open source and Debian
    forky packages. Kea 2.2 and 2.6 from Debian have no C(host_cmds); there the playbook C(dhcpops.kea.reservations)
    applies the same files through the configuration and a rolling reload instead.
  - Reads what the database holds in pages (C(reservation-get-page), O(page_size) hosts per call), one subnet on its
    own, several in one pass over the database, so a no-change run over ten thousand reservations costs about ten
    calls, not ten thousand.
  - Every conflict is found before anything is written, and any conflict changes nothing. A conflict is an address
    reserved twice, an identifier listed twice in a subnet, an address outside its subnet or inside another
    subnet's pool, an address the configuration file already reserves for another host, and an unknown subnet id.
  - With a hosts database shared by an HA pair, run it against one peer of the pair; both serve the result at
    once.
  - The controller side (an action plugin) reads O(reservations_files) and records every change made in
    O(audit_log).
options:
  reservations_files:
    description:
      - Reservation files on the controller (YAML or JSON), read by the action plugin, in the format of the role's
        C(kea_dhcp4_reservations_files) - top-level C(subnets), a list of C(id) and C(reservations), and optional
        global C(reservations).
      - A relative path is looked for in the C(files/) of the calling roles, then in the playbook directory and the
        inventory directory, each with its C(files/) first; never in a role's C(tasks/) or a collection's C(playbooks/).
      - Mutually exclusive with O(subnets).
    type: list
    elements: path
  subnets:
    description:
      - The reservations as data instead of files, a list of C(id) and C(reservations) (Kea's syntax); id V(0) holds
        global reservations.
    type: list
    elements: dict
  managed_subnets:
    description:
      - Subnet ids whose reservations in the hosts database this task owns. A reservation of a managed subnet that is
        not in the files is deleted (see O(prune)); reservations of other subnets are never read or touched.
      - Defaults to the subnets named in the files. Give every subnet of the server (the role does) so that
        emptying a subnet's list also empties its reservations.
      - Global reservations (subnet id V(0)) are managed when the files hold any.
    type: list
    elements: int
  prune:
    description:
      - Delete reservations of the managed subnets that the files do not list.
      - With V(false), such a reservation that holds an address the files give another host is a conflict.
    type: bool
    default: true
  page_size:
    description: Reservations per C(reservation-get-page) call, 1 to 1000.
    type: int
    default: 1000
attributes:
  check_mode:
    support: full
    details: Reads the database and reports the plan, with the same conflicts; writes nothing.
  diff_mode:
    support: full
    details: One line per changed reservation, before and after.
  platform:
    platforms: posix
  action:
    support: full
    details: The action plugin reads files and writes the audit log on the controller; the module talks to Kea.
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - The reservations are compared as Kea stores them - identifiers in lower case with colons (a MAC written
    C(00-1B-63-84-45-E6) or C(001b.6384.45e6) is the same host), host names in lower case, unset keys at Kea's
    defaults, a C(comment) in C(user-context).
  - Reservations that the configuration file holds (inline in C(kea_dhcp4_subnets)) are outside the hosts database
    and are never touched; an address they reserve cannot be given to another host here.
seealso:
  - module: dhcpops.kea.kea_reservation
  - name: dhcpops.kea.reservations
    description: The playbook that chooses this module or the configuration path per HA pair.
    link: https://github.com/dhcpops/kea/blob/main/docs/reservations.md
'''

EXAMPLES = r'''
- name: Make the pair's hosts database hold exactly the site's reservations
  dhcpops.kea.kea_reservations:
    api_url: http://127.0.0.1:8004/
    api_service: ""
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    reservations_files:
      - "{{ inventory_dir }}/../reservations/site_a.yaml"
    managed_subnets: [101, 102]
    audit_log: /var/log/dhcpops/reservations.jsonl
  become: true
  register: sync

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ sync.counts }} in {{ sync.api_calls }}"
'''

RETURN = r'''
path:
  description: How the reservations were applied; always V(api) for this module.
  returned: always
  type: str
  sample: api
counts:
  description: Reservations added, updated, deleted and left as they were (planned ones in check mode).
  returned: always
  type: dict
  sample: {"added": 1, "updated": 0, "deleted": 2, "unchanged": 9997}
api_calls:
  description: Commands sent to Kea, split into reads (pages, C(config-get)) and writes.
  returned: always
  type: dict
  sample: {"reads": 13, "writes": 3}
changes:
  description: Each change made (or planned, in check mode), with the reservation before and after.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "added", "subnet_id": 1, "before": null,
            "after": {"hw-address": "0a:1b:2c:3d:4e:5f", "ip-address": "192.0.2.20", "subnet-id": 1}}]
conflicts:
  description: Every conflict found; any conflict fails the task and changes nothing.
  returned: when there are conflicts
  type: list
  elements: str
audit:
  description: The record appended to O(audit_log) (returned also without a log).
  returned: when something changed, outside check mode
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import (
    KeaApiError,
    api_argument_spec,
    api_module_kwargs,
    client_from_module,
)
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_reservations import (
    MAX_PAGE,
    HostApi,
    ReservationError,
    SubnetMap,
    apply_plan,
    canonical,
    diff_text,
    plan_sync,
    planned_records,
    present_host,
)


def desired_hosts(module, subnets):
    """subnet id -> canonical hosts, each naming where it came from."""
    desired = {}
    try:
        for s_index, entry in enumerate(subnets):
            if not isinstance(entry, dict) or not isinstance(entry.get('id'), int) or isinstance(entry['id'], bool):
                raise ReservationError('subnets[%d] needs an integer id (0 for global reservations)' % s_index)
            source = entry.get('source') or 'subnets[%d]' % s_index
            hosts = desired.setdefault(entry['id'], [])
            for r_index, host in enumerate(entry.get('reservations') or []):
                where = '%s: subnet %d reservation %d' % (source, entry['id'], r_index)
                if not isinstance(host, dict):
                    raise ReservationError('%s must be a mapping' % where)
                canon = canonical(host, where)
                canon['where'] = where
                hosts.append(canon)
    except ReservationError as exc:
        module.fail_json(msg='%s. Nothing was changed.' % exc, path='api', changes=[], counts={}, api_calls={})
    return desired


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        reservations_files=dict(type='list', elements='path'),
        subnets=dict(type='list', elements='dict'),
        managed_subnets=dict(type='list', elements='int'),
        prune=dict(type='bool', default=True),
        page_size=dict(type='int', default=MAX_PAGE),
        operation_target=dict(type='str', choices=['memory', 'database', 'all', 'alternate']),
        audit_log=dict(type='path'),
    )
    kwargs = api_module_kwargs()
    kwargs['mutually_exclusive'].append(('reservations_files', 'subnets'))
    kwargs['required_one_of'] = kwargs.get('required_one_of', []) + [('reservations_files', 'subnets')]
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    p = module.params
    if p['reservations_files'] is not None:
        module.fail_json(msg='reservations_files is read on the controller by the action plugin; call the module '
                             'as dhcpops.kea.kea_reservations (not through a different action)')
    if not 1 <= p['page_size'] <= MAX_PAGE:
        module.fail_json(msg='page_size must be from 1 to %d, got %d' % (MAX_PAGE, p['page_size']))

    desired = desired_hosts(module, p['subnets'])
    managed = set(p['managed_subnets'] if p['managed_subnets'] is not None else desired)
    if 0 in desired:
        # Global reservations are managed when the files hold any.
        managed.add(0)
    managed = sorted(managed)
    unmanaged = sorted(set(desired) - set(managed))
    if unmanaged:
        module.fail_json(msg='the files hold reservations for subnet id(s) %s, which managed_subnets (%s) leaves out; '
                             'nothing was changed' % (', '.join(str(s) for s in unmanaged),
                                                      ', '.join(str(s) for s in managed)))

    client = client_from_module(module)
    api = HostApi(client, p['operation_target'])
    result = dict(changed=False, path='api', changes=[], counts={}, api_calls={})
    try:
        subnet_map = SubnetMap(api.config())
        present = dict((sid, [present_host(h, sid) for h in hosts])
                       for sid, hosts in api.held(managed, p['page_size']).items())
        plan = plan_sync(desired, present, subnet_map, p['prune'])
        counts = dict(added=len(plan['adds']), updated=len(plan['updates']), deleted=len(plan['deletes']),
                      unchanged=plan['unchanged'])
        result['counts'] = counts
        if plan['errors']:
            result.update(conflicts=plan['errors'], api_calls=dict(reads=api.reads, writes=api.writes))
            module.fail_json(msg='%d conflict(s) in the reservations; nothing was changed:\n - %s'
                                 % (len(plan['errors']), '\n - '.join(plan['errors'])), **result)
        changing = counts['added'] + counts['updated'] + counts['deleted'] > 0
        if module.check_mode or not changing:
            result['changes'] = planned_records(plan)
        else:
            try:
                apply_plan(api, plan, result['changes'])
            except KeaApiError as exc:
                # Report what was done before the failure: the next run completes it.
                result.update(changed=bool(result['changes']), api_calls=dict(reads=api.reads, writes=api.writes))
                module.fail_json(msg='%s. %d change(s) were made before it (see changes); fix the cause and run '
                                     'again to finish' % (exc.message, len(result['changes'])), **result)
    except KeaApiError as exc:
        result['api_calls'] = dict(reads=api.reads, writes=api.writes)
        module.fail_json(msg=exc.message, http_status=exc.http_status, **result)

    result['api_calls'] = dict(reads=api.reads, writes=api.writes)
    result['changed'] = changing
    if changing and module._diff:
        before = [c['before'] for c in result['changes'] if c['before']]
        after = [c['after'] for c in result['changes'] if c['after']]
        result['diff'] = dict(before_header='%s (hosts database)' % client.where, after_header='reservation files',
                              before=diff_text(before), after=diff_text(after))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
