# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host reservations through Kea's host_cmds API: identity, comparison, conflicts, paging.

Shared by dhcpops.kea.kea_reservation (one host) and dhcpops.kea.kea_reservations
(a whole set, kept in sync). Pure functions apart from ``HostApi``, which wraps
a ``KeaApiClient`` and counts the calls it makes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

from ansible.module_utils.six import text_type

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_api import KeaApiError

IDENTIFIER_TYPES = ('hw-address', 'client-id', 'duid', 'circuit-id', 'flex-id')
# Keys of a reservation besides its identifier, with the value Kea reports
# when the key was never set. Kea 3.0.4 answers reservation-get with all of them.
HOST_DEFAULTS = {
    'ip-address': None,
    'hostname': '',
    'next-server': '0.0.0.0',
    'server-hostname': '',
    'boot-file-name': '',
    'client-classes': [],
    'option-data': [],
    'user-context': None,
}
HOST_KEYS = frozenset(HOST_DEFAULTS) | frozenset(IDENTIFIER_TYPES) | frozenset(['comment'])
# Option keys compared when the desired option gives them (Kea adds the rest).
OPTION_KEYS = ('always-send', 'never-send', 'csv-format')
# Hosts per reservation-get-page: large pages, bounded answers (about 250 kB).
MAX_PAGE = 1000
# Where reservation-get-page finds a hosts database: source 0 is the
# configuration file, 1 the first hosts database.
DATABASE_SOURCE = 1

_HEX = re.compile(r'^[0-9a-f]+$')


class ReservationError(Exception):
    """A reservation that cannot be applied; the message names what and where."""


def normalise_identifier(kind, value, where='reservation'):
    """Kea's own spelling of an identifier: lower-case hex bytes joined by colons.

    Accepts colons, dashes, dots or nothing between the digits (MACs as
    switches print them) and, as Kea does, a quoted text ('port-7') for the
    identifiers that may be text.
    """
    if kind not in IDENTIFIER_TYPES:
        raise ReservationError('%s: unknown identifier type %r (Kea knows %s)'
                               % (where, kind, ', '.join(IDENTIFIER_TYPES)))
    if not isinstance(value, (text_type, str)):
        raise ReservationError('%s: %s must be text such as "0a:1b:2c:3d:4e:5f", got %r (quote it in YAML)'
                               % (where, kind, value))
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'" and kind != 'hw-address':
        raw = text[1:-1].encode('utf-8')
        if not raw:
            raise ReservationError('%s: %s is an empty text' % (where, kind))
        return ':'.join('%02x' % (b if isinstance(b, int) else ord(b)) for b in bytearray(raw))
    digits = re.sub(r'[:.\-\s]', '', text).lower()
    if not digits or len(digits) % 2 or not _HEX.match(digits):
        raise ReservationError('%s: %s %r is not hexadecimal bytes such as "0a:1b:2c:3d:4e:5f"'
                               % (where, kind, value))
    if kind == 'hw-address' and len(digits) != 12:
        raise ReservationError('%s: hw-address %r is not a MAC address of 6 bytes' % (where, value))
    return ':'.join(digits[i:i + 2] for i in range(0, len(digits), 2))


def identity(host, where='reservation'):
    """(identifier type, normalised identifier) of a reservation with exactly one identifier."""
    kinds = [k for k in IDENTIFIER_TYPES if host.get(k) not in (None, '')]
    if len(kinds) != 1:
        raise ReservationError('%s needs exactly one identifier of %s, it has %s'
                               % (where, ', '.join(IDENTIFIER_TYPES), ', '.join(kinds) or 'none'))
    return kinds[0], normalise_identifier(kinds[0], host[kinds[0]], where)


def _option_data(value):
    data = '' if value is None else text_type(value)
    return re.sub(r'\s*,\s*', ',', data.strip())


def _option_key(option):
    space = option.get('space') or 'dhcp4'
    if option.get('name'):
        return (space, 'name', text_type(option['name']))
    return (space, 'code', int(option.get('code')))


def _option_matches(wanted, present):
    if _option_data(wanted.get('data')) != _option_data(present.get('data')):
        return False
    return all(key not in wanted or wanted[key] == present.get(key) for key in OPTION_KEYS)


def options_equal(wanted, present):
    """The desired option-data against what Kea reports (which adds code, space and flags)."""
    wanted, present = wanted or [], present or []
    if len(wanted) != len(present):
        return False
    index = {}
    for option in present:
        space = option.get('space') or 'dhcp4'
        if option.get('name'):
            index[(space, 'name', option['name'])] = option
        if option.get('code') is not None:
            index[(space, 'code', int(option['code']))] = option
    for option in wanted:
        found = index.get(_option_key(option))
        if found is None or not _option_matches(option, found):
            return False
    return True


def canonical(host, where='reservation'):
    """A reservation as comparable data: identifier normalised, defaults filled, comment in user-context."""
    unknown = sorted(set(host) - HOST_KEYS - set(['subnet-id']))
    if unknown:
        raise ReservationError('%s: unknown key(s) %s (a reservation holds one identifier of %s and %s)'
                               % (where, ', '.join(unknown), ', '.join(IDENTIFIER_TYPES),
                                  ', '.join(sorted(HOST_DEFAULTS))))
    kind, ident = identity(host, where)
    out = dict(HOST_DEFAULTS)
    for key in HOST_DEFAULTS:
        if host.get(key) is not None:
            out[key] = host[key]
    out['identifier-type'], out['identifier'] = kind, ident
    if out['ip-address'] is not None:
        try:
            out['ip-address'] = text_type(ipaddress.IPv4Address(text_type(out['ip-address'])))
        except ValueError:
            raise ReservationError('%s: ip-address %r is not an IPv4 address' % (where, host['ip-address']))
    out['hostname'] = text_type(out['hostname'] or '')
    out['client-classes'] = list(out['client-classes'] or [])
    out['option-data'] = list(out['option-data'] or [])
    context = dict(out['user-context'] or {})
    if host.get('comment'):
        context['comment'] = host['comment']
    out['user-context'] = context or None
    return out


def differences(wanted, present):
    """Names of the keys in which a desired reservation (canonical) differs from Kea's (canonical)."""
    changed = []
    for key in sorted(HOST_DEFAULTS):
        if key == 'option-data':
            if not options_equal(wanted['option-data'], present['option-data']):
                changed.append(key)
        elif key == 'hostname':
            # DNS names: Kea keeps the case it was given, and case does not matter.
            if wanted[key].lower() != present[key].lower():
                changed.append(key)
        elif wanted[key] != present[key]:
            changed.append(key)
    return changed


def to_kea(host, subnet_id):
    """The reservation as reservation-add/-update take it: only the keys that are set."""
    out = {'subnet-id': subnet_id, host['identifier-type']: host['identifier']}
    for key, default in HOST_DEFAULTS.items():
        value = host.get(key)
        if value is not None and value != default:
            out[key] = value
    return out


def describe(host, subnet_id=None):
    """One line naming a reservation, for messages and the plan."""
    sid = host.get('subnet-id', subnet_id)
    parts = ['%s %s' % (host['identifier-type'], host['identifier'])]
    if host.get('ip-address'):
        parts.append('-> %s' % host['ip-address'])
    if host.get('hostname'):
        parts.append('(%s)' % host['hostname'])
    return '%s %s' % ('global' if not sid else 'subnet %s:' % sid, ' '.join(parts))


# ---------------------------------------------------------------------------
# The declared and running configuration
# ---------------------------------------------------------------------------

class SubnetMap(object):
    """Subnets and pools of a configuration (config-get's Dhcp4 or the data model), for conflict checks."""

    def __init__(self, dhcp4):
        self.subnets = {}
        subnets = list(dhcp4.get('subnet4') or [])
        for network in dhcp4.get('shared-networks') or []:
            subnets.extend(network.get('subnet4') or [])
        for subnet in subnets:
            prefix = ipaddress.IPv4Network(text_type(subnet['subnet']), strict=False)
            pools = []
            for pool in subnet.get('pools') or []:
                pools.append((text_type(pool['pool']).replace(' ', ''), _pool_range(pool['pool'])))
            reserved = {}
            for host in subnet.get('reservations') or []:
                if host.get('ip-address'):
                    try:
                        reserved[text_type(ipaddress.IPv4Address(text_type(host['ip-address'])))] = identity(host)
                    except (ReservationError, ValueError):
                        continue
            self.subnets[int(subnet['id'])] = dict(prefix=prefix, pools=pools, config_reserved=reserved)

    def check_address(self, subnet_id, address, where):
        """Errors for an address outside its subnet or inside another subnet's pool."""
        if not subnet_id:
            return []
        if subnet_id not in self.subnets:
            return ['%s: subnet id %s is not configured on the server (configured: %s)'
                    % (where, subnet_id, ', '.join(str(s) for s in sorted(self.subnets)) or 'none')]
        if address is None:
            return []
        ip = ipaddress.IPv4Address(address)
        errors = []
        own = self.subnets[subnet_id]
        if ip not in own['prefix']:
            other = self.pool_of(ip)
            if other:
                errors.append('%s: %s is outside subnet %s (id %s), inside the pool %s of subnet %s (id %s)'
                              % (where, address, own['prefix'], subnet_id, other[1], self.subnets[other[0]]['prefix'],
                                 other[0]))
            else:
                errors.append('%s: %s is outside subnet %s (id %s)' % (where, address, own['prefix'], subnet_id))
        return errors

    def pool_of(self, ip):
        for sid, subnet in self.subnets.items():
            for text, (start, end) in subnet['pools']:
                if start <= ip <= end:
                    return sid, text
        return None


def _pool_range(text):
    text = text_type(text).replace(' ', '')
    if '-' in text:
        first, last = text.split('-', 1)
        return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    network = ipaddress.IPv4Network(text, strict=False)
    return network.network_address, network.broadcast_address


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------

class HostApi(object):
    """host_cmds through one KeaApiClient, counting reads and writes."""

    def __init__(self, client, operation_target=None):
        self.client = client
        self.operation_target = operation_target
        self.reads = 0
        self.writes = 0

    def call(self, command, arguments, accept=(0,), write=False):
        if write:
            self.writes += 1
        else:
            self.reads += 1
        answer = self.client.command(command, arguments)
        if answer.result == 2:
            raise KeaApiError('%s answered %s with result 2 (unsupported): %s. The host_cmds hook '
                              '(libdhcp_host_cmds.so) is not loaded; Kea 2.2 and 2.6 from Debian do not ship it, so '
                              'reservations there go through the configuration (dhcpops.kea.reservations does that)'
                              % (self.client.where, command, answer.text or 'no text'), result=2)
        if answer.result not in accept:
            raise KeaApiError('Kea answered %s with result %d (%s): %s'
                              % (command, answer.result, answer.outcome, answer.text or 'no text'),
                              result=answer.result)
        return answer

    def _target(self, arguments):
        if self.operation_target:
            arguments['operation-target'] = self.operation_target
        return arguments

    def config(self):
        answer = self.call('config-get', None)
        arguments = answer.arguments or {}
        return arguments.get('Dhcp4', arguments)

    def get(self, subnet_id, kind, identifier):
        answer = self.call('reservation-get', self._target(
            {'subnet-id': subnet_id, 'identifier-type': kind, 'identifier': identifier}), accept=(0, 3))
        return answer.arguments if answer.result == 0 else None

    def get_by_address(self, subnet_id, address):
        answer = self.call('reservation-get', self._target({'subnet-id': subnet_id, 'ip-address': address}),
                           accept=(0, 3))
        return answer.arguments if answer.result == 0 else None

    def page(self, subnet_id, limit=MAX_PAGE, source_index=DATABASE_SOURCE):
        """Every reservation of a subnet (None: of every subnet) held in the hosts database, in pages."""
        hosts = []
        arguments = {'limit': limit, 'source-index': source_index}
        if subnet_id is not None:
            arguments['subnet-id'] = subnet_id
        while True:
            answer = self.call('reservation-get-page', dict(arguments), accept=(0, 3))
            found = (answer.arguments or {}).get('hosts') or []
            hosts.extend(h for h in found if subnet_id is None or h.get('subnet-id', subnet_id) == subnet_id)
            following = (answer.arguments or {}).get('next') or {}
            if answer.result == 3 or not found or following.get('source-index', source_index) != source_index:
                return hosts
            arguments['from'] = following.get('from')

    def add(self, host):
        self.call('reservation-add', self._target({'reservation': host}), write=True)

    def update(self, host):
        self.call('reservation-update', self._target({'reservation': host}), write=True)

    def delete(self, subnet_id, kind, identifier):
        # 3: already gone (deleted by someone else meanwhile), which is what was wanted.
        self.call('reservation-del', self._target(
            {'subnet-id': subnet_id, 'identifier-type': kind, 'identifier': identifier}), accept=(0, 3), write=True)

    def held(self, subnet_ids, limit=MAX_PAGE):
        """subnet id -> hosts the database holds, for these subnets.

        One subnet is read on its own; several are read in one pass over the
        whole database (reservation-get-page without subnet-id, Kea 3.0.4),
        so that 400 subnets of 25 hosts cost 10 pages, not 400.
        """
        wanted = sorted(set(subnet_ids))
        if len(wanted) == 1:
            return {wanted[0]: self.page(wanted[0], limit)}
        out = dict((s, []) for s in wanted)
        for host in self.page(None, limit):
            sid = host.get('subnet-id', 0)
            if sid in out:
                out[sid].append(host)
        return out


def present_host(answer_host, subnet_id):
    """A host as reservation-get(-page) reports it, in canonical form (unknown keys dropped)."""
    keep = dict((k, v) for k, v in answer_host.items() if k in HOST_KEYS)
    host = canonical(keep, 'the server')
    host['subnet-id'] = answer_host.get('subnet-id', subnet_id)
    return host


def display(host):
    """A reservation as the user writes it (for diffs and records): identifier first, defaults left out."""
    if host is None:
        return None
    out = {host['identifier-type']: host['identifier']}
    for key in sorted(HOST_DEFAULTS):
        value = host.get(key)
        if value is not None and value != HOST_DEFAULTS[key]:
            out[key] = value
    if 'subnet-id' in host:
        out['subnet-id'] = host['subnet-id']
    return out


def diff_text(hosts):
    """Reservations (as display() gives them) as sorted one-per-line JSON, for a readable --diff of thousands."""
    lines = [json.dumps(h, sort_keys=True, separators=(', ', ': ')) for h in hosts if h is not None]
    return ''.join(line + '\n' for line in sorted(lines))


# ---------------------------------------------------------------------------
# Planning a sync
# ---------------------------------------------------------------------------

def plan_sync(desired, present, subnet_map, prune=True):
    """What to add, update and delete so that the hosts database holds ``desired``.

    ``desired`` and ``present`` map subnet id -> list of canonical hosts (with
    ``where`` naming their source for desired ones). Every conflict is
    collected before anything is decided, so one run names them all; a plan
    with errors must not be applied.
    """
    adds, updates, deletes, unchanged, errors = [], [], [], 0, []
    for subnet_id in sorted(set(desired) | set(present)):
        wanted = desired.get(subnet_id, [])
        held = dict(((h['identifier-type'], h['identifier']), h) for h in present.get(subnet_id, []))
        config_reserved = subnet_map.subnets.get(subnet_id, {}).get('config_reserved', {}) if subnet_id else {}
        seen_ids, seen_ips = {}, {}
        for host in wanted:
            key = (host['identifier-type'], host['identifier'])
            where = host.get('where', 'reservation')
            if key in seen_ids:
                errors.append('%s and %s both reserve for %s %s in subnet %s; one host, one reservation'
                              % (seen_ids[key], where, key[0], key[1], subnet_id))
                continue
            seen_ids[key] = where
            address = host.get('ip-address')
            if address:
                if address in seen_ips:
                    errors.append('%s reserves %s, which %s already reserves for another host (subnet %s)'
                                  % (where, address, seen_ips[address], subnet_id))
                seen_ips[address] = where
                owner = config_reserved.get(address)
                if owner and owner != key:
                    errors.append('%s reserves %s, which the configuration file already reserves for %s %s '
                                  '(subnet %s)' % (where, address, owner[0], owner[1], subnet_id))
                errors.extend(subnet_map.check_address(subnet_id, address, where))
            elif subnet_id and subnet_id not in subnet_map.subnets:
                errors.extend(subnet_map.check_address(subnet_id, None, where))
            current = held.pop(key, None)
            if current is None:
                adds.append((subnet_id, host))
            elif differences(host, current):
                updates.append((subnet_id, current, host))
            else:
                unchanged += 1

        # What stays in the database without being wanted.
        for key, host in sorted(held.items()):
            if prune:
                deletes.append((subnet_id, host))
            elif host.get('ip-address') in seen_ips:
                errors.append('%s reserves %s, which the server already reserves for %s %s (subnet %s); '
                              'with prune off that reservation stays, so remove it first'
                              % (seen_ips[host['ip-address']], host['ip-address'], key[0], key[1], subnet_id))
    return dict(adds=adds, updates=updates, deletes=deletes, unchanged=unchanged, errors=errors)


def apply_plan(api, plan, records):
    """Carry out a plan: deletions, then updates, then additions.

    An address is held once per subnet, so a reservation whose address
    changes is deleted with the deletions and added with the additions
    (two hosts may swap addresses); other changes use reservation-update.
    Appends a change record to ``records`` as each change is made, so a
    failure part way still reports what was done.
    """
    moved = [(sid, old, new) for sid, old, new in plan['updates'] if old.get('ip-address') != new.get('ip-address')]
    in_place = [(sid, old, new) for sid, old, new in plan['updates'] if old.get('ip-address') == new.get('ip-address')]
    for subnet_id, host in plan['deletes']:
        api.delete(subnet_id, host['identifier-type'], host['identifier'])
        records.append(dict(action='deleted', subnet_id=subnet_id, before=display(host), after=None))
    for subnet_id, old, dummy in moved:
        api.delete(subnet_id, old['identifier-type'], old['identifier'])
    for subnet_id, old, new in in_place:
        api.update(to_kea(new, subnet_id))
        records.append(dict(action='updated', subnet_id=subnet_id, before=display(old), after=display(new)))
    for subnet_id, old, new in moved:
        api.add(to_kea(new, subnet_id))
        records.append(dict(action='updated', subnet_id=subnet_id, before=display(old), after=display(new)))
    for subnet_id, host in plan['adds']:
        api.add(to_kea(host, subnet_id))
        records.append(dict(action='added', subnet_id=subnet_id, before=None, after=display(host)))


def planned_records(plan):
    """The change records a plan would make, for check mode."""
    records = [dict(action='deleted', subnet_id=sid, before=display(h), after=None) for sid, h in plan['deletes']]
    records += [dict(action='updated', subnet_id=sid, before=display(o), after=display(n))
                for sid, o, n in plan['updates']]
    records += [dict(action='added', subnet_id=sid, before=None, after=display(h)) for sid, h in plan['adds']]
    return records
