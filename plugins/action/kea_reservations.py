# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of dhcpops.kea.kea_reservations: reads the reservation files, records the changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dhcpops.kea.plugins.action.dhcp4_config import load_data_file
from ansible_collections.dhcpops.kea.plugins.module_utils.kea_config import (
    RESERVATION_FILE_KEYS, RESERVATION_FILE_SUBNET_KEYS, ModelError,
)
from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import ReservationAction


def subnets_from_files(sets):
    """[(source, data)] of reservation files -> the module's ``subnets`` (id 0: global reservations)."""
    out = []
    for source, data in sets:
        if not isinstance(data, dict):
            raise ModelError('%s must hold a mapping with subnets (and optionally reservations)' % source)
        unknown = sorted(set(data) - RESERVATION_FILE_KEYS)
        if unknown:
            raise ModelError("%s: unknown top-level key(s) %s; a reservations file holds 'subnets' and optionally "
                             "global 'reservations'" % (source, ', '.join(unknown)))
        for index, entry in enumerate(data.get('subnets') or []):
            where = '%s: subnets[%d]' % (source, index)
            if not isinstance(entry, dict):
                raise ModelError('%s must be a mapping of id and reservations' % where)
            unknown = sorted(set(entry) - RESERVATION_FILE_SUBNET_KEYS)
            if unknown:
                raise ModelError('%s: unknown key(s) %s (allowed: id, subnet, reservations, comment)'
                                 % (where, ', '.join(unknown)))
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
        sets = []
        try:
            for path in paths:
                try:
                    found = self._find_needle('files', path)
                except AnsibleError:
                    raise ModelError('reservations file %s not found (searched relative to the role files/ and the '
                                     'playbook directory)' % path)
                sets.append((path, load_data_file(found)))
            args['subnets'] = subnets_from_files(sets)
        except ModelError as exc:
            raise AnsibleActionFail('kea_reservations: %s. Nothing was changed.' % to_native(exc))
        return args

    def summary(self, module_result):
        return dict(counts=module_result.get('counts'), changes=module_result.get('changes'))
