#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_command
short_description: Send any command to Kea's control API
version_added: "0.1.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dhcpops.kea.kea_api
description:
  - Sends one command to a Kea DHCPv4 server, through the Kea Control Agent, C(kea-dhcp4)'s own HTTP(S) control
    socket (Kea 2.7.2+) or its unix control socket, and returns Kea's answer with every password masked.
  - Kea's result code decides whether the task fails (O(accept_results)); "not found" (3) does not fail it by
    default.
  - Commands that only read (C(status-get), C(config-get), C(config-test), C(lease4-get), C(statistic-get),
    C(reservation-get), ...) report no change and also run in check mode. Any other command reports a change
    when Kea carried it out, and is not sent in check mode.
options:
  command:
    description: Kea command to send, for example V(status-get), V(config-test), V(lease4-del).
    type: str
    required: true
  arguments:
    description:
      - Arguments of the command (the C(arguments) map of Kea's request).
      - Module arguments can show up in verbose Ansible output; for arguments that hold secrets, such as a whole
        configuration for C(config-test) or C(config-set), use O(arguments_file).
    type: dict
  arguments_file:
    description:
      - Path of a JSON file on the target whose content is sent as the arguments, for example a candidate
        C(kea-dhcp4.conf) for C(config-test). Its secrets never pass through Ansible variables or output.
      - Kea's comment forms (C(#), C(//), C(/* */)) are accepted; C(<?include?>) directives are not.
      - Mutually exclusive with O(arguments).
    type: path
  accept_results:
    description:
      - Kea result codes that do not fail the task. V(0) success, V(1) error, V(2) unsupported (unknown command or
        its hook library not loaded), V(3) empty (nothing found), V(4) conflict, V(5) partial.
    type: list
    elements: int
    default: [0, 3]
attributes:
  check_mode:
    support: full
    details:
      - Read-only commands are sent and their answer returned; any other command is not sent, and the task
        reports V(changed=true) with RV(skipped_in_check_mode).
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Kea 2.2.0 (Debian 12) has no C(config-hash-get) (result 2); it exists from 2.4.
  - A Control Agent whose daemon is down answers with result 1 (C(unable to forward command to the dhcp4 service)),
    not with a connection error.
seealso:
  - module: dhcpops.kea.kea_ha
  - name: Kea Administrator Reference Manual, management API
    description: The commands and their arguments.
    link: https://kea.readthedocs.io/en/latest/arm/ctrl-channel.html
'''

EXAMPLES = r'''
- name: Ask kea-dhcp4 for its status through the Control Agent
  dhcpops.kea.kea_command:
    api_url: http://127.0.0.1:8000/
    api_user: kea-api
    api_password: "{{ kea_api_password }}"
    command: status-get
  register: kea_status

- name: Check a candidate configuration inside the running daemon, its secrets staying on the server
  dhcpops.kea.kea_command:
    api_socket: /run/kea/kea4-ctrl-socket
    command: config-test
    arguments_file: /etc/kea/.kea-dhcp4.conf.candidate
  become: true

- name: Look up a lease on Kea 3.0's own HTTP socket; "not found" is an answer, not a failure
  dhcpops.kea.kea_command:
    api_url: https://kea1.example.net:8004/
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    api_ca_path: /etc/ssl/certs/site-ca.pem
    command: lease4-get
    arguments:
      ip-address: 192.0.2.57
  register: lease

- name: Delete that lease; only success is acceptable here
  dhcpops.kea.kea_command:
    api_url: http://127.0.0.1:8000/
    api_user: kea-api
    api_password: "{{ kea_api_password }}"
    command: lease4-del
    arguments:
      ip-address: 192.0.2.57
    accept_results: [0]
  when: lease.outcome == 'success'
'''

RETURN = r'''
command:
  description: The command sent (or, in check mode, not sent).
  returned: always
  type: str
  sample: status-get
result:
  description: Kea's result code; V(null) when the command was not sent in check mode.
  returned: always
  type: int
  sample: 0
outcome:
  description:
    - Name of the result code.
    - V(not-sent) in check mode for commands that change something; V(no-answer) when the task failed without
      an answer from Kea (refused, timed out, HTTP error, not JSON).
  returned: always
  type: str
  choices: [success, error, unsupported, empty, conflict, partial, unknown, not-sent, no-answer]
  sample: success
text:
  description: Kea's message, if it sent one.
  returned: always
  type: str
  sample: Configuration seems sane.
arguments:
  description: The arguments of Kea's answer, with every password-like value masked as C(********).
  returned: always
  type: raw
  sample: {"pid": 4242, "uptime": 3600, "reload": 3600}
http_status:
  description: HTTP status of a request that failed at the HTTP level (401 or 403 means Kea refused the credentials).
  returned: when the task failed with an HTTP error
  type: int
  sample: 401
read_only:
  description: Whether the module treats the command as one that changes nothing.
  returned: always
  type: bool
  sample: true
skipped_in_check_mode:
  description: True when the command was not sent because the task ran in check mode.
  returned: always
  type: bool
  sample: false
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import (
    KeaApiError,
    api_argument_spec,
    api_module_kwargs,
    client_from_module,
    load_arguments_file,
)

READ_ONLY_COMMANDS = frozenset([
    'build-report', 'cache-get', 'cache-get-by-id', 'cache-size', 'class-get', 'class-list', 'config-get',
    'config-hash-get', 'config-test', 'ha-heartbeat', 'list-commands', 'network4-get', 'network4-list',
    'server-tag-get', 'stat-lease4-get', 'status-get', 'subnet4-get', 'subnet4-list', 'subnet4-select-test',
    'subnet4o6-select-test', 'version-get',
])
# Families whose every member only reads.
READ_ONLY_PATTERN = re.compile(r'^(?:lease4-get|leases4-get|statistic-get|reservation-get|remote-[a-z0-9-]*-get)')


def is_read_only(command):
    return command in READ_ONLY_COMMANDS or READ_ONLY_PATTERN.match(command) is not None


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        command=dict(type='str', required=True),
        arguments=dict(type='dict'),
        arguments_file=dict(type='path'),
        accept_results=dict(type='list', elements='int', default=[0, 3]),
    )
    kwargs = api_module_kwargs()
    kwargs['mutually_exclusive'].append(('arguments', 'arguments_file'))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)

    command = module.params['command'].strip()
    if not command:
        module.fail_json(msg='command must not be empty')
    read_only = is_read_only(command)
    result = dict(changed=False, command=command, result=None, outcome='not-sent', text=None, arguments=None,
                  read_only=read_only, skipped_in_check_mode=False)

    client = client_from_module(module)
    if module.check_mode and not read_only:
        result.update(changed=True, skipped_in_check_mode=True,
                      text='%s changes the server; not sent in check mode' % command)
        module.exit_json(**result)

    arguments = module.params['arguments']
    if module.params['arguments_file']:
        try:
            arguments = load_arguments_file(module.params['arguments_file'])
        except ValueError as exc:
            module.fail_json(msg=str(exc), **result)

    try:
        answer = client.command(command, arguments)
    except KeaApiError as exc:
        result['outcome'] = 'no-answer'
        module.fail_json(msg=exc.message, http_status=exc.http_status, **result)

    result.update(answer.as_dict())
    accepted = answer.result in module.params['accept_results']
    # Partial success (5) did change something.
    result['changed'] = bool(accepted and not read_only and answer.result in (0, 5))
    if not accepted:
        module.fail_json(msg='Kea answered %s with result %d (%s): %s'
                         % (command, answer.result, answer.outcome, result['text'] or 'no text'), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
