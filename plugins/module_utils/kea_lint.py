# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Static checks for a Kea DHCPv4 configuration.

``kea-dhcp4 -t`` accepts configurations that hand out duplicate addresses
(subnets that overlap with different prefix lengths, a reservation whose
address sits in another subnet's dynamic pool, HA peers that disagree).
This linter catches those before a file reaches a server, and names every
entry involved so the person on call can find them in the source data.

Every check is a sort + sweep, a bisect or a hash grouping: 50,000
reservations must lint in well under a second, so addresses are handled as
plain integers and descriptions are only built for entries in a finding.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import difflib
import heapq
import json
import posixpath
import re
import socket
import struct


SEVERITY_ERROR = 'error'
SEVERITY_WARNING = 'warning'

# Kea 2.2 - 3.0, DHCPv4. Kept as data so a new Kea key is a one-line change.
SUBNET_KEYS = frozenset((
    'id', 'subnet', 'pools', 'option-data', 'reservations', 'relay',
    'interface', 'client-class', 'client-classes', 'require-client-classes',
    'evaluate-additional-classes', 'valid-lifetime', 'min-valid-lifetime',
    'max-valid-lifetime', 'renew-timer', 'rebind-timer', 'calculate-tee-times',
    't1-percent', 't2-percent', 'match-client-id', 'authoritative',
    'next-server', 'server-hostname', 'boot-file-name', '4o6-interface',
    '4o6-interface-id', '4o6-subnet', 'reservation-mode', 'reservations-global',
    'reservations-in-subnet', 'reservations-out-of-pool', 'store-extended-info',
    'cache-threshold', 'cache-max-age', 'hostname-char-set',
    'hostname-char-replacement', 'user-context', 'comment', 'allocator',
    'offer-lifetime', 'adaptive-lease-time-threshold',
))
SUBNET_KEY_PREFIXES = ('ddns-',)
POOL_KEYS = frozenset((
    'pool', 'option-data', 'client-class', 'client-classes',
    'require-client-classes', 'evaluate-additional-classes', 'user-context',
    'comment', 'pool-id',
))
RESERVATION_KEYS = frozenset((
    'hw-address', 'client-id', 'duid', 'circuit-id', 'flex-id', 'ip-address',
    'hostname', 'option-data', 'client-classes', 'next-server',
    'server-hostname', 'boot-file-name', 'user-context', 'comment',
))
OPTION_DATA_KEYS = frozenset((
    'name', 'code', 'space', 'data', 'csv-format', 'always-send', 'never-send',
    'client-classes', 'comment', 'user-context',
))
IDENTIFIER_KEYS = ('hw-address', 'client-id', 'duid', 'circuit-id', 'flex-id')
IDENTIFIER_SET = frozenset(IDENTIFIER_KEYS)

HA_ROLES = {
    # mode: (roles that must appear exactly once, roles allowed any number of times)
    'load-balancing': (('primary', 'secondary'), ('backup',)),
    'hot-standby': (('primary', 'standby'), ('backup',)),
    'passive-backup': (('primary',), ('backup',)),
}

# Host-local keys: the two peers of a pair legitimately differ there.
HA_PAIR_LOCAL_KEYS = ('interfaces-config', 'control-socket', 'control-sockets',
                      'loggers', 'server-tag')
_SENSITIVE_KEY = re.compile(r'password|secret|token', re.I)
_MAX_PAIR_PATHS = 5
_MAX_LISTED = 10

_STRUCT_U32 = struct.Struct('!I')
_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton


class Finding(object):
    """One problem. ``entries`` names each configuration entry involved."""

    def __init__(self, severity, code, message, entries=None):
        self.severity = severity
        self.code = code
        self.message = message
        self.entries = list(entries or [])

    def to_dict(self):
        return {'severity': self.severity, 'code': self.code,
                'message': self.message, 'entries': list(self.entries)}

    def sort_key(self):
        return (0 if self.severity == SEVERITY_ERROR else 1, self.code, self.message)

    def __repr__(self):
        return 'Finding(%r, %r, %r)' % (self.severity, self.code, self.message)

    def __eq__(self, other):
        return isinstance(other, Finding) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None


# --------------------------------------------------------------------------
# address helpers

def ip_to_int(text):
    """Dotted quad -> int, or None. inet_pton is strict (no octal, no spaces)."""
    if not isinstance(text, str):
        return None
    try:
        return _STRUCT_U32.unpack(_inet_pton(_AF_INET, text))[0]
    except (OSError, ValueError):
        return None


def int_to_ip(value):
    return socket.inet_ntop(_AF_INET, _STRUCT_U32.pack(value))


def parse_prefix(text):
    """'a.b.c.d/len' -> (network, last, host_bits_set) or None."""
    if not isinstance(text, str) or text.count('/') != 1:
        return None
    addr, length = text.split('/')
    addr = ip_to_int(addr.strip())
    length = length.strip()
    if addr is None or not length.isdigit() or int(length) > 32:
        return None
    size = 1 << (32 - int(length))
    network = addr & ~(size - 1) & 0xFFFFFFFF
    return network, network + size - 1, network != addr


def parse_pool(text):
    """'a - b', 'a-b' or 'a.b.c.d/len' -> (first, last) or None."""
    if not isinstance(text, str):
        return None
    if '/' in text:
        parsed = parse_prefix(text.strip())
        return None if parsed is None else parsed[:2]
    parts = text.split('-')
    if len(parts) != 2:
        return None
    first, last = ip_to_int(parts[0].strip()), ip_to_int(parts[1].strip())
    if first is None or last is None or first > last:
        return None
    return first, last


def _parse_version(text):
    if not text:
        return None
    numbers = re.findall(r'\d+', str(text))[:3]
    if not numbers:
        return None
    return tuple(int(n) for n in numbers + ['0'] * (3 - len(numbers)))


def kea_enforces_paths(version):
    """True when this Kea refuses files outside its own directories."""
    v = _parse_version(version)
    if v is None:
        return False
    return v >= (2, 6, 3) or (2, 4, 2) <= v < (2, 5, 0)


_HEX_PAIRS = re.compile(r'[0-9a-f]{2}(?:[:\-]?[0-9a-f]{2})*\Z')


def _norm_hex(value):
    """Identifiers compare equal whatever case and separators were used."""
    if not isinstance(value, str):
        return repr(value)
    if len(value) == 17 and value[2] == ':' and value[14] == ':':
        return value.lower().replace(':', '')  # aa:bb:cc:dd:ee:ff, the bulk of any site
    text = value.strip().lower()
    if _HEX_PAIRS.match(text):
        return text.replace(':', '').replace('-', '')  # the usual aa:bb:.. form, fast
    if text.startswith("'") or text.startswith('"'):
        return value.strip()  # quoted string form: compared literally
    if '.' in text and ':' not in text and '-' not in text:
        return text.replace('.', '')  # Cisco style aabb.ccdd.eeff
    parts = re.split(r'[:\-.]', text)
    if len(parts) > 1 and all(0 < len(p) <= 2 for p in parts):
        return ''.join(p.zfill(2) for p in parts)
    return ''.join(parts)


def _short(value, limit=60):
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _listing(items):
    items = list(items)
    if len(items) <= _MAX_LISTED:
        return '; '.join(items)
    return '; '.join(items[:_MAX_LISTED]) + '; and %d more' % (len(items) - _MAX_LISTED)


# --------------------------------------------------------------------------
# interval helpers

def overlapping_pairs(intervals):
    """Yield (earlier, later) for every pair of overlapping intervals.

    ``intervals`` holds (first, last, item). Sorted sweep with a heap of
    the intervals still open: O(n log n + number of pairs reported).
    """
    order = sorted(range(len(intervals)),
                   key=lambda i: (intervals[i][0], -intervals[i][1], i))
    active = []  # heap of (last, index)
    for i in order:
        first, last, item = intervals[i]
        while active and active[0][0] < first:
            heapq.heappop(active)
        for _last, j in sorted(active, key=lambda t: t[1]):
            yield intervals[j][2], item
        heapq.heappush(active, (last, i))


class CoverIndex(object):
    """Which interval covers an address: one representative per point.

    Built by walking intervals sorted by start and keeping only the part
    not already covered, so the pieces are disjoint and a bisect answers.
    """

    def __init__(self, intervals):
        self.starts, self.ends, self.items = [], [], []
        covered = -1
        for first, last, item in sorted(intervals, key=lambda t: (t[0], -t[1])):
            if last <= covered:
                continue
            self.starts.append(max(first, covered + 1))
            self.ends.append(last)
            self.items.append(item)
            covered = last

    def find(self, addr):
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr <= self.ends[i]:
            return self.items[i]
        return None


class PrefixIndex(object):
    """All subnets containing an address.

    CIDR blocks either nest or are disjoint, so each block has a chain of
    enclosing blocks; a bisect plus a walk up that chain (at most 33 deep,
    plus duplicates) answers the query.
    """

    def __init__(self, subnets):
        ordered = sorted(subnets, key=lambda s: (s.first, -s.last))
        self.starts = [s.first for s in ordered]
        self.subnets = ordered
        self.parent = []
        stack = []
        for pos, sub in enumerate(ordered):
            while stack and ordered[stack[-1]].last < sub.first:
                stack.pop()
            self.parent.append(stack[-1] if stack else -1)
            stack.append(pos)

    def containing(self, addr):
        """Innermost first."""
        i = bisect.bisect_right(self.starts, addr) - 1
        while i >= 0 and self.subnets[i].last < addr:
            i = self.parent[i]
        found = []
        while i >= 0:
            found.append(self.subnets[i])
            i = self.parent[i]
        return found


# --------------------------------------------------------------------------
# model records

class _Subnet(object):
    __slots__ = ('sid', 'prefix', 'first', 'last', 'where', 'source', 'data',
                 'pools', 'pool_index', 'scope')

    def __init__(self, sid, prefix, where, source, data):
        self.sid = sid
        self.prefix = prefix
        self.first = None
        self.last = None
        self.where = where
        self.source = source
        self.data = data
        self.pools = []
        self.pool_index = None
        # Reservations are grouped per subnet; without an id, the position does.
        self.scope = ('id', sid) if sid is not None else ('at', where)

    def describe(self):
        if self.sid is None:
            text = 'subnet without id (%s) at %s' % (self.prefix, self.where)
        else:
            text = 'subnet %s (%s)' % (self.sid, self.prefix)
        if self.source:
            text += ' [from %s]' % self.source
        return text


class _Pool(object):
    __slots__ = ('text', 'first', 'last', 'subnet')

    def __init__(self, text, first, last, subnet):
        self.text = text
        self.first = first
        self.last = last
        self.subnet = subnet

    def describe(self):
        return 'pool %s of %s' % (self.text, self.subnet.describe())


class _Reservation(object):
    __slots__ = ('data', 'addr', 'subnet', 'index', 'source')

    def __init__(self, data, addr, subnet, index, source):
        self.data = data
        self.addr = addr
        self.subnet = subnet
        self.index = index
        self.source = source

    def describe(self):
        data = self.data
        parts = ['reservation']
        if 'ip-address' in data:
            parts.append(str(data['ip-address']))
        for key in IDENTIFIER_KEYS:
            if key in data:
                parts.append('%s %s' % (key, data[key]))
        if 'hostname' in data:
            parts.append('hostname %s' % data['hostname'])
        if self.subnet is None:
            parts.insert(0, 'global')
            parts.append('(Dhcp4.reservations[%d])' % self.index)
        else:
            parts.append('in subnet %s (%s)' % (
                self.subnet.sid if self.subnet.sid is not None else 'without id',
                self.subnet.prefix))
        text = ' '.join(parts)
        if self.source:
            text += ' [from %s]' % self.source
        return text


# --------------------------------------------------------------------------
# the DHCPv4 linter

class _Linter(object):

    def __init__(self, dhcp4, sources, options):
        self.dhcp4 = _unwrap(dhcp4)
        self.sources = sources or {}
        self.options = options or {}
        self.findings = []
        self.subnets = []
        # ids of subnets that overlap another: their reservations take the slow, thorough path.
        self.overlapped = set()
        extra = self.options.get('extra_subnet_keys') or ()
        self.subnet_keys = SUBNET_KEYS.union(extra)

    def add(self, severity, code, message, entries):
        self.findings.append(Finding(severity, code, message, entries))

    def run(self):
        self.collect_subnets()
        self.check_subnets()
        self.check_pools()
        self.check_reservations()
        self.check_ha()
        self.check_paths()
        return sorted(self.findings, key=Finding.sort_key)

    # ---- unknown keys

    def check_keys(self, obj, allowed, what, owner, prefixes=()):
        for key in obj:
            if key in allowed or (prefixes and isinstance(key, str) and key.startswith(prefixes)):
                continue
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
            hint = "; did you mean '%s'?" % close[0] if close else ''
            self.add(SEVERITY_ERROR, 'unknown-key',
                     "unknown key '%s' in %s of %s%s" % (key, what, owner, hint),
                     [owner, '%s key %s' % (what, key)])

    def check_option_data(self, obj, owner):
        options = obj.get('option-data')
        if not isinstance(options, list):
            return
        for pos, opt in enumerate(options):
            if isinstance(opt, dict):
                self.check_keys(opt, OPTION_DATA_KEYS, 'option-data[%d]' % pos, owner)

    # ---- subnets and pools

    def iter_subnet_dicts(self):
        for pos, sub in enumerate(self.dhcp4.get('subnet4') or []):
            yield 'subnet4[%d]' % pos, sub
        for npos, net in enumerate(self.dhcp4.get('shared-networks') or []):
            if not isinstance(net, dict):
                continue
            label = 'shared-networks[%d]' % npos
            if 'name' in net:
                label = 'shared-networks[name=%s]' % net['name']
            for pos, sub in enumerate(net.get('subnet4') or []):
                yield '%s.subnet4[%d]' % (label, pos), sub

    def collect_subnets(self):
        self.check_option_data(self.dhcp4, 'Dhcp4 (global)')
        for npos, net in enumerate(self.dhcp4.get('shared-networks') or []):
            if isinstance(net, dict):
                self.check_option_data(net, 'shared-networks[%s]' % net.get('name', npos))
        for where, data in self.iter_subnet_dicts():
            if not isinstance(data, dict):
                self.add(SEVERITY_ERROR, 'bad-prefix',
                         '%s is not a mapping: %s' % (where, _short(data)), [where])
                continue
            sid = data.get('id')
            sub = _Subnet(sid, data.get('subnet'), where,
                          self.sources.get(('subnet', sid)) if sid is not None else None,
                          data)
            self.subnets.append(sub)
            parsed = parse_prefix(sub.prefix)
            if parsed is None:
                self.add(SEVERITY_ERROR, 'bad-prefix',
                         "%s: 'subnet' must be an IPv4 prefix like 192.0.2.0/24, got %s"
                         % (sub.describe(), _short(sub.prefix)), [sub.describe()])
            else:
                sub.first, sub.last, host_bits = parsed
                if host_bits:
                    self.add(SEVERITY_WARNING, 'subnet-host-bits',
                             '%s has host bits set; the network is %s/%s'
                             % (sub.describe(), int_to_ip(sub.first), sub.prefix.split('/')[1].strip()),
                             [sub.describe()])
            self.check_keys(data, self.subnet_keys, 'the subnet', sub.describe(),
                            SUBNET_KEY_PREFIXES)
            self.check_option_data(data, sub.describe())
            self.collect_pools(sub)

    def collect_pools(self, sub):
        pools = sub.data.get('pools') or []
        if not isinstance(pools, list):
            self.add(SEVERITY_ERROR, 'bad-pool', "%s: 'pools' must be a list" % sub.describe(),
                     [sub.describe()])
            return
        for pos, pool in enumerate(pools):
            if not isinstance(pool, dict) or 'pool' not in pool:
                self.add(SEVERITY_ERROR, 'bad-pool',
                         "%s: pools[%d] needs a 'pool' key, got %s" % (sub.describe(), pos, _short(pool)),
                         [sub.describe()])
                continue
            owner = 'pools[%d] (%s) of %s' % (pos, pool['pool'], sub.describe())
            self.check_keys(pool, POOL_KEYS, 'the pool', owner)
            self.check_option_data(pool, owner)
            parsed = parse_pool(pool['pool'])
            if parsed is None:
                self.add(SEVERITY_ERROR, 'bad-pool',
                         "%s: pool %s is not 'first - last' (first <= last) or a prefix"
                         % (sub.describe(), _short(pool['pool'])), [sub.describe()])
                continue
            sub.pools.append(_Pool(pool['pool'], parsed[0], parsed[1], sub))
        sub.pool_index = CoverIndex([(p.first, p.last, p) for p in sub.pools])

    def check_subnets(self):
        by_id = {}
        for sub in self.subnets:
            if sub.sid is None:
                self.add(SEVERITY_ERROR, 'subnet-missing-id',
                         '%s has no id: give every subnet an explicit, stable id, because Kea ties '
                         'leases to subnet ids and generated ids shift when a subnet is added'
                         % sub.describe(), [sub.describe()])
            else:
                by_id.setdefault(sub.sid, []).append(sub)
        for sid in sorted(by_id, key=str):
            group = by_id[sid]
            if len(group) > 1:
                names = ['%s at %s' % (s.describe(), s.where) for s in group]
                self.add(SEVERITY_ERROR, 'subnet-duplicate-id',
                         'subnet id %s is used %d times: %s' % (sid, len(group), _listing(names)),
                         names)
        parsed = [s for s in self.subnets if s.first is not None]
        for outer, inner in overlapping_pairs([(s.first, s.last, s) for s in parsed]):
            self.overlapped.update((id(outer), id(inner)))
            if (outer.first, outer.last) == (inner.first, inner.last):
                how = 'both are the same range'
            else:
                how = '%s lies inside %s' % (inner.prefix, outer.prefix)
            self.add(SEVERITY_ERROR, 'subnet-overlap',
                     '%s overlaps %s (%s); each address must belong to one subnet or Kea may '
                     'lease it twice' % (inner.describe(), outer.describe(), how),
                     [inner.describe(), outer.describe()])
        self.subnet_index = PrefixIndex(parsed)

    def check_pools(self):
        all_pools = []
        for sub in self.subnets:
            for pool in sub.pools:
                all_pools.append((pool.first, pool.last, pool))
                if sub.first is not None and (pool.first < sub.first or pool.last > sub.last):
                    self.add(SEVERITY_ERROR, 'pool-outside-subnet',
                             'pool %s is not inside its subnet: %s' % (pool.text, sub.describe()),
                             [pool.describe(), sub.describe()])
        for first, second in overlapping_pairs(all_pools):
            self.add(SEVERITY_ERROR, 'pool-overlap',
                     '%s overlaps %s' % (second.describe(), first.describe()),
                     [second.describe(), first.describe()])
        self.pool_index = CoverIndex(all_pools)

    # ---- reservations

    def reservation_source(self, sid, index):
        src = self.sources.get(('reservation', sid, index))
        if src is None and sid is None:
            src = self.sources.get(('reservation', 'global', index))
        return src

    def _reservation(self, sub, index, data, addr=None):
        """A describable reservation record, built only when a finding needs one."""
        # A subnet without id has no key in ``sources``; never borrow a global's.
        sid = None if sub is None else sub.sid
        source = None if (sub is not None and sid is None) else self.reservation_source(sid, index)
        return _Reservation(data, addr, sub, index, source)

    def check_reservations(self):
        """One pass over every reservation: this is the hot loop of a large site.

        The common case (an address inside its own subnet, which overlaps no
        other, with one hardware address) costs a few dict and set operations;
        describable records are built only for findings.
        """
        in_pool_severity = self.options.get('reservation_in_pool') or SEVERITY_WARNING
        unique_ips = self.dhcp4.get('ip-reservations-unique', True) is not False
        overlapped = self.overlapped
        first_by_ip, dup_ip = {}, {}
        first_by_ident, dup_ident = {}, {}
        groups = [(None, self.dhcp4.get('reservations'))]
        groups.extend((sub, sub.data.get('reservations')) for sub in self.subnets)
        for sub, items in groups:
            if not items:
                continue
            owner = 'Dhcp4.reservations' if sub is None else sub.describe()
            if not isinstance(items, list):
                self.add(SEVERITY_ERROR, 'bad-address', "%s: 'reservations' must be a list" % owner, [owner])
                continue
            scope = 'global' if sub is None else sub.scope
            fast = sub is not None and sub.first is not None and id(sub) not in overlapped
            sub_first = sub.first if fast else None
            sub_last = sub.last if fast else None
            pool_find = sub.pool_index.find if fast and sub.pools and in_pool_severity != 'ignore' else None
            for index, data in enumerate(items):
                if not isinstance(data, dict):
                    self.add(SEVERITY_ERROR, 'bad-address',
                             '%s: reservations[%d] is not a mapping: %s' % (owner, index, _short(data)), [owner])
                    continue
                if not RESERVATION_KEYS.issuperset(data):
                    self.check_keys(data, RESERVATION_KEYS, 'the reservation',
                                    self._reservation(sub, index, data).describe())
                if 'option-data' in data:
                    self.check_option_data(data, self._reservation(sub, index, data).describe())

                idents = IDENTIFIER_SET.intersection(data)
                if len(idents) != 1:
                    res = self._reservation(sub, index, data)
                    if not idents:
                        self.add(SEVERITY_ERROR, 'reservation-no-identifier',
                                 '%s has no identifier (one of %s)' % (res.describe(), ', '.join(IDENTIFIER_KEYS)),
                                 [res.describe()])
                    else:
                        self.add(SEVERITY_ERROR, 'reservation-multiple-identifiers',
                                 '%s has several identifiers (%s); Kea accepts exactly one'
                                 % (res.describe(), ', '.join(k for k in IDENTIFIER_KEYS if k in idents)),
                                 [res.describe()])
                record = (sub, index, data)
                for key in idents:
                    value = data[key]
                    if value.__class__ is not str and not isinstance(value, str):
                        res = self._reservation(sub, index, data)
                        self.add(SEVERITY_ERROR, 'bad-identifier',
                                 '%s: %s was read as %s %r, not as text; quote it in YAML (YAML 1.1 reads '
                                 'an unquoted 10:20:30:40:50:55 as a base-60 number)'
                                 % (res.describe(), key, type(value).__name__, value), [res.describe()])
                        continue
                    ident = (scope, key, _norm_hex(value))
                    seen = first_by_ident.get(ident)
                    if seen is None:
                        first_by_ident[ident] = record
                    else:
                        dup_ident.setdefault(ident, [seen]).append(record)

                if 'ip-address' not in data:
                    continue
                addr = ip_to_int(data['ip-address'])
                if addr is None:
                    res = self._reservation(sub, index, data)
                    self.add(SEVERITY_ERROR, 'bad-address', '%s: ip-address %s is not an IPv4 address'
                             % (res.describe(), _short(data['ip-address'])), [res.describe()])
                    continue
                seen = first_by_ip.get(addr)
                if seen is None:
                    first_by_ip[addr] = record
                else:
                    dup_ip.setdefault(addr, [seen]).append(record)
                if fast and sub_first <= addr <= sub_last:
                    # Inside its own subnet, which overlaps nothing: only its own pools matter.
                    if pool_find is not None:
                        pool = pool_find(addr)
                        if pool is not None:
                            res = self._reservation(sub, index, data, addr)
                            self.add(in_pool_severity, 'reservation-in-pool',
                                     '%s lies inside dynamic pool %s of its own subnet; reserve addresses '
                                     'outside the pools' % (res.describe(), pool.text),
                                     [res.describe(), pool.describe()])
                    continue
                self.check_reservation_place(self._reservation(sub, index, data, addr), in_pool_severity)

        for ident, group in dup_ident.items():
            scope, key = ident[0], ident[1]
            names = [self._reservation(*r).describe() for r in group]
            where = 'global reservations' if scope == 'global' else group[0][0].describe()
            self.add(SEVERITY_ERROR, 'reservation-duplicate-identifier',
                     'the same %s %s is reserved %d times in %s: %s'
                     % (key, group[0][2][key], len(group), where, _listing(names)), names)
        severity = SEVERITY_ERROR if unique_ips else SEVERITY_WARNING
        for addr, group in dup_ip.items():
            names = [self._reservation(*r).describe() for r in group]
            self.add(severity, 'reservation-duplicate-ip',
                     '%s is reserved %d times: %s' % (int_to_ip(addr), len(group), _listing(names)), names)

    def check_reservation_place(self, res, in_pool_severity):
        addr = res.addr
        own = res.subnet
        if own is None:
            if not self.subnet_index.containing(addr):
                self.add(SEVERITY_WARNING, 'reservation-outside-subnet',
                         '%s: %s is in no configured subnet, so no client can get it'
                         % (res.describe(), res.data['ip-address']), [res.describe()])
            pool = self.pool_index.find(addr)
            if pool is not None and in_pool_severity != 'ignore':
                self.add(in_pool_severity, 'reservation-in-pool',
                         '%s lies inside dynamic %s; reserve addresses outside the pools'
                         % (res.describe(), pool.describe()), [res.describe(), pool.describe()])
            return
        if own.first is None:
            return  # the subnet itself is malformed and already reported
        inside_own = own.first <= addr <= own.last
        others = [s for s in self.subnet_index.containing(addr) if s is not own]
        foreign = None
        for other in others:
            pool = other.pool_index.find(addr)
            if pool is not None:
                foreign = (other, pool)
                break
        if foreign is None and others and not inside_own:
            foreign = (others[0], None)
        if foreign is not None:
            other, pool = foreign
            tail = ''
            entries = [res.describe(), other.describe()]
            if pool is not None:
                tail = ', inside its dynamic pool %s: Kea can lease this address to another client' % pool.text
                entries.append(pool.describe())
            self.add(SEVERITY_ERROR, 'reservation-in-foreign-subnet',
                     '%s: %s lies in another subnet, %s%s'
                     % (res.describe(), res.data['ip-address'], other.describe(), tail), entries)
        elif not inside_own:
            self.add(SEVERITY_ERROR, 'reservation-outside-subnet',
                     '%s: %s is outside that subnet and in no other subnet'
                     % (res.describe(), res.data['ip-address']), [res.describe()])
        if inside_own and in_pool_severity != 'ignore':
            pool = own.pool_index.find(addr)
            if pool is not None:
                self.add(in_pool_severity, 'reservation-in-pool',
                         '%s lies inside dynamic pool %s of its own subnet; reserve addresses '
                         'outside the pools' % (res.describe(), pool.text),
                         [res.describe(), pool.describe()])

    # ---- high availability

    def hooks(self):
        hooks = self.dhcp4.get('hooks-libraries') or []
        return [h for h in hooks if isinstance(h, dict)] if isinstance(hooks, list) else []

    def check_ha(self):
        hooks = self.hooks()
        libs = [str(h.get('library', '')) for h in hooks]
        ha_hooks = [h for h in hooks if str(h.get('library', '')).endswith('libdhcp_ha.so')]
        if not ha_hooks:
            return
        if not any(lib.endswith('libdhcp_lease_cmds.so') for lib in libs):
            self.add(SEVERITY_ERROR, 'ha-lease-cmds-missing',
                     'libdhcp_ha.so is loaded without libdhcp_lease_cmds.so: HA peers cannot send '
                     'lease updates or sync leases', ['hooks-libraries'])
        db_type = str((self.dhcp4.get('lease-database') or {}).get('type', 'memfile')).lower()
        for rel_pos, rel in enumerate(_ha_relationships(ha_hooks[0])):
            self.check_ha_relationship(rel_pos, rel, db_type)

    def check_ha_relationship(self, rel_pos, rel, db_type):
        label = 'high-availability[%d]' % rel_pos
        peers = [p for p in (rel.get('peers') or []) if isinstance(p, dict)]
        names = [p.get('name') for p in peers]
        me = rel.get('this-server-name')
        if me not in names:
            self.add(SEVERITY_ERROR, 'ha-this-server-unknown',
                     '%s: this-server-name %s is not one of the peers (%s)'
                     % (label, _short(me), ', '.join(str(n) for n in names) or 'none'),
                     ['%s.this-server-name %s' % (label, me)])
        for what, values in (('name', names),
                             ('url', [str(p.get('url', '')).lower().rstrip('/') for p in peers])):
            seen = {}
            for pos, value in enumerate(values):
                seen.setdefault(value, []).append(pos)
            for value, positions in seen.items():
                if len(positions) > 1:
                    entries = ['%s.peers[%d] (%s)' % (label, i, peers[i].get('name')) for i in positions]
                    self.add(SEVERITY_ERROR, 'ha-duplicate-peer',
                             '%s: peers share the %s %s: %s' % (label, what, value, ', '.join(entries)),
                             entries)
        self.check_ha_roles(label, rel, peers)
        if db_type in ('postgresql', 'mysql'):
            on = [k for k in ('send-lease-updates', 'sync-leases') if rel.get(k, True) is not False]
            if on:
                self.add(SEVERITY_ERROR, 'ha-shared-db-updates',
                         '%s: lease-database is %s, shared by both peers, but %s not set to false: '
                         'both peers would write every lease to the same database'
                         % (label, db_type, ' and '.join(on) + (' are' if len(on) > 1 else ' is')),
                         ['%s.%s' % (label, k) for k in on] + ['lease-database type %s' % db_type])

    def check_ha_roles(self, label, rel, peers):
        mode = rel.get('mode')
        roles = [str(p.get('role')) for p in peers]
        desc = ', '.join('%s=%s' % (p.get('name'), p.get('role')) for p in peers) or 'no peers'
        entries = ['%s.peers %s' % (label, desc)]
        if mode not in HA_ROLES:
            self.add(SEVERITY_ERROR, 'ha-roles',
                     '%s: unknown mode %s (expected one of %s); peers: %s'
                     % (label, _short(mode), ', '.join(sorted(HA_ROLES)), desc), entries)
            return
        once, many = HA_ROLES[mode]
        problems = []
        for role in once:
            if roles.count(role) != 1:
                problems.append('needs exactly one %s, has %d' % (role, roles.count(role)))
        for role in sorted(set(roles) - set(once) - set(many)):
            problems.append('role %s is not valid in %s' % (role, mode))
        if problems:
            self.add(SEVERITY_ERROR, 'ha-roles',
                     '%s: mode %s %s; peers: %s' % (label, mode, '; '.join(problems), desc), entries)

    # ---- paths Kea refuses (2.4.2+, 2.6.3+, 3.x)

    def check_paths(self):
        paths = self.options.get('paths')
        if not paths:
            return
        enforced = kea_enforces_paths(self.options.get('kea_version'))
        severity = SEVERITY_ERROR if enforced else SEVERITY_WARNING
        why = ('Kea %s refuses this' % self.options.get('kea_version') if enforced
               else 'Kea 2.6.3+ refuses this (also 2.4.2+ and 3.x)')

        def check(value, key, what):
            directory = paths.get(key)
            if not directory or not isinstance(value, str) or '/' not in value:
                return  # bare names land in Kea's own directory
            if posixpath.dirname(posixpath.normpath(value)) != posixpath.normpath(directory):
                self.add(severity, 'path-restricted',
                         '%s %s is outside %s; %s' % (what, value, directory, why),
                         ['%s %s' % (what, value)])

        db = self.dhcp4.get('lease-database') or {}
        if isinstance(db, dict) and str(db.get('type', 'memfile')) == 'memfile':
            check(db.get('name'), 'lib', 'lease-database name')
        for pos, logger in enumerate(self.dhcp4.get('loggers') or []):
            if not isinstance(logger, dict):
                continue
            outputs = logger.get('output-options', logger.get('output_options')) or []
            for opos, out in enumerate(outputs):
                target = out.get('output') if isinstance(out, dict) else None
                if target in ('stdout', 'stderr', 'syslog') or str(target).startswith('syslog:'):
                    continue
                check(target, 'log', 'loggers[%d] (%s) output' % (pos, logger.get('name')))
        sockets = []
        if isinstance(self.dhcp4.get('control-socket'), dict):
            sockets.append(('control-socket', self.dhcp4['control-socket']))
        for pos, sock in enumerate(self.dhcp4.get('control-sockets') or []):
            if isinstance(sock, dict):
                sockets.append(('control-sockets[%d]' % pos, sock))
        for label, sock in sockets:
            if sock.get('socket-type', 'unix') == 'unix':
                check(sock.get('socket-name'), 'run', '%s socket-name' % label)
        for hook in self.hooks():
            lib = hook.get('library')
            if isinstance(lib, str) and lib.startswith('/'):
                check(lib, 'hooks', 'hook library')


def _unwrap(config):
    """Accept {"Dhcp4": {...}} too: passing the whole file is an easy slip."""
    if not isinstance(config, dict):
        return {}
    if len(config) == 1 and isinstance(config.get('Dhcp4'), dict):
        return config['Dhcp4']
    return config


def _ha_relationships(hook):
    params = hook.get('parameters') or {}
    rels = params.get('high-availability') if isinstance(params, dict) else None
    if isinstance(rels, dict):
        rels = [rels]
    return [r for r in (rels or []) if isinstance(r, dict)]


def lint_dhcp4(dhcp4, sources=None, options=None):
    """Lint the content of a ``Dhcp4`` object. Returns sorted Findings.

    ``sources`` maps ("subnet", id) and ("reservation", subnet_id, index)
    to where the entry was written (global reservations: subnet_id None).
    """
    return _Linter(dhcp4, sources, options).run()


# --------------------------------------------------------------------------
# HA pair: the peers' configs must match outside host-local keys

def _strip_local(dhcp4):
    clean = dict((k, v) for k, v in (dhcp4 or {}).items() if k not in HA_PAIR_LOCAL_KEYS)
    hooks = clean.get('hooks-libraries')
    if isinstance(hooks, list):
        new_hooks = []
        for hook in hooks:
            if isinstance(hook, dict) and str(hook.get('library', '')).endswith('libdhcp_ha.so'):
                hook = dict(hook)
                params = dict(hook.get('parameters') or {})
                rels = params.get('high-availability')
                if isinstance(rels, list):
                    params['high-availability'] = [
                        dict((k, v) for k, v in r.items() if k != 'this-server-name')
                        if isinstance(r, dict) else r for r in rels]
                hook['parameters'] = params
            new_hooks.append(hook)
        clean['hooks-libraries'] = new_hooks
    return clean


# Lists whose items carry an identity are compared by it, so one inserted
# subnet does not make every later index differ. Pools compare by position.
_LIST_KEYS = ('id', 'name', 'library', 'hw-address', 'client-id')


def _list_key(left, right):
    for key in _LIST_KEYS:
        ok = True
        for items in (left, right):
            if not all(isinstance(i, dict) and key in i for i in items):
                ok = False
                break
            values = [json.dumps(i[key], sort_keys=True, default=str) for i in items]
            if len(set(values)) != len(values):
                ok = False
                break
        if ok:
            return key
    return None


def _diff(left, right, path, out):
    if len(out) >= _MAX_PAIR_PATHS or left == right:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            sub = '%s.%s' % (path, key) if path else str(key)
            if key not in left or key not in right:
                out.append((sub, left.get(key, '<missing>'), right.get(key, '<missing>')))
            else:
                _diff(left[key], right[key], sub, out)
            if len(out) >= _MAX_PAIR_PATHS:
                return
        return
    if isinstance(left, list) and isinstance(right, list):
        key = _list_key(left, right) if left and right else None
        if key is None:
            for pos in range(max(len(left), len(right))):
                sub = '%s[%d]' % (path, pos)
                if pos >= len(left) or pos >= len(right):
                    out.append((sub, left[pos] if pos < len(left) else '<missing>',
                                right[pos] if pos < len(right) else '<missing>'))
                else:
                    _diff(left[pos], right[pos], sub, out)
                if len(out) >= _MAX_PAIR_PATHS:
                    return
            return
        lmap = dict((json.dumps(i[key], sort_keys=True, default=str), i) for i in left)
        rmap = dict((json.dumps(i[key], sort_keys=True, default=str), i) for i in right)
        for k in sorted(set(lmap) | set(rmap)):
            label = k[1:-1] if k.startswith('"') else k
            sub = '%s[%s=%s]' % (path, key, label)
            if k not in lmap or k not in rmap:
                out.append((sub, lmap.get(k, '<missing>'), rmap.get(k, '<missing>')))
            else:
                _diff(lmap[k], rmap[k], sub, out)
            if len(out) >= _MAX_PAIR_PATHS:
                return
        return
    out.append((path or '<root>', left, right))


def _show(path, value):
    if _SENSITIVE_KEY.search(path):
        return '<redacted>'
    if value == '<missing>':
        return 'missing'
    if isinstance(value, (dict, list)):
        return 'present'
    return _short(value, 40)


def lint_ha_pair(configs):
    """Check the Dhcp4 configs of the peers of one HA pair ({host: dhcp4})."""
    findings = []
    hosts = sorted(configs or {}, key=str)
    if len(hosts) < 2:
        return findings
    configs = dict((host, _unwrap(configs[host])) for host in hosts)
    ref = hosts[0]
    clean_ref = _strip_local(configs[ref])
    for other in hosts[1:]:
        diffs = []
        _diff(clean_ref, _strip_local(configs[other]), '', diffs)
        if diffs:
            shown = ', '.join('%s (%s: %s, %s: %s)' % (p, ref, _show(p, a), other, _show(p, b))
                              for p, a, b in diffs)
            findings.append(Finding(
                SEVERITY_ERROR, 'ha-pair-mismatch',
                'HA peers %s and %s must have the same config apart from host-local keys; first '
                'differences: %s' % (ref, other, shown),
                [ref, other] + [p for p, _a, _b in diffs]))

    rels_by_host = {}
    for host in hosts:
        hooks = configs[host].get('hooks-libraries') or []
        ha = [h for h in hooks if isinstance(h, dict) and str(h.get('library', '')).endswith('libdhcp_ha.so')]
        rels_by_host[host] = _ha_relationships(ha[0]) if ha else []
    count = max(len(r) for r in rels_by_host.values())
    for pos in range(count):
        label = 'high-availability[%d]' % pos
        names = {}
        peers = {}
        for host in hosts:
            rels = rels_by_host[host]
            if pos < len(rels):
                names[host] = rels[pos].get('this-server-name')
                peers[host] = [p.get('name') for p in rels[pos].get('peers') or [] if isinstance(p, dict)]
        by_name = {}
        for host in sorted(names):
            by_name.setdefault(names[host], []).append(host)
        for name, same in sorted(by_name.items(), key=lambda t: str(t[0])):
            if len(same) > 1:
                findings.append(Finding(
                    SEVERITY_ERROR, 'ha-pair-this-server',
                    '%s: hosts %s all say this-server-name %s; each peer needs its own name'
                    % (label, ', '.join(same), _short(name)),
                    ['%s this-server-name %s' % (h, name) for h in same]))
        for host in sorted(names):
            for other in sorted(peers):
                if other != host and names[host] not in peers[other]:
                    findings.append(Finding(
                        SEVERITY_ERROR, 'ha-pair-this-server',
                        '%s: %s calls itself %s, which is not in the peers list of %s (%s)'
                        % (label, host, _short(names[host]), other,
                           ', '.join(str(n) for n in peers[other]) or 'empty'),
                        ['%s this-server-name %s' % (host, names[host]), '%s peers' % other]))
    return sorted(findings, key=Finding.sort_key)
