# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of dhcpops.kea.kea_reservation: the audit record of each change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dhcpops.kea.plugins.plugin_utils.reservation_audit import ReservationAction


class ActionModule(ReservationAction):

    MODULE = 'dhcpops.kea.kea_reservation'

    def summary(self, module_result):
        after = module_result.get('after')
        return dict(changes=[dict(action=module_result.get('operation'), subnet_id=self._task.args.get('subnet_id'),
                                  before=module_result.get('before'),
                                  after=after if module_result.get('operation') != 'deleted' else None)])
