# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synthetic but realistic DHCPv4 sites for benchmarks.

A site of R reservations has R/25 subnets (/24 each, 10.x.y.0), one pool per
subnet (.100-.199), a router option, and 25 reservations per subnet outside
the pool (.10-.34), each with a unique MAC and a hostname: the shape of an
enterprise campus where every printer, phone and controller is reserved.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

RESERVATIONS_PER_SUBNET = 25


def subnet_prefix(index):
    return '10.%d.%d' % (index // 256, index % 256)


def make_site(reservations):
    n_subnets = max(1, reservations // RESERVATIONS_PER_SUBNET)
    subnets = []
    reservation_file = {'subnets': []}
    mac = 0
    for index in range(n_subnets):
        base = subnet_prefix(index)
        sid = index + 1
        subnets.append({
            'id': sid,
            'subnet': base + '.0/24',
            'pools': [{'pool': '%s.100 - %s.199' % (base, base)}],
            'option-data': [{'name': 'routers', 'data': base + '.1'}],
        })
        hosts = []
        for host in range(RESERVATIONS_PER_SUBNET):
            mac += 1
            hosts.append({
                'hw-address': '02:00:%02x:%02x:%02x:%02x' % (
                    (mac >> 24) & 255, (mac >> 16) & 255, (mac >> 8) & 255, mac & 255),
                'ip-address': '%s.%d' % (base, 10 + host),
                'hostname': 'host-%d-%d' % (sid, host),
            })
        reservation_file['subnets'].append({'id': sid, 'reservations': hosts})
    return subnets, reservation_file


def inline_subnets(subnets, reservation_file):
    """The naive layout: reservations written inside the subnets of one vars file."""
    by_id = dict((entry['id'], entry['reservations']) for entry in reservation_file['subnets'])
    out = []
    for subnet in subnets:
        new = dict(subnet)
        new['reservations'] = by_id.get(subnet['id'], [])
        out.append(new)
    return out


def dump_yaml(data, path):
    """Block-style YAML as people write it (PyYAML's emitter, C when available)."""
    import yaml
    dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
    with open(path, 'w') as handle:
        yaml.dump(data, handle, Dumper=dumper, default_flow_style=False, sort_keys=False, width=200)


def dump_json(data, path):
    with open(path, 'w') as handle:
        json.dump(data, handle)
