# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading perfdhcp's final report: one parser for the molecule tests and the benchmarks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def perfdhcp_stats(output):
    """{'DISCOVER-OFFER': {'sent packets': N, 'received packets': N, 'drops': N, ...}, 'REQUEST-ACK': {...}}

    Only the "***Statistics for: <exchange>***" sections count; any other
    "***" heading ends a section, so later totals never overwrite them.
    """
    stats, section = {}, None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith('***Statistics for:'):
            section = stats.setdefault(line.strip('*').split(':', 1)[1].strip(), {})
        elif line.startswith('***'):
            section = None
        elif section is not None and ':' in line:
            key, value = line.split(':', 1)
            value = value.strip().split(' ')[0]
            try:
                section[key.strip()] = float(value) if '.' in value else int(value)
            except ValueError:
                pass
    return stats
