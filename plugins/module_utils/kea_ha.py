# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HA state machine of one Kea server, as seen and driven through its API.

Shared by dhcpops.kea.kea_ha (one server, one state per task) and
dhcpops.kea.kea_ha_reload (a whole peer reload: this peer and its partner).
A failure raises :class:`HaFailure`; :meth:`KeaHa.report` then holds the
states seen up to it, for the caller to return.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import KeaApiError

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


class HaFailure(Exception):
    """The HA step failed; the message says why and what to do."""

    def __init__(self, msg):
        super(HaFailure, self).__init__(msg)
        self.msg = msg


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


# The options KeaHa reads, with kea_ha's defaults.
DEFAULT_OPTIONS = dict(server_name=None, wait_for=None, wait_for_partner=None, timeout=60, interval=0.5,
                       handback='plain')


class KeaHa(object):
    """One server's HA states. query(), maintenance() and normal() return report() or raise HaFailure."""

    def __init__(self, client, options=None, check_mode=False):
        self.client = client
        self.params = dict(DEFAULT_OPTIONS)
        self.params.update((k, v) for k, v in (options or {}).items() if k in DEFAULT_OPTIONS)
        self.check_mode = check_mode
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
        raise HaFailure(msg)

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
            return self.report()
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
        return self.report()

    def maintenance(self):
        view = self.read()
        self.check_terminated(view)
        if view['mode'] == 'passive-backup':
            self.fail('HA maintenance does not exist in passive-backup mode (Kea fails ha-maintenance-start there '
                      'without an answer); nothing was sent.')
        local = view['local_state']
        if local == 'partner-in-maintenance' or (local == 'partner-down' and not view['partner_in_touch']):
            return self.report()
        if local == 'in-maintenance':
            self.fail('this server is in-maintenance: its partner has taken over for it. Put the other peer back '
                      'first (state=normal against the partner) before this one takes over; nothing was sent.')
        if self.check_mode:
            self.would_send.append('ha-maintenance-start')
            self.changed = True
            return self.report()
        answer = self.send('ha-maintenance-start')
        if answer.result != 0:
            self.fail('Kea refused ha-maintenance-start in state %s: result %d (%s): %s'
                      % (local, answer.result, answer.outcome, answer.text))
        self.changed = True
        self.wait(lambda v: v['local_state'] in ('partner-in-maintenance', 'partner-down'),
                  'this server in partner-in-maintenance or partner-down')
        return self.report()

    def normal(self):
        view = self.read()
        self.check_terminated(view)
        if view['mode'] not in NORMAL_STATES:
            self.fail('unknown HA mode %r reported by %s' % (view['mode'], self.client.where))
        holds_maintenance = view['local_state'] == 'partner-in-maintenance'
        if self.check_mode:
            if holds_maintenance:
                self.would_send.append('ha-maintenance-cancel')
                self.changed = True
            return self.report()
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
        return self.report()

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
