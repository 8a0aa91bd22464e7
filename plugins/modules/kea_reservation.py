#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_reservation
short_description: Add, change or delete one host reservation through Kea's API
version_added: "0.2.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - dhcpops.kea.kea_api
  - dhcpops.kea.kea_reservations
description:
  - Makes one reservation of a Kea DHCPv4 server exactly as given (O(state=present)) or removes it
    (O(state=absent)), through the C(host_cmds) hook - C(reservation-get), C(reservation-add), C(reservation-update)
    and C(reservation-del) - without a configuration file or a reload. For a provisioning tool, or an AWX job
    template, that adds or removes one host now.
  - Needs C(libdhcp_host_cmds.so) (Kea 3.0 as Debian forky packages it; ISC's packages) and, to survive a restart
    and serve both HA peers, a hosts database; the role loads the hook when C(kea_dhcp4_hosts_database) is set. Kea 2.2
    and 2.6 from Debian have no C(host_cmds); the task fails with Kea's answer and changes nothing; use the
    reservation files and the playbook C(dhcpops.kea.reservations) there.
  - Refuses, naming both sides and changing nothing, an address that the server already reserves for another
    host, an address outside the subnet, an address inside another subnet's pool, and an unknown subnet.
  - Identifiers are compared as Kea stores them, so V(00-1B-63-84-45-E6), V(001b.6384.45e6) and
    V(00:1b:63:84:45:e6) are the same host.
  - The controller side (an action plugin) records every change in O(audit_log).
options:
  subnet_id:
    description: Id of the subnet the reservation belongs to; V(0) for a global reservation.
    type: int
    required: true
  hw_address:
    description: The client's MAC address. Exactly one of the identifier options is required.
    type: str
  client_id:
    description: DHCP client identifier (option 61), hexadecimal bytes.
    type: str
  duid:
    description: DUID, hexadecimal bytes.
    type: str
  circuit_id:
    description: Relay agent circuit id, hexadecimal bytes or a quoted text such as V('eth1/0/12').
    type: str
  flex_id:
    description: Flexible identifier (the C(flex_id) hook), hexadecimal bytes or a quoted text.
    type: str
  ip_address:
    description: The reserved IPv4 address. Without it the reservation only carries a host name, options or classes.
    type: str
  hostname:
    description: Host name handed to the client (and to DDNS).
    type: str
  next_server:
    description: C(siaddr) for the client, such as a TFTP server.
    type: str
  server_hostname:
    description: C(sname) for the client.
    type: str
  boot_file_name:
    description: C(file) for the client.
    type: str
  client_classes:
    description: Client classes the host is put in.
    type: list
    elements: str
  option_data:
    description: Options for this host only, in Kea's C(option-data) syntax (C(name) or C(code), C(data), ...).
    type: list
    elements: dict
  user_context:
    description: Kea C(user-context) of the reservation.
    type: dict
  comment:
    description: A comment, stored in C(user-context) as Kea does.
    type: str
  state:
    description:
      - V(present) makes the reservation exactly the given one; keys left out go back to Kea's defaults.
      - V(absent) deletes the reservation of this identifier in this subnet, if there is one.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads, checks for conflicts and reports the change; writes nothing.
  diff_mode:
    support: full
  platform:
    platforms: posix
  action:
    support: full
    details: The action plugin reads files and writes the audit log on the controller; the module talks to Kea.
  async:
    support: none
  bypass_host_loop:
    support: none
seealso:
  - module: dhcpops.kea.kea_reservations
  - name: Kea ARM, host_cmds
    description: The reservation commands.
    link: https://kea.readthedocs.io/en/latest/arm/hooks.html#libdhcp-host-cmds-so-host-commands
'''

EXAMPLES = r'''
- name: Reserve 10.10.2.30 for a new printer (a provisioning tool calls this, or an AWX job template)
  dhcpops.kea.kea_reservation:
    api_url: http://127.0.0.1:8004/
    api_service: ""
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    subnet_id: 102
    hw_address: "00-1B-63-84-45-F0"
    ip_address: 10.10.2.30
    hostname: printer-a-3
    audit_log: /var/log/dhcpops/reservations.jsonl
  become: true

- name: Remove it again
  dhcpops.kea.kea_reservation:
    api_url: http://127.0.0.1:8004/
    api_service: ""
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    subnet_id: 102
    hw_address: "00:1b:63:84:45:f0"
    state: absent
  become: true
'''

RETURN = r'''
operation:
  description:
    - What was done (or, in check mode, would be done).
    - Not named C(action), which Ansible's own results use for the module name.
  returned: always
  type: str
  choices: [added, updated, deleted, none]
  sample: added
before:
  description: The reservation as the server held it; V(null) when it had none.
  returned: always
  type: dict
  sample: null
after:
  description: The reservation as the server holds it now; V(null) after a deletion.
  returned: always
  type: dict
  sample: {"hw-address": "00:1b:63:84:45:f0", "ip-address": "10.10.2.30", "hostname": "printer-a-3", "subnet-id": 102}
changed_keys:
  description: Keys that an update changes.
  returned: always
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
    HostApi,
    ReservationError,
    SubnetMap,
    canonical,
    describe,
    differences,
    display,
    present_host,
    to_kea,
)

IDENTIFIER_OPTIONS = ('hw_address', 'client_id', 'duid', 'circuit_id', 'flex_id')
HOST_OPTIONS = ('ip_address', 'hostname', 'next_server', 'server_hostname', 'boot_file_name', 'client_classes',
                'option_data', 'user_context', 'comment')


def wanted_host(params):
    host = {}
    for option in IDENTIFIER_OPTIONS + HOST_OPTIONS:
        if params.get(option) is not None:
            host[option.replace('_', '-')] = params[option]
    return host


def conflicts(api, subnet_map, host, subnet_id):
    """Why this reservation cannot be made, naming both sides; [] when it can."""
    where = 'the reservation for %s %s' % (host['identifier-type'], host['identifier'])
    errors = subnet_map.check_address(subnet_id, host['ip-address'], where)
    if errors or not host['ip-address']:
        return errors
    mine = (host['identifier-type'], host['identifier'])
    owner = subnet_map.subnets.get(subnet_id, {}).get('config_reserved', {}).get(host['ip-address'])
    if owner and owner != mine:
        errors.append('%s asks for %s, which the configuration file reserves for %s %s in subnet %s'
                      % (where, host['ip-address'], owner[0], owner[1], subnet_id))
    holder = api.get_by_address(subnet_id, host['ip-address'])
    if holder:
        held = present_host(holder, subnet_id)
        if (held['identifier-type'], held['identifier']) != mine:
            errors.append('%s asks for %s, which the server already reserves for %s'
                          % (where, host['ip-address'], describe(held, subnet_id)))
    return errors


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        subnet_id=dict(type='int', required=True),
        hw_address=dict(type='str'),
        client_id=dict(type='str'),
        duid=dict(type='str'),
        circuit_id=dict(type='str'),
        flex_id=dict(type='str'),
        ip_address=dict(type='str'),
        hostname=dict(type='str'),
        next_server=dict(type='str'),
        server_hostname=dict(type='str'),
        boot_file_name=dict(type='str'),
        client_classes=dict(type='list', elements='str'),
        option_data=dict(type='list', elements='dict'),
        user_context=dict(type='dict'),
        comment=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        operation_target=dict(type='str', choices=['memory', 'database', 'all', 'alternate']),
        audit_log=dict(type='path'),
    )
    kwargs = api_module_kwargs()
    kwargs['mutually_exclusive'].append(IDENTIFIER_OPTIONS)
    kwargs['required_one_of'] = kwargs.get('required_one_of', []) + [IDENTIFIER_OPTIONS]
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    p = module.params
    subnet_id = p['subnet_id']
    result = dict(changed=False, operation='none', before=None, after=None, changed_keys=[])
    if subnet_id < 0:
        module.fail_json(msg='subnet_id must be 0 (global) or a subnet id, got %d' % subnet_id, **result)
    try:
        host = canonical(wanted_host(p), 'the reservation')
    except ReservationError as exc:
        module.fail_json(msg='%s. Nothing was changed.' % exc, **result)

    client = client_from_module(module)
    api = HostApi(client, p['operation_target'])
    try:
        current = api.get(subnet_id, host['identifier-type'], host['identifier'])
        current = present_host(current, subnet_id) if current else None
        result['before'] = display(current)
        if p['state'] == 'absent':
            if current is None:
                module.exit_json(**result)
            result.update(changed=True, operation='deleted')
            if not module.check_mode:
                api.delete(subnet_id, host['identifier-type'], host['identifier'])
        else:
            errors = conflicts(api, SubnetMap(api.config()), host, subnet_id)
            if errors:
                module.fail_json(msg='%s; nothing was changed' % '; '.join(errors), conflicts=errors, **result)
            host['subnet-id'] = subnet_id
            result['after'] = display(host)
            if current is None:
                result.update(changed=True, operation='added')
                if not module.check_mode:
                    api.add(to_kea(host, subnet_id))
            else:
                changed = differences(host, current)
                result['changed_keys'] = changed
                if not changed:
                    result['after'] = result['before']
                    module.exit_json(**result)
                result.update(changed=True, operation='updated')
                if not module.check_mode:
                    if current.get('ip-address') == host.get('ip-address'):
                        api.update(to_kea(host, subnet_id))
                    else:
                        # reservation-update keeps the address index; a new address is a new row.
                        api.delete(subnet_id, current['identifier-type'], current['identifier'])
                        api.add(to_kea(host, subnet_id))
    except KeaApiError as exc:
        module.fail_json(msg=exc.message, http_status=exc.http_status, **result)

    if module._diff:
        result['diff'] = dict(before_header='%s: %s' % (client.where, describe(current or host, subnet_id)),
                              after_header='%s: %s' % (client.where, describe(current or host, subnet_id)),
                              before=_yaml_lines(result['before']), after=_yaml_lines(result['after']))
    module.exit_json(**result)


def _yaml_lines(host):
    if not host:
        return ''
    return ''.join('%s: %s\n' % (key, host[key]) for key in sorted(host))


if __name__ == '__main__':
    main()
