#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kea_ha_reload
short_description: Reload one peer of a Kea DHCPv4 HA pair while its partner serves every client
version_added: "0.2.0"
author:
  - dhcpops.kea maintainers (@dhcpops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dhcpops.kea.kea_api
description:
  - Runs on the peer to reload (B(this peer)), after its new C(kea-dhcp4.conf) is in place, and applies it without a
    moment in which neither peer answers. It is the step of one peer in the C(dhcpops.kea.rolling_reload)
    playbook, in one call instead of one task per command, so that a rollout's cost on the controller does not grow
    with every command of every peer.
  - "Step 1, C(config-test): this peer tests O(config_file) (skipped without O(config_file)). A refusal stops here,
    before anything changed."
  - "Step 2, C(maintenance): with O(handback=bridged), the partner's configuration must show a shared SQL lease
    database. Then C(ha-maintenance-start) goes to the partner, and the module waits until the partner is in
    C(partner-in-maintenance) and serves every client, as M(dhcpops.kea.kea_ha) does with C(state=maintenance)."
  - "Step 3, C(config-reload): this peer reloads its configuration file."
  - "Step 4, C(handback): C(ha-maintenance-cancel) goes to the partner, with the O(handback) chosen, and the module
    waits until the partner sees both peers in the HA mode's normal state, as M(dhcpops.kea.kea_ha) does with
    C(state=normal)."
  - "Step 5, C(pair-normal): a wait until this peer, too, sees both peers in the normal state."
  - "Step 6, C(dhcp-socket): a wait until this host has a UDP socket bound to O(dhcp_port). A state string is not
    service. Kea 2.2 can report a normal HA state after a reload that lost its DHCP socket."
  - "Step 7, C(traffic): with O(traffic_wait) above 0, a wait until this peer's C(pkt4-received) statistic rises. If
    it does not rise, the module warns, or fails with O(require_traffic=true)."
  - The module does not undo anything when a step fails. It returns RV(step), RV(partner_in_maintenance) and
    RV(reloaded), so that the caller (the playbook's rescue) can put the previous file back, reload it and end the
    maintenance, in that order.
options:
  partner_url:
    description:
      - URL of the partner's API, as this peer's HA configuration names the partner (its C(peers) entry's C(url)).
      - The partner is reached with the same O(api_service) and TLS options as this peer.
    type: str
    required: true
  partner_user:
    description: User for the partner's API (the C(basic-auth-user) of this peer's entry for the partner).
    type: str
  partner_password_file:
    description:
      - Path, on this host, of the file holding the password of O(partner_user), such as the
        C(basic-auth-password-file) this peer's HA hook reads. The password never passes through Ansible variables.
    type: path
  config_file:
    description:
      - The configuration file this peer reloads, sent with C(config-test) before anything changes.
      - Without it, no C(config-test) is sent.
    type: path
  handback:
    description:
      - How the partner hands this peer's clients back after the reload, as the C(handback) option of
        M(dhcpops.kea.kea_ha) describes.
      - V(bridged) needs both peers on one SQL lease database. The module checks the partner's configuration for
        it before the maintenance starts, and refuses otherwise.
    type: str
    choices: [plain, bridged]
    default: plain
  timeout:
    description:
      - Seconds for each wait for HA states (steps 2, 4 and 5).
      - Keep it above a few heartbeats plus the lease synchronisation time.
    type: int
    default: 120
  interval:
    description: Seconds between two readings of the HA states or the statistic.
    type: float
    default: 0.5
  reload_timeout:
    description: Seconds to wait for Kea's answer to C(config-reload); a large configuration takes a while.
    type: int
    default: 60
  dhcp_port:
    description: The UDP port C(kea-dhcp4) must have a socket bound to after the reload (step 6).
    type: int
    default: 67
  socket_wait:
    description: Seconds to wait for that socket.
    type: int
    default: 10
  traffic_wait:
    description:
      - Seconds to wait for this peer to receive a DHCP packet after the reload (step 7). V(0) skips the step.
    type: int
    default: 20
  require_traffic:
    description:
      - Fail when no DHCP packet arrives within O(traffic_wait). By default the module only warns, because a quiet
        network is not a broken server.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - Sends C(config-test), which changes nothing, and reads the partner's HA state.
      - Reports in RV(would_send) the commands a real run would send. It sends none of them and does not wait.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Run it with C(become). The password files and C(/proc/net/udp) are read on this host.
  - The partner's state machine drives the maintenance. In C(passive-backup) mode there is no maintenance, and the
    module fails at step 2 without sending anything.
  - The rolling reload playbook sets O(handback=bridged) when the pair shares a PostgreSQL lease database. See
    the collection's docs/rolling-reload.md.
seealso:
  - module: dhcpops.kea.kea_ha
  - module: dhcpops.kea.kea_command
  - module: dhcpops.kea.dhcp4_config
'''

EXAMPLES = r'''
- name: Install the new kea-dhcp4.conf (Kea keeps running the previous one)
  dhcpops.kea.dhcp4_config:
    dest: /etc/kea/kea-dhcp4.conf
    config: "{{ dhcp4 }}"
    backup: true
  become: true
  register: config

- name: Reload this peer while its partner serves every client
  dhcpops.kea.kea_ha_reload:
    api_url: http://192.0.2.11:8000/
    api_user: kea-api
    api_password_file: /etc/kea/kea-api-password
    partner_url: http://192.0.2.12:8000/
    partner_user: kea-ha
    partner_password_file: /etc/kea/kea-ha-kea2-password
    config_file: /etc/kea/kea-dhcp4.conf
    handback: bridged
  become: true
  when: config is changed
  register: reload

- name: Show how it went
  ansible.builtin.debug:
    msg: "{{ reload.steps | map(attribute='step') | zip(reload.steps | map(attribute='seconds')) | list }}"
'''

RETURN = r'''
step:
  description:
    - The step that failed (V(config-test), V(maintenance), V(config-reload), V(handback), V(pair-normal),
      V(dhcp-socket), V(traffic)), or V(done).
  returned: always
  type: str
  sample: done
reloaded:
  description: Whether C(config-reload) was sent to this peer (it may have failed).
  returned: always
  type: bool
  sample: true
partner_in_maintenance:
  description:
    - Whether the partner may still hold a maintenance for this peer. It is V(true) from the moment
      C(ha-maintenance-start) is sent until the pair is back in its normal state. After a failure, end the
      maintenance with M(dhcpops.kea.kea_ha) O(dhcpops.kea.kea_ha#module:state=normal) against the partner.
  returned: always
  type: bool
  sample: false
steps:
  description: Each step that ran, with its seconds and what it found.
  returned: always
  type: list
  elements: dict
  sample: [{"step": "config-test", "seconds": 0.21, "detail": "Configuration seems sane."},
           {"step": "maintenance", "seconds": 1.1, "detail": "partner hot-standby -> partner-in-maintenance"}]
partner_states:
  description: The partner's own HA states, in order, from before the maintenance to the end (repeats removed).
  returned: always
  type: list
  elements: str
  sample: [hot-standby, partner-in-maintenance, hot-standby]
partner_states_seen:
  description: The partner's readings, as M(dhcpops.kea.kea_ha) returns them in C(states_seen), for the
    maintenance and then the handback.
  returned: always
  type: list
  elements: dict
bridged:
  description: With O(handback=bridged), what the bridge did, as M(dhcpops.kea.kea_ha) returns it in C(bridged).
  returned: when a bridged handback took place
  type: dict
  sample: {"scopes": ["kea1", "kea2"], "restored": ["kea1"], "seconds": 0.94}
packets:
  description:
    - This peer's C(pkt4-received) when the wait for traffic began and when it ended, and whether it rose.
  returned: when step 7 ran
  type: dict
  sample: {"before": 1520, "after": 1533, "rose": true, "seconds": 0.6}
would_send:
  description: In check mode, the commands a real run would send, as C(server command).
  returned: always
  type: list
  elements: str
  sample: ["partner ha-maintenance-start", "this config-reload", "partner ha-maintenance-cancel"]
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 14.2
'''

import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import (
    KeaApiError,
    api_argument_spec,
    api_module_kwargs,
    client_from_module,
    load_arguments_file,
    password_from_file,
)
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_ha import HaFailure, KeaHa, pair_is_normal

PROC_NET_UDP = ('/proc/net/udp', '/proc/net/udp6')


def udp_port_bound(port, tables=None):
    """Whether any socket in /proc/net/udp{,6} is bound to the port ("sl: address:PORT ..." in hex)."""
    pattern = re.compile(r'^\s*\d+:\s+[0-9A-Fa-f]+:%04X\s' % port, re.MULTILINE)
    for table in tables or PROC_NET_UDP:
        try:
            with open(table) as handle:
                if pattern.search(handle.read()):
                    return True
        except (IOError, OSError):
            continue
    return False


def statistic_value(answer, name):
    """The latest value of a statistic from a statistic-get answer (0 when Kea has none yet)."""
    series = (answer.arguments or {}).get(name) or []
    return series[0][0] if series and series[0] else 0


class Failed(Exception):
    def __init__(self, step, msg):
        super(Failed, self).__init__(msg)
        self.step = step
        self.msg = msg


class PeerReload(object):
    def __init__(self, module, client, partner_client):
        self.module = module
        self.p = module.params
        self.client = client
        self.partner_client = partner_client
        self.started = time.monotonic()
        self.steps = []
        self.step = None
        self.reloaded = False
        self.partner_in_maintenance = False
        self.partner_seen = []
        self.bridged = None
        self.packets = None
        self.would_send = []

    def elapsed(self):
        return round(time.monotonic() - self.started, 3)

    def begin(self, step):
        self.step = step
        self._step_started = time.monotonic()

    def done(self, detail):
        self.steps.append(dict(step=self.step, seconds=round(time.monotonic() - self._step_started, 3),
                               detail=detail))

    def report(self):
        out = dict(step=self.step, reloaded=self.reloaded, partner_in_maintenance=self.partner_in_maintenance,
                   steps=self.steps, partner_states_seen=self.partner_seen, would_send=self.would_send,
                   partner_states=self.partner_states(), elapsed=self.elapsed(),
                   changed=self.reloaded or self.partner_in_maintenance or bool(self.would_send))
        if self.bridged is not None:
            out['bridged'] = self.bridged
        if self.packets is not None:
            out['packets'] = self.packets
        return out

    def partner_states(self):
        states = []
        for seen in self.partner_seen:
            if not states or states[-1] != seen['local']:
                states.append(seen['local'])
        return states

    # -- the steps -------------------------------------------------------------

    def command(self, client, command, arguments=None):
        try:
            return client.command(command, arguments)
        except KeaApiError as exc:
            raise Failed(self.step, exc.message)

    def config_test(self):
        if not self.p['config_file']:
            return
        self.begin('config-test')
        try:
            arguments = load_arguments_file(self.p['config_file'], 'config_file')
        except ValueError as exc:
            raise Failed(self.step, to_native(exc))
        answer = self.command(self.client, 'config-test', arguments).as_dict()
        if answer['result'] != 0:
            raise Failed(self.step, 'this peer refused the new configuration: result %d (%s): %s'
                         % (answer['result'], answer['outcome'], answer['text'] or 'no text'))
        self.done(answer['text'] or 'accepted')

    def partner_ha(self, options):
        ha = KeaHa(self.partner_client, options, check_mode=self.module.check_mode)
        # One timeline across the partner's steps.
        ha.started = self.started
        return ha

    def run_partner(self, ha, action):
        try:
            action()
        except HaFailure as exc:
            raise Failed(self.step, 'the partner (%s): %s' % (self.partner_client.where, exc.msg))
        finally:
            self.partner_seen.extend(ha.states_seen)
            if ha.bridged is not None:
                self.bridged = ha.bridged

    def maintenance(self):
        self.begin('maintenance')
        ha = self.partner_ha(dict(timeout=self.p['timeout'], interval=self.p['interval']))
        if self.p['handback'] == 'bridged':
            # Refused here rather than at the handback, where the partner
            # would already serve alone and the caller's recovery would meet
            # the same refusal.
            self.run_partner(ha, ha.check_shared_database)
        if not self.module.check_mode:
            # From here the partner may hold a maintenance, whatever happens next.
            self.partner_in_maintenance = True
        self.run_partner(ha, ha.maintenance)
        self.would_send.extend('partner %s' % c for c in ha.would_send)
        self.done('partner %s' % ' -> '.join(self.partner_states()))

    def reload(self):
        self.begin('config-reload')
        if self.module.check_mode:
            self.would_send.append('this config-reload')
            return
        self.reloaded = True
        answer = self.command(self.client.copy(timeout=self.p['reload_timeout']), 'config-reload').as_dict()
        if answer['result'] != 0:
            raise Failed(self.step, 'this peer refused config-reload: result %d (%s): %s'
                         % (answer['result'], answer['outcome'], answer['text'] or 'no text'))
        self.done(answer['text'] or 'reloaded')

    def handback(self):
        self.begin('handback')
        if self.module.check_mode:
            self.would_send.append('partner ha-maintenance-cancel')
            return
        ha = self.partner_ha(dict(timeout=self.p['timeout'], interval=self.p['interval'],
                                  handback=self.p['handback']))
        self.run_partner(ha, ha.normal)
        self.partner_in_maintenance = False
        self.done('partner %s' % ' -> '.join(self.partner_states()))

    def pair_normal(self):
        self.begin('pair-normal')
        ha = KeaHa(self.client, dict(timeout=self.p['timeout'], interval=self.p['interval']))
        try:
            view = ha.wait(pair_is_normal, 'this peer and its partner in their normal state')
        except HaFailure as exc:
            raise Failed(self.step, 'this peer: %s' % exc.msg)
        self.done('this peer %s, partner %s' % (view['local_state'], view['partner_state'] or 'not reported'))

    def dhcp_socket(self):
        self.begin('dhcp-socket')
        deadline = time.monotonic() + self.p['socket_wait']
        while not udp_port_bound(self.p['dhcp_port']):
            if time.monotonic() >= deadline:
                raise Failed(self.step, 'no UDP socket is bound to port %d on this host %d s after the reload: '
                                        'kea-dhcp4 does not serve DHCP (check interfaces-config and its log)'
                             % (self.p['dhcp_port'], self.p['socket_wait']))
            time.sleep(min(self.p['interval'], 1.0))
        self.done('UDP port %d bound' % self.p['dhcp_port'])

    def traffic(self):
        if self.p['traffic_wait'] <= 0:
            return
        self.begin('traffic')
        name = 'pkt4-received'
        before = statistic_value(self.command(self.client, 'statistic-get', {'name': name}), name)
        self.packets = dict(before=before, after=before, rose=False, seconds=None)
        deadline = time.monotonic() + self.p['traffic_wait']
        while True:
            time.sleep(min(self.p['interval'], max(0.0, deadline - time.monotonic())))
            after = statistic_value(self.command(self.client, 'statistic-get', {'name': name}), name)
            self.packets.update(after=after, seconds=round(time.monotonic() - self._step_started, 3))
            if after > before:
                self.packets['rose'] = True
                self.done('%d packets received in %.1f s' % (after - before, self.packets['seconds']))
                return
            if time.monotonic() >= deadline:
                break
        text = ('this peer received no DHCP packet within %d s after its reload (%s stayed at %d); its DHCP socket '
                'is open' % (self.p['traffic_wait'], name, before))
        if self.p['require_traffic']:
            raise Failed(self.step, text)
        self.module.warn(text + '. Set require_traffic to stop in that case.')
        self.done('no packet')

    def run(self):
        self.config_test()
        self.maintenance()
        self.reload()
        self.handback()
        if not self.module.check_mode:
            self.pair_normal()
            self.dhcp_socket()
            self.traffic()
        self.step = 'done'


def partner_client(module, client):
    """The partner's API: its URL and credentials, this peer's service, TLS options and timeout."""
    p = module.params
    password = None
    if p['partner_password_file']:
        password = password_from_file(module, p['partner_password_file'], 'partner_password_file')
    try:
        return client.copy(url=p['partner_url'], user=p['partner_user'], password=password)
    except KeaApiError as exc:
        module.fail_json(msg='partner_url: %s' % exc.message)


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        partner_url=dict(type='str', required=True),
        partner_user=dict(type='str'),
        partner_password_file=dict(type='path', no_log=False),
        config_file=dict(type='path'),
        handback=dict(type='str', choices=['plain', 'bridged'], default='plain'),
        timeout=dict(type='int', default=120),
        interval=dict(type='float', default=0.5),
        reload_timeout=dict(type='int', default=60),
        dhcp_port=dict(type='int', default=67),
        socket_wait=dict(type='int', default=10),
        traffic_wait=dict(type='int', default=20),
        require_traffic=dict(type='bool', default=False),
    )
    kwargs = api_module_kwargs()
    kwargs['required_by'] = dict(kwargs['required_by'], partner_password_file='partner_user')
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    p = module.params
    for option in ('timeout', 'socket_wait', 'traffic_wait'):
        if p[option] < 0:
            module.fail_json(msg='%s must be 0 or more seconds' % option)
    if p['reload_timeout'] <= 0:
        module.fail_json(msg='reload_timeout must be a positive number of seconds')
    if p['interval'] <= 0:
        module.fail_json(msg='interval must be more than 0 seconds')
    if not 0 < p['dhcp_port'] < 65536:
        module.fail_json(msg='dhcp_port must be a UDP port number (1-65535)')
    client = client_from_module(module)
    peer = PeerReload(module, client, partner_client(module, client))
    try:
        peer.run()
    except Failed as exc:
        module.fail_json(msg='%s: %s%s' % (exc.step, exc.msg, consequence(peer)), **peer.report())
    module.exit_json(**peer.report())


def consequence(peer):
    """What the failure left behind, for the message."""
    if not peer.reloaded and not peer.partner_in_maintenance:
        return '. Nothing was changed: this peer still runs its previous configuration, and the partner was not ' \
               'put in maintenance.'
    parts = []
    if peer.reloaded:
        parts.append('this peer was sent config-reload (its new file may be running)')
    else:
        parts.append('this peer still runs its previous configuration')
    if peer.partner_in_maintenance:
        parts.append('the partner may still hold a maintenance for it: end it with dhcpops.kea.kea_ha state=normal '
                     'against the partner')
    return '. Left: %s.' % '; '.join(parts)


if __name__ == '__main__':
    main()
