# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of dhcpops.kea.kea_reservations: reads the reservation files, records the changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dhcpops.kea.plugins.action.dhcp4_config import read_reservation_sets
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import ModelError, file_subnet_entries
from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import ReservationAction


def subnets_from_files(sets):
    """[(source, data)] of reservation files -> the module's ``subnets`` (id 0: global reservations)."""
    out = []
    for source, data in sets:
        for where, entry in file_subnet_entries(source, data):
            if isinstance(entry.get('id'), bool) or not isinstance(entry.get('id'), int) or entry['id'] < 1:
                raise ModelError('%s: id must be the subnet id, an integer from 1, got %r' % (where, entry.get('id')))
            out.append(dict(id=entry['id'], source=source, reservations=list(entry.get('reservations') or [])))
        if data.get('reservations'):
            out.append(dict(id=0, source=source + ': reservations', reservations=list(data['reservations'])))
    return out


class ActionModule(ReservationAction):

    MODULE = 'dhcpops.kea.kea_reservations'

    def prepare(self, args, task_vars):
        paths = args.pop('reservations_files', None)
        if paths is None:
            return args
        if args.get('subnets') is not None:
            raise AnsibleActionFail('kea_reservations: give reservations_files or subnets, not both')
        try:
            sets = read_reservation_sets(self, paths, task_vars)
            args['subnets'] = subnets_from_files(sets)
        except ModelError as exc:
            raise AnsibleActionFail('kea_reservations: %s. Nothing was changed.' % to_native(exc))
        return args

    def summary(self, module_result):
        return dict(counts=module_result.get('counts'), changes=module_result.get('changes'))
