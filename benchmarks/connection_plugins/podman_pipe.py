# -*- coding: utf-8 -*-
# Copyright (c) dhcpops.kea contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' lab connection with pipelining (benchmarks/ansible_cost.py --connection pipe).

Not part of the collection: ansible_cost.py puts this folder on
ANSIBLE_CONNECTION_PLUGINS only when asked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: podman_pipe
short_description: The lab's containers through podman exec, with pipelining
description:
  - For dhcpops.kea's benchmarks only. containers.podman.podman runs every module in three or four podman calls
    (mount, a temporary directory, the module, its removal). This connection hands the module to the container's
    Python on standard input (C(podman exec -i)), one podman call per module, as SSH with pipelining does on a
    real site.
  - Files that modules such as copy and template transfer still go through C(podman cp).
author: dhcpops.kea contributors
options:
  remote_addr:
    description: The container's name or ID.
    default: inventory_hostname
    vars:
      - name: ansible_host
      - name: inventory_hostname
  remote_user:
    description: The user that runs commands in the container (the container's default when unset).
    vars:
      - name: ansible_user
  podman_extra_args:
    description: Extra arguments for every podman call.
    default: ''
    vars:
      - name: ansible_podman_extra_args
  podman_executable:
    description: The podman command.
    default: podman
    vars:
      - name: ansible_podman_executable
  pipelining:
    description: Hand modules over on standard input instead of copying them first.
    type: bool
    default: true
    vars:
      - name: ansible_pipelining
"""

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    """containers.podman.podman, with stdin attached to podman exec and no mount."""

    transport = 'podman_pipe'
    has_pipelining = True

    def _connect(self):
        # No `podman mount` per task: a pipelined module needs no file copied,
        # and put_file and fetch_file use `podman cp` without a mount point.
        ConnectionBase._connect(self)  # pylint: disable=protected-access
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        if not self._connected:
            self._connect()
        args = ['exec']
        if in_data is not None:
            args.append('-i')
        if self.user:
            args.extend(('--user', self.user))
        return self._podman(args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
