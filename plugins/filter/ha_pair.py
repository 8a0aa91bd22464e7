# -*- coding: utf-8 -*-
# Copyright: dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ha_pair_findings: lint the rendered configurations of one HA pair as a whole.

Each peer's own lint (dhcp4_config) sees one file; only the pair shows that
the peers disagree (a subnet on one peer only, different timings) or that
two hosts claim the same this-server-name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six import string_types

from ansible_collections.dhcpops.kea.plugins.module_utils.kea_lint import lint_ha_pair


def ha_pair_findings(configs):
    """{host: rendered kea-dhcp4.conf (mapping or JSON text)} -> [finding, ...] (dicts)."""
    if not isinstance(configs, dict):
        raise AnsibleFilterError('ha_pair_findings expects a mapping of host name to configuration, got %s'
                                 % type(configs).__name__)
    parsed = {}
    for host, config in configs.items():
        if isinstance(config, string_types):
            try:
                config = json.loads(config)
            except ValueError as exc:
                raise AnsibleFilterError('ha_pair_findings: the configuration of %s is not JSON: %s'
                                         % (host, to_native(exc)))
        if not isinstance(config, dict):
            raise AnsibleFilterError('ha_pair_findings: the configuration of %s is not a mapping' % host)
        parsed[to_native(host)] = config
    return [finding.to_dict() for finding in lint_ha_pair(parsed)]


class FilterModule(object):

    def filters(self):
        return {'ha_pair_findings': ha_pair_findings}
