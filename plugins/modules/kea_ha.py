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

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import (
    KeaApiError,
    api_argument_spec,
    api_module_kwargs,
    client_from_module,
)

NORMAL_STATES = {
    'hot-standby': 'hot-standby',
    'load-balancing': 'load-balancing',
    'passive-backup': 'passive-backup',
}
UNREACHABLE = 'unreachable'
TERMINATED = 'terminated'
# How soon the maintenance trap may be answered by another cancel: the first
# cancel takes effect at once (measured on 2.2.0 and 3.0.4), the partner's
# view follows within a heartbeat.
MIN_CANCEL_SPACING = 1.0

TERMINATED_HELP = (
    'Kea does not leave "terminated" when the peers restart one at a time. Check the clocks first (NTP: a clock '
    'skew above 60 s terminates HA), then either stop kea-dhcp4 on both peers and start both, or start one and '
    'wait until it is in partner-down before starting the other; or send ha-reset to both peers '
    '(dhcpops.kea.kea_command with command=ha-reset).'
)


class HaError(Exception):
    pass


def pick_relationship(relationships, server_name):
    """The relationship this server plays in, by name when there is a choice."""
    if not relationships:
        raise HaError('status-get lists no HA relationship')
    names = [((r.get('ha-servers') or {}).get('local') or {}).get('server-name') for r in relationships]
    if server_name:
        if any(n is not None for n in names):
            for relationship, name in zip(relationships, names):
                if name == server_name:
                    return relationship
            raise HaError('no HA relationship of this server has the name %s; its names are: %s'
                          % (server_name, ', '.join(sorted(n for n in names if n))))
        if len(relationships) == 1:
            # Kea before 2.4 does not report names: one relationship is the one.
            return relationships[0]
    if len(relationships) > 1:
        raise HaError('this server is in %d HA relationships (%s): set server_name'
                      % (len(relationships), ', '.join(n or '?' for n in names)))
    return relationships[0]


def parse_ha_status(arguments, server_name=None):
    """This server's and its partner's HA state from status-get arguments (Kea 2.2 to 3.0 shapes)."""
    relationships = (arguments or {}).get('high-availability')
    if relationships is None:
        return None
    relationship = pick_relationship(relationships, server_name)
    servers = relationship.get('ha-servers') or {}
    local = servers.get('local') or {}
    remote = servers.get('remote')
    view = dict(
        mode=relationship.get('ha-mode'),
        local_state=local.get('state'),
        role=local.get('role'),
        server_name=local.get('server-name') or server_name,
        partner_state=None,
        partner_role=None,
        partner_name=None,
        partner_in_touch=False,
    )
    if remote:
        # "in-touch" means "reached since start"; only "communication-interrupted"
        # says the partner is out of reach now (seen on 2.2.0 and 3.0.4).
        view.update(
            partner_state=remote.get('last-state') or None,
            partner_role=remote.get('role'),
            partner_name=remote.get('server-name'),
            partner_in_touch=bool(remote.get('in-touch')) and not remote.get('communication-interrupted'),
        )
    return view


def normal_state(view):
    if view.get('role') == 'backup':
        return 'backup'
    return NORMAL_STATES.get(view.get('mode'))


def partner_matters(view):
    # A passive-backup primary has no partner state machine; backups follow.
    return view.get('mode') != 'passive-backup' and view.get('role') != 'backup'


def pair_is_normal(view):
    if view['local_state'] != normal_state(view):
        return False
    return not partner_matters(view) or view['partner_state'] == NORMAL_STATES.get(view['mode'])


class KeaHa(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.started = time.monotonic()
        self.view = dict(local_state=None, partner_state=None, partner_in_touch=False, mode=None, role=None,
                         partner_role=None, server_name=self.params['server_name'], partner_name=None)
        self.states_seen = []
        self.commands_sent = []
        self.would_send = []
        self.changed = False
        self.last_problem = None
        self.bridged = None

    # -- reporting -------------------------------------------------------------

    def elapsed(self):
        return round(time.monotonic() - self.started, 3)

    def report(self):
        out = dict(self.view)
        out.update(changed=self.changed, states_seen=self.states_seen, elapsed=self.elapsed(),
                   commands_sent=self.commands_sent, would_send=self.would_send)
        if self.bridged is not None:
            out['bridged'] = self.bridged
        return out

    def fail(self, msg):
        # A failure while bridging must not leave this server serving the
        # partner's scopes.
        bridge = getattr(self, 'bridge', None)
        if bridge and bridge['since'] is not None:
            bridge['since'] = None
            try:
                self.client.command('ha-scopes', {'scopes': bridge['default']})
            except KeaApiError:
                msg += (' WARNING: the scopes of this server could not be restored to %s: send ha-scopes by hand.'
                        % bridge['default'])
        self.module.fail_json(msg=msg, **self.report())

    def exit(self):
        self.module.exit_json(**self.report())

    def record(self, local, partner):
        if not self.states_seen or (self.states_seen[-1]['local'], self.states_seen[-1]['partner']) != (local, partner):
            self.states_seen.append(dict(elapsed=self.elapsed(), local=local, partner=partner))

    def seen_text(self):
        if not self.states_seen:
            return 'none'
        return ', '.join('%.1f s local=%s partner=%s' % (s['elapsed'], s['local'], s['partner'] or 'unknown')
                         for s in self.states_seen)

    # -- talking to Kea --------------------------------------------------------

    def send(self, command, arguments=None):
        try:
            answer = self.client.command(command, arguments)
        except KeaApiError as exc:
            self.fail('%s (this server\'s states so far: %s)' % (exc.message, self.seen_text()))
        self.commands_sent.append(command)
        return answer

    def read(self, transient=False):
        """Read and record the states; with transient=True a server that does not answer is a state too."""
        try:
            answer = self.client.command('status-get')
        except KeaApiError as exc:
            if transient and not exc.auth_failed:
                return self._unreachable(exc.message)
            self.fail(exc.message)
        if answer.result != 0:
            problem = 'status-get answered result %d (%s): %s' % (answer.result, answer.outcome, answer.text)
            if transient:
                return self._unreachable(problem)
            self.fail('%s at %s' % (problem, self.client.where))
        try:
            view = parse_ha_status(answer.arguments, self.params['server_name'])
        except HaError as exc:
            self.fail('%s (%s)' % (exc, self.client.where))
        if view is None:
            view = self._heartbeat_only()
        self.view = view
        self.last_problem = None
        self.record(view['local_state'], view['partner_state'])
        return view

    def _unreachable(self, problem):
        self.last_problem = problem
        self.view = dict(self.view, local_state=None)
        self.record(UNREACHABLE, None)
        return None

    def _heartbeat_only(self):
        """status-get without an HA section: ha-heartbeat tells a missing HA hook from an old Kea."""
        arguments = {'server-name': self.params['server_name']} if self.params['server_name'] else None
        try:
            answer = self.client.command('ha-heartbeat', arguments)
        except KeaApiError as exc:
            self.fail(exc.message)
        if answer.result == 0 and (answer.arguments or {}).get('state'):
            return dict(self.view, local_state=answer.arguments['state'])
        hint = ''
        if self.client.url and not self.client.service:
            hint = (' With api_service empty, a Kea Control Agent answers the command itself: set api_service to '
                    'dhcp4 for a Control Agent URL.')
        self.fail('HA is not configured on %s: status-get has no high-availability section and ha-heartbeat '
                  'answered result %d (%s: %s). Load libdhcp_ha.so (with libdhcp_lease_cmds.so) and configure the '
                  'pair.%s' % (self.client.where, answer.result, answer.outcome, answer.text, hint))

    # -- waiting ---------------------------------------------------------------

    def check_terminated(self, view, allowed=()):
        if not view or TERMINATED in allowed:
            return
        sides = [side for side, state in (('this server', view['local_state']),
                                          ('its partner', view['partner_state'])) if state == TERMINATED]
        if sides:
            self.fail('HA is in the "terminated" state on %s (%s). %s States seen: %s'
                      % (' and '.join(sides), self.client.where, TERMINATED_HELP, self.seen_text()))

    def wait(self, done, describe, on_view=None, allowed=()):
        deadline = time.monotonic() + self.params['timeout']
        while True:
            view = self.read(transient=True)
            self.check_terminated(view, allowed)
            if view is not None:
                if done(view):
                    return view
                if on_view is not None:
                    on_view(view)
            if time.monotonic() >= deadline:
                problem = ' Last problem: %s.' % self.last_problem if self.last_problem else ''
                self.fail('timed out after %d s waiting for %s. States seen: %s.%s%s'
                          % (self.params['timeout'], describe, self.seen_text(), problem, self.hint(self.view)))
            time.sleep(min(self.params['interval'], max(0.0, deadline - time.monotonic())))

    def hint(self, view):
        if view and view['local_state'] == 'in-maintenance':
            return (' This server is the one in maintenance: its partner holds it; run state=normal against the '
                    'partner.')
        if view and view['local_state'] == 'partner-in-maintenance':
            return ' This server holds a maintenance for its partner: state=normal against this server ends it.'
        if view and view['local_state'] == 'partner-down':
            return ' The partner is down or unreachable from this server.'
        return ''

    # -- states ----------------------------------------------------------------

    def query(self):
        wanted_local = self.params['wait_for']
        wanted_partner = self.params['wait_for_partner']
        if not wanted_local and not wanted_partner:
            self.read()
            self.exit()
            return
        allowed = tuple(wanted_local or ()) + tuple(wanted_partner or ())

        def done(view):
            return ((not wanted_local or view['local_state'] in wanted_local)
                    and (not wanted_partner or view['partner_state'] in wanted_partner))

        parts = []
        if wanted_local:
            parts.append('this server in %s' % ' or '.join(wanted_local))
        if wanted_partner:
            parts.append('its partner in %s' % ' or '.join(wanted_partner))
        self.wait(done, ' and '.join(parts), allowed=allowed)
        self.exit()

    def maintenance(self):
        view = self.read()
        self.check_terminated(view)
        if view['mode'] == 'passive-backup':
            self.fail('HA maintenance does not exist in passive-backup mode (Kea fails ha-maintenance-start there '
                      'without an answer); nothing was sent.')
        local = view['local_state']
        if local == 'partner-in-maintenance' or (local == 'partner-down' and not view['partner_in_touch']):
            self.exit()
            return
        if local == 'in-maintenance':
            self.fail('this server is in-maintenance: its partner has taken over for it. Put the other peer back '
                      'first (state=normal against the partner) before this one takes over; nothing was sent.')
        if self.module.check_mode:
            self.would_send.append('ha-maintenance-start')
            self.changed = True
            self.exit()
            return
        answer = self.send('ha-maintenance-start')
        if answer.result != 0:
            self.fail('Kea refused ha-maintenance-start in state %s: result %d (%s): %s'
                      % (local, answer.result, answer.outcome, answer.text))
        self.changed = True
        self.wait(lambda v: v['local_state'] in ('partner-in-maintenance', 'partner-down'),
                  'this server in partner-in-maintenance or partner-down')
        self.exit()

    def normal(self):
        view = self.read()
        self.check_terminated(view)
        if view['mode'] not in NORMAL_STATES:
            self.fail('unknown HA mode %r reported by %s' % (view['mode'], self.client.where))
        holds_maintenance = view['local_state'] == 'partner-in-maintenance'
        if self.module.check_mode:
            if holds_maintenance:
                self.would_send.append('ha-maintenance-cancel')
                self.changed = True
            self.exit()
            return
        last_cancel = [None]

        def cancel():
            answer = self.send('ha-maintenance-cancel')
            last_cancel[0] = time.monotonic()
            if answer.result == 0:
                self.changed = True
            elif answer.result == 1:
                # The state moved between our reading and the command; the
                # next reading tells.
                self.last_problem = 'ha-maintenance-cancel answered: %s' % answer.text
            else:
                self.fail('Kea refused ha-maintenance-cancel: result %d (%s): %s'
                          % (answer.result, answer.outcome, answer.text))

        bridge = dict(scopes=None, default=None, since=None)
        if self.params['handback'] == 'bridged':
            self.check_shared_database()

            def cancel_and_bridge():
                # The scopes this server serves for the pair during the
                # maintenance, then, straight after the cancel, the normal
                # scopes it fell back to, and every scope again.
                held = self.heartbeat_scopes()
                cancel()
                if not self.changed:
                    return
                bridge['default'] = self.heartbeat_scopes()
                bridge['scopes'] = sorted(set(held) | set(bridge['default']))
                if bridge['scopes'] != bridge['default']:
                    self.set_scopes(bridge['scopes'])
                    bridge['since'] = bridge['since'] or time.monotonic()
            do_cancel = cancel_and_bridge
        else:
            do_cancel = cancel
        self.bridge = bridge

        if holds_maintenance:
            do_cancel()

        spacing = max(MIN_CANCEL_SPACING, 2 * self.params['interval'])

        def on_view(view):
            # The trap: the partner restarted faster than a heartbeat and came
            # back in-maintenance while this server (again or still) holds the
            # maintenance. Only another cancel gets them out.
            if (view['local_state'] == 'partner-in-maintenance' and view['partner_state'] == 'in-maintenance'
                    and (last_cancel[0] is None or time.monotonic() - last_cancel[0] >= spacing)):
                do_cancel()

        want = NORMAL_STATES[view['mode']]
        describe = 'this server in %s' % normal_state(view)
        if partner_matters(view):
            describe += ' and its partner in %s' % want
        try:
            self.wait(pair_is_normal, describe, on_view=on_view)
        finally:
            # Also when the wait fails: this server must not keep serving
            # the partner's scopes once the partner serves them.
            self.end_bridge()
        self.exit()

    # -- bridged handback --------------------------------------------------------

    def check_shared_database(self):
        answer = self.send('config-get')
        if answer.result != 0:
            self.fail('handback=bridged needs config-get to check for a shared lease database; Kea answered '
                      'result %d (%s): %s' % (answer.result, answer.outcome, answer.text))
        dhcp = (answer.arguments or {}).get('Dhcp4') or (answer.arguments or {}).get('Dhcp6') or {}
        shared = False
        for hook in dhcp.get('hooks-libraries', []):
            for relationship in ((hook.get('parameters') or {}).get('high-availability') or []):
                shared = shared or relationship.get('send-lease-updates') is False
        if not shared or dhcp.get('lease-database', {}).get('type', 'memfile') == 'memfile':
            self.fail('handback=bridged is safe only when both peers share one SQL lease database '
                      '(lease-database postgresql or mysql, send-lease-updates false); %s has not. Use '
                      'handback=plain. Nothing was sent.' % self.client.where)

    def heartbeat_scopes(self):
        arguments = {'server-name': self.params['server_name']} if self.params['server_name'] else None
        answer = self.send('ha-heartbeat', arguments)
        if answer.result != 0:
            self.fail('ha-heartbeat answered result %d (%s): %s' % (answer.result, answer.outcome, answer.text))
        return list((answer.arguments or {}).get('scopes') or [])

    def set_scopes(self, scopes):
        arguments = {'scopes': scopes}
        if self.params['server_name']:
            arguments['server-name'] = self.params['server_name']
        answer = self.send('ha-scopes', arguments)
        if answer.result != 0:
            self.fail('Kea refused ha-scopes %s: result %d (%s): %s'
                      % (scopes, answer.result, answer.outcome, answer.text))

    def end_bridge(self):
        bridge = getattr(self, 'bridge', None)
        if not bridge or bridge['since'] is None:
            return
        self.set_scopes(bridge['default'])
        self.bridged = dict(scopes=bridge['scopes'], restored=bridge['default'],
                            seconds=round(time.monotonic() - bridge['since'], 3))
        bridge['since'] = None


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
    ha = KeaHa(module, client_from_module(module))
    getattr(ha, p['state'])()


if __name__ == '__main__':
    main()
