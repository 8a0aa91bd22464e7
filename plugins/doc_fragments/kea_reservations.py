# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the host_cmds modules kea_reservation and kea_reservations (fragment dhcpops.kea.kea_reservations)."""

    DOCUMENTATION = r'''
options:
  operation_target:
    description:
      - C(operation-target) sent with every reservation command (Kea 2.7.5 and later). Unset leaves Kea's default,
        which reaches the hosts database when one is configured.
    type: str
    choices: [memory, database, all, alternate]
  audit_log:
    description:
      - File on the controller to which every change made is appended, one JSON object per line - when, who (the
        Ansible user, or the AWX/Automation Controller user and job), which server, and each reservation before and
        after.
      - Checked for writing before anything is changed. Check mode records nothing.
    type: path
'''
