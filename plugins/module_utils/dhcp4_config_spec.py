# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one argument spec of dhcpops.kea.dhcp4_config.

The action plugin validates all of it on the controller; the module validates
it again on the target and uses the part that concerns the target.  One
definition keeps the two and the documentation from drifting apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Options the module needs on the target; everything else is the controller's.
TARGET_OPTIONS = ('dest', 'validate', 'validate_command', 'validate_user', 'owner', 'group', 'mode',
                  'backup', 'backups_keep', 'src')

ARGUMENT_SPEC = dict(
    dest=dict(type='path', default='/etc/kea/kea-dhcp4.conf'),
    state=dict(type='str', choices=['present', 'rendered'], default='present'),
    kea_version=dict(type='str'),
    hooks_dir=dict(type='path'),
    interfaces=dict(type='list', elements='str'),
    subnets=dict(type='list', elements='dict', default=[]),
    subnets_label=dict(type='str', default='subnets'),
    reservations_files=dict(type='list', elements='path', default=[]),
    reservations_in_config=dict(type='bool', default=True),
    option_data=dict(type='list', elements='dict', default=[]),
    globals=dict(type='dict', default={}),
    lease_database=dict(type='dict', no_log=False),
    hosts_database=dict(type='dict', no_log=False),
    control_socket=dict(type='dict'),
    control_sockets=dict(type='list', elements='dict', default=[]),
    hooks_libraries=dict(type='list', elements='raw', default=[]),
    ha=dict(type='dict'),
    loggers=dict(type='list', elements='dict', default=[]),
    raw=dict(type='dict', default={}),
    lint=dict(type='dict', default={}, options=dict(
        reservation_in_pool=dict(type='str', choices=['error', 'warning', 'ignore'], default='warning'),
        fail_on_warnings=dict(type='bool', default=False),
        extra_subnet_keys=dict(type='list', elements='str', default=[], no_log=False),
    )),
    kea_paths=dict(type='dict'),
    validate=dict(type='bool', default=True),
    validate_command=dict(type='str', default='kea-dhcp4 -t %s'),
    validate_user=dict(type='str'),
    owner=dict(type='str', default='root'),
    group=dict(type='str'),
    mode=dict(type='raw', default='0640'),
    backup=dict(type='bool', default=True),
    backups_keep=dict(type='int', default=5),
    src=dict(type='path'),
)
