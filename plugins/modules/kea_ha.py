#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_ha
short_description: Read the HA state of a Kea DHCPv4 pair, wait for states, start and end maintenance
version_added: "0.1.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dhcpops.kea.kea_api
description:
  - Talks to one server of a Kea high-availability pair (the HA hook C(libdhcp_ha.so)) through its control API and
    reads its own state and its partner's state as this server last saw it, from C(status-get).
  - O(state=query) only reads, and with O(wait_for) / O(wait_for_partner) waits until the states hold.
  - O(state=maintenance) makes B(this) server take over so that its partner can be stopped, reloaded or upgraded;
    it sends C(ha-maintenance-start) to this server and waits until it is in C(partner-in-maintenance) (or
    C(partner-down) when the partner is already gone).
  - O(state=normal) brings the pair back; it sends C(ha-maintenance-cancel) when this server holds the
    maintenance, then waits until both servers are in the normal state of the HA mode (C(hot-standby),
    C(load-balancing) or C(passive-backup)). It resolves Kea's trap where a partner that restarted faster than a
    heartbeat comes back C(in-maintenance) and would stay there, by cancelling again.
  - Every run returns the states seen on the way (one entry per change, with the time), also when it fails.
options:
  server_name:
    description:
      - Name of this server in the HA relationship (its C(this-server-name)), to pick the relationship on a server
        that belongs to several (a hub, Kea 2.4+). Required in that case.
      - Kea 2.2 does not report names; with a single relationship, the name is not checked there.
    type: str
  state:
    description:
      - V(query) reads the states (and waits for O(wait_for) / O(wait_for_partner)); it changes nothing.
      - V(maintenance) puts this server in C(partner-in-maintenance), ready for its partner to go down. Nothing is
        sent when it already is, or when it is in C(partner-down) with the partner out of touch.
      - V(normal) ends a maintenance held by this server and waits until both peers are in the mode's normal state.
    type: str
    choices: [query, maintenance, normal]
    default: query
  wait_for:
    description:
      - With O(state=query), wait until this server's own state is one of these (for example V(hot-standby)).
    type: list
    elements: str
  wait_for_partner:
    description:
      - With O(state=query), also wait until the partner's state, as this server last saw it, is one of these.
    type: list
    elements: str
  timeout:
    description: Seconds to wait for the states before the task fails, listing the states seen.
    type: int
    default: 60
  interval:
    description: Seconds between two readings of the states.
    type: float
    default: 0.5
  handback:
    description:
      - How O(state=normal) hands the clients back from this server, which served them all during the maintenance.
      - V(plain) sends C(ha-maintenance-cancel) only. This server returns to its normal scopes at once, and its
        partner starts serving only at its own next heartbeat, when it sees this server back in the normal state.
        For up to one C(heartbeat-delay) neither server answers the partner's clients.
      - V(bridged) closes that gap. Right after the cancel, this server takes back every scope it served during the
        maintenance (C(ha-scopes)). It returns to its normal scopes once it sees the partner in the normal state.
        For that moment (at most one heartbeat) both servers answer the partner's clients. That is safe only when the
        peers share one SQL lease database (C(send-lease-updates) false), where the database refuses a second lease on
        one address; the module refuses V(bridged) otherwise. Kea's scopes are restored also when the wait fails.
    type: str
    choices: [plain, bridged]
    default: plain
attributes:
  check_mode:
    support: full
    details:
      - O(state=query) runs as usual, waits included.
      - O(state=maintenance) and O(state=normal) read the states and report in RV(would_send) what they would send;
        they send nothing and do not wait.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Kea answers C(ha-maintenance-start) in C(passive-backup) mode with no answer at all (HTTP 500 from Kea 3.0.4's
    own socket, C(unable to forward command ... End of file) from Kea 2.2's Control Agent); the module refuses
    O(state=maintenance) in that mode before sending anything.
  - C(terminated) on either peer fails the task at once, because Kea does not leave it when the peers restart one at a
    time. The message says how to recover.
  - Any reload of a peer restarts its HA state machine (C(waiting), C(syncing), C(ready), then normal). Keep
    O(timeout) above a few heartbeats plus the lease synchronisation time.
seealso:
  - module: dhcpops.kea.kea_command
  - name: Kea Administrator Reference Manual, high availability
    description: HA modes, states and the maintenance commands.
    link: https://kea.readthedocs.io/en/latest/arm/hooks.html#libdhcp-ha-so-high-availability-outage-resilience-for-kea-servers
'''

EXAMPLES = r'''
- name: Wait until both peers of the hot-standby pair are in their normal state
  dhcpops.kea.kea_ha:
    api_url: http://127.0.0.1:8000/
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    wait_for: [hot-standby]
    wait_for_partner: [hot-standby]
    timeout: 120
  become: true

- name: Let kea1 take over before kea2 is reloaded
  dhcpops.kea.kea_ha:
    api_url: http://127.0.0.1:8000/
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    state: maintenance
  become: true
  delegate_to: kea1

- name: Back to normal, from kea1's side, once kea2 runs its new configuration
  dhcpops.kea.kea_ha:
    api_url: http://127.0.0.1:8000/
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    state: normal
    timeout: 120
  become: true
  delegate_to: kea1
  register: ha

- name: Show how long the pair needed
  ansible.builtin.debug:
    msg: "{{ ha.states_seen | map(attribute='local') | join(' -> ') }} in {{ ha.elapsed }} s"
'''

RETURN = r'''
local_state:
  description: This server's HA state at the end (C(null) if it could not be read).
  returned: always
  type: str
  sample: hot-standby
partner_state:
  description: The partner's state as this server last saw it; C(null) when this server reports none (passive-backup
    primary, or a partner it never reached).
  returned: always
  type: str
  sample: hot-standby
partner_in_touch:
  description: Whether this server has reached its partner and its communication is not interrupted now.
  returned: always
  type: bool
  sample: true
mode:
  description: HA mode of the relationship.
  returned: always
  type: str
  sample: hot-standby
role:
  description: This server's role (C(primary), C(secondary), C(standby), C(backup)).
  returned: always
  type: str
  sample: primary
partner_role:
  description: The partner's role.
  returned: always
  type: str
  sample: standby
server_name:
  description: This server's name in the relationship, when Kea reports it (2.4+); else O(server_name).
  returned: always
  type: str
  sample: kea1
partner_name:
  description: The partner's name, when Kea reports it (2.4+).
  returned: always
  type: str
  sample: kea2
states_seen:
  description:
    - The states read, one entry per change (not per reading), with seconds since the module started.
    - C(local) is V(unreachable) for readings that got no answer from this server (it was restarting).
  returned: always
  type: list
  elements: dict
  sample: [{"elapsed": 0.0, "local": "partner-in-maintenance", "partner": "in-maintenance"},
           {"elapsed": 0.04, "local": "hot-standby", "partner": "ready"},
           {"elapsed": 1.05, "local": "hot-standby", "partner": "hot-standby"}]
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 1.07
commands_sent:
  description: Names of the HA commands sent to the server, in order (a repeated cancel appears twice).
  returned: always
  type: list
  elements: str
  sample: [ha-maintenance-cancel]
would_send:
  description: In check mode, the commands a real run would send first.
  returned: always
  type: list
  elements: str
  sample: []
bridged:
  description:
    - With O(handback=bridged), what the bridge did - the scopes this server served after the cancel, the scopes it
      returned to, and for how many seconds.
  returned: when a bridged handback took place
  type: dict
  sample: {"scopes": ["kea1"], "restored": [], "seconds": 0.94}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import (
    api_argument_spec,
    api_module_kwargs,
    client_from_module,
)
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_ha import HaFailure, KeaHa


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        server_name=dict(type='str'),
        state=dict(type='str', choices=['query', 'maintenance', 'normal'], default='query'),
        wait_for=dict(type='list', elements='str'),
        wait_for_partner=dict(type='list', elements='str'),
        timeout=dict(type='int', default=60),
        interval=dict(type='float', default=0.5),
        handback=dict(type='str', choices=['plain', 'bridged'], default='plain'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **api_module_kwargs())
    p = module.params
    if p['state'] != 'query' and (p['wait_for'] or p['wait_for_partner']):
        module.fail_json(msg='wait_for and wait_for_partner apply to state=query; state=%s waits by itself'
                         % p['state'])
    if p['timeout'] < 0:
        module.fail_json(msg='timeout must be 0 or more seconds')
    if p['interval'] <= 0:
        module.fail_json(msg='interval must be more than 0 seconds')
    ha = KeaHa(client_from_module(module), p, check_mode=module.check_mode)
    try:
        report = getattr(ha, p['state'])()
    except HaFailure as exc:
        module.fail_json(msg=exc.msg, **ha.report())
    module.exit_json(**report)


if __name__ == '__main__':
    main()
